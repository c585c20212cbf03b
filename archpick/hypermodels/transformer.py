"""Transformer family: a small encoder over tokens (text) or steps (numeric sequences), attention instead of
recurrence.

- sequence: raw NaN-padded (steps, features) -> MaskedStandardize (as the RNN) -> Dense input projection.
- text: raw strings -> the text families' TextVectorization and Embedding (archpick/hypermodels/text.py),
  scaled by sqrt(dim) as in Vaswani et al. 2017, plus the same optional linear "wide" n-gram branch.

Then learned or sinusoidal positions (searched), 1-3 pre-norm encoder blocks (multi-head self-attention
with a padding mask, then a position-wise feed-forward layer, each with layer norm, dropout and a residual),
a final layer norm, average pooling over the real steps only, and the shared head.

Padding reaches nothing: every layer but attention works step by step, attention never looks at a padded
key (its mask comes from the raw input: a step is real when any feature is finite, a token when its id is not
0), and the pooling averages real steps only. So a sample gives the same output whatever it is padded to.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import keras_tuner
import numpy as np
from keras import layers, ops

from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.layers import PACKAGE, MaskedGlobalPooling1D, StepMask, TokenMask, standardized_sequence
from archpick.hypermodels.text import _TextHyperModel, first_trial, second_trial

POSITIONS = ["learned", "sinusoidal"]
SINUSOID_BASE = 10_000.0
DEFAULT_MAX_LENGTH = 512  # learned positions for sequences whose training statistics name no length


@keras.saving.register_keras_serializable(package=PACKAGE)
class PositionEncoding(keras.layers.Layer):
    """Add a position code to (batch, steps, dim) features.

    "learned": a trained (max_length, dim) table; steps past max_length share its last row, so a longer
    input than any seen in training still runs. "sinusoidal": the fixed sin/cos code of Vaswani et al.
    2017, defined for any length.

    Args:
        max_length: Rows of the learned table (the longest training sequence).
        mode: "learned" or "sinusoidal".
    """

    def __init__(self, max_length: int, mode: str = "learned", **kwargs):
        super().__init__(**kwargs)
        if mode not in POSITIONS:
            raise ValueError(f"mode must be one of {POSITIONS}, got {mode!r}")
        self.max_length = max(int(max_length), 1)
        self.mode = mode

    def build(self, input_shape):
        dim = int(input_shape[-1])
        if self.mode == "learned":
            self.table = self.add_weight(
                name="table", shape=(self.max_length, dim), initializer=keras.initializers.RandomNormal(stddev=0.02)
            )
        else:
            index = np.arange(dim)
            self._rates = (1.0 / SINUSOID_BASE ** (2 * (index // 2) / dim)).astype("float32")
            self._odd = index % 2 == 1

    def call(self, inputs):
        steps = ops.shape(inputs)[1]
        positions = ops.arange(0, steps, dtype="int32")
        if self.mode == "learned":
            code = ops.take(self.table, ops.minimum(positions, self.max_length - 1), axis=0)
        else:
            angles = ops.cast(positions, "float32")[:, None] * self._rates[None, :]
            code = ops.where(self._odd[None, :], ops.cos(angles), ops.sin(angles))
        return inputs + ops.cast(code, inputs.dtype)[None, :, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "mode": self.mode}


@keras.saving.register_keras_serializable(package=PACKAGE)
class KeyPaddingMask(keras.layers.Layer):
    """(batch, steps) bool mask of real steps -> (batch, steps, steps) attention mask: every query may attend
    to every real key and to no padded one."""

    def call(self, inputs):
        keys = ops.cast(inputs, "bool")[:, None, :]
        queries = ops.ones_like(ops.cast(inputs, "int32"))[:, :, None] > 0
        return ops.logical_and(queries, keys)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], input_shape[1])

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype="bool")


def encoder(x, mask, hp: keras_tuner.HyperParameters, max_length: int):
    """Positions, 1-3 pre-norm encoder blocks and masked average pooling: (batch, steps, dim) -> (batch, dim).

    Registers "positions", "encoder_layers", "heads", "ff_multiplier", "attention_dropout" and
    "encoder_dropout".

    Args:
        x: (batch, steps, dim) features, with no Keras mask attached.
        mask: (batch, steps) bool tensor, True at real steps.
        hp: Hyperparameters.
        max_length: Rows of a learned position table.
    """
    positions = hp.Choice("positions", POSITIONS, default="learned")
    depth = hp.Int("encoder_layers", 1, 3, default=2)
    heads = hp.Choice("heads", [2, 4], default=4)
    multiplier = hp.Choice("ff_multiplier", [2, 4], default=2)
    attention_dropout = hp.Float("attention_dropout", 0.0, 0.3, step=0.1, default=0.1)
    dropout = hp.Float("encoder_dropout", 0.0, 0.3, step=0.1, default=0.1)
    dim = int(x.shape[-1])
    x = PositionEncoding(max_length, positions, name="positions")(x)
    attention_mask = KeyPaddingMask(name="attention_mask")(mask)
    for i in range(depth):
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{i + 1}_attention_norm")(x)
        h = layers.MultiHeadAttention(
            heads, key_dim=max(dim // heads, 1), dropout=attention_dropout, name=f"block{i + 1}_attention"
        )(h, h, attention_mask=attention_mask)
        if dropout:
            h = layers.Dropout(dropout)(h)
        x = layers.Add(name=f"block{i + 1}_attention_residual")([x, h])
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{i + 1}_ff_norm")(x)
        h = layers.Dense(dim * multiplier, activation="gelu", name=f"block{i + 1}_ff_expand")(h)
        h = layers.Dense(dim, name=f"block{i + 1}_ff_project")(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
        x = layers.Add(name=f"block{i + 1}_ff_residual")([x, h])
    x = layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(x)
    return MaskedGlobalPooling1D("avg", name="masked_average")([x, mask])


class SequenceTransformerHyperModel(ArchHyperModel):
    """Transformer encoder over raw NaN-padded (steps, features) sequences of any length."""

    family = "transformer"

    def build_body(self, hp: keras_tuner.HyperParameters):
        """(inputs, pooled features). Registers "model_dim" and the encoder's hyperparameters."""
        dim = hp.Choice("model_dim", [32, 64, 128], default=64)
        features = int(self.spec.input_spec.shape[-1])
        stats = self.spec.stats
        inputs, x = standardized_sequence(stats, features, mask_output=False)
        mask = StepMask(as_bool=True, name="step_mask")(inputs)
        x = layers.Dense(dim, name="input_projection")(x)
        max_length = int(stats.get("max_length") or self.spec.input_spec.max_length or DEFAULT_MAX_LENGTH)
        return inputs, encoder(x, mask, hp, max_length)

    def initial_hps(self) -> list[dict[str, Any]]:
        """Two 64-d blocks with learned positions and light dropout (short multivariate series such as
        JapaneseVowels), then one wider block with sinusoidal positions, which need no training data."""
        first = {
            "model_dim": 64,
            "positions": "learned",
            "encoder_layers": 2,
            "heads": 4,
            "ff_multiplier": 2,
            "attention_dropout": 0.1,
            "encoder_dropout": 0.1,
            "dense_units": 64,
            "dropout": 0.2,
            "learning_rate": 1e-3,
        }
        second = {
            "model_dim": 128,
            "positions": "sinusoidal",
            "encoder_layers": 1,
            "heads": 4,
            "ff_multiplier": 2,
            "attention_dropout": 0.0,
            "encoder_dropout": 0.2,
            "dense_units": 0,
            "dropout": 0.3,
            "learning_rate": 2e-3,
        }
        return [first, second]


class TextTransformerHyperModel(_TextHyperModel):
    """The text families' tokeniser and embedding (unmasked: the attention mask comes from the token ids),
    scaled by sqrt(dim), then the Transformer encoder; the text families' head and wide n-gram branch."""

    family = "transformer"

    def build_body(self, hp: keras_tuner.HyperParameters):
        """(inputs, pooled features). Registers the embedding's and the encoder's hyperparameters."""
        inputs, tokens, x = self.embed(hp)
        x = layers.Rescaling(math.sqrt(int(x.shape[-1])), name="embedding_scale")(x)
        mask = TokenMask(1, name="token_mask")(tokens)
        return inputs, encoder(x, mask, hp, self.sequence_length())

    def initial_hps(self) -> list[dict[str, Any]]:
        """One 64-d block with learned positions and a TF-IDF wide branch (as the other text families' first
        trial: ten thousand short texts overfit fast), then two blocks with sinusoidal positions and a
        multi-hot one."""
        first = first_trial(
            {
                "positions": "learned",
                "encoder_layers": 1,
                "heads": 4,
                "ff_multiplier": 2,
                "attention_dropout": 0.1,
                "encoder_dropout": 0.1,
            },
            learning_rate=1e-3,
        )
        second = second_trial(
            {
                "positions": "sinusoidal",
                "encoder_layers": 2,
                "heads": 4,
                "ff_multiplier": 2,
                "attention_dropout": 0.1,
                "encoder_dropout": 0.2,
            },
            embedding_dim=64,
            embedding_dropout=0.2,
        )
        return [first, second]
