"""Text families: raw strings in, TextVectorization (training vocabulary, fixed in the config) inside.

- rnn: Embedding (masked) -> (Bi)GRU/LSTM/SimpleRNN, stacked 1-2 (a SimpleRNN trains with gradient clipping).
- hybrid: Embedding -> Conv1D -> MaxPooling1D -> GRU/LSTM/SimpleRNN (masked by the pooled token mask).
- cnn: Embedding -> parallel Conv1D of several kernel sizes -> global max pooling over real tokens
  (Kim 2014).
- dense: bag of word 1-2-grams (TF-IDF, multi-hot or counts) -> 0-2 dense layers: the n-gram MLP of Google's
  text-classification guide, the better model when samples / words per sample is under ~1,500.

Every family may add a linear "wide" branch (searched: "wide" = "tf_idf", "multi_hot" or "none"): a second
TextVectorization over word 1-2-grams, L2-normalised, feeding a linear layer whose logits are added to the
deep branch's (Cheng et al. 2016's wide & deep; on short snippets a bag of n-grams is a strong signal the
deep branch alone learns slowly).

The vocabularies, IDF weights and sequence length come from stats.text_stats, computed on the training
texts only, and are passed as constants (no ``adapt()``).
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.hypermodels import heads
from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.layers import L2Normalize, MaskedGlobalPooling1D, TokenMask
from archpick.hypermodels.rnn import recurrent_stack, recurrent_trial

KERNEL_SETS = {"3-4-5": (3, 4, 5), "2-3-4": (2, 3, 4), "3": (3,), "5": (5,)}
DEFAULT_LENGTH = 64
WIDE_MODES = ["tf_idf", "multi_hot", "none"]
STANDARDIZE = "lower_and_strip_punctuation"
WIDE_SCALE = 10.0  # norm of the wide branch's n-gram rows: at norm 1 its logits take ~15 epochs to grow
NGRAM_SCALE = 10.0  # norm of the n-gram MLP's rows, when normalised (see WIDE_SCALE)


def text_trial(
    body: dict[str, Any],
    *,
    embedding_dim: int,
    embedding_dropout: float,
    learning_rate: float,
    wide: str,
    wide_l2: float,
    dense_units: int = 0,
    dropout: float = 0.5,
) -> dict[str, Any]:
    """A hand-picked trial of an embedding family: the family's own values (`body`) between the embedding's
    and the shared head's and wide branch's (`_TextHyperModel.embed`, `build` and `wide`)."""
    return {
        "embedding_dim": embedding_dim,
        "embedding_dropout": embedding_dropout,
        **body,
        "dense_units": dense_units,
        "dropout": dropout,
        "learning_rate": learning_rate,
        "wide": wide,
        "wide_l2": wide_l2,
    }


def first_trial(body: dict[str, Any], *, embedding_dim: int = 64, learning_rate: float = 2e-3) -> dict[str, Any]:
    """The first trial's shared values (heavy dropout: ten thousand short texts overfit fast; TF-IDF wide
    branch) around `body`."""
    return text_trial(
        body,
        embedding_dim=embedding_dim,
        embedding_dropout=0.3,
        learning_rate=learning_rate,
        wide="tf_idf",
        wide_l2=1e-5,
    )


def second_trial(body: dict[str, Any], *, embedding_dim: int = 128, embedding_dropout: float = 0.4) -> dict[str, Any]:
    """The second trial's shared values (a multi-hot wide branch without L2, Adam at 1e-3) around `body`."""
    return text_trial(
        body,
        embedding_dim=embedding_dim,
        embedding_dropout=embedding_dropout,
        learning_rate=1e-3,
        wide="multi_hot",
        wide_l2=0.0,
    )


class _TextHyperModel(ArchHyperModel):
    """Shared input, vectoriser and embedding for the text families."""

    mask_zero = False

    def vocabulary(self) -> list[str]:
        return list(self.spec.stats.get("vocabulary") or ["[empty]"])

    def sequence_length(self) -> int:
        return int(self.spec.stats.get("output_sequence_length") or DEFAULT_LENGTH)

    def ngram_vocabulary(self) -> tuple[list[str], list[float]]:
        """Word 1-2-grams and their IDF weights for the wide branch."""
        grams = list(self.spec.stats.get("ngram_vocabulary") or ["[empty]"])
        idf = list(self.spec.stats.get("ngram_idf") or [1.0] * len(grams))
        return grams, idf

    def wide(self, hp: keras_tuner.HyperParameters, inputs):
        """Linear logits over L2-normalised word 1-2-gram features, or None.

        Registers "wide" and, when on, "wide_l2".
        """
        mode = hp.Choice("wide", WIDE_MODES, default="tf_idf")
        if mode == "none":
            return None
        l2 = hp.Choice("wide_l2", [0.0, 1e-5, 1e-4], default=1e-5, parent_name="wide", parent_values=WIDE_MODES[:2])
        features = L2Normalize(WIDE_SCALE, name="ngram_l2")(self.vectorize_ngrams(inputs, mode))
        regularizer = keras.regularizers.L2(l2) if l2 else None
        return layers.Dense(self.spec.n_outputs, kernel_regularizer=regularizer, dtype="float32", name="wide_logits")(
            features
        )

    def vectorize_ngrams(self, inputs, mode: str):
        """Word 1-2-gram vectors of the raw strings over the training n-gram vocabulary ("tf_idf", "multi_hot"
        or "count")."""
        grams, idf = self.ngram_vocabulary()
        return layers.TextVectorization(
            standardize=STANDARDIZE,
            split="whitespace",
            ngrams=2,
            output_mode=mode,
            vocabulary=grams,
            idf_weights=idf if mode == "tf_idf" else None,
            name="vectorize_ngrams",
        )(inputs)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Deep body and head logits plus the wide branch's logits, then the task's activation."""
        inputs, features = self.build_body(hp)
        units = hp.Choice("dense_units", [0, 64, 128, 256], default=128)
        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.2)
        x = features
        if units:
            x = layers.Dense(units, activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        logits = layers.Dense(self.spec.n_outputs, dtype="float32", name="deep_logits")(x)
        wide = self.wide(hp, inputs)
        if wide is not None:
            logits = layers.Add(name="logits")([logits, wide])
        outputs = heads.output_activation(logits, self.spec.task)
        model = keras.Model(inputs, outputs, name=self.name.replace("-", "_"))
        lr = hp.Float("learning_rate", 1e-4, 3e-3, sampling="log", default=1e-3)
        return heads.compile_model(model, self.spec.task, lr, loss=self.loss())

    def embed(self, hp: keras_tuner.HyperParameters):
        """(inputs, token ids, embedded tokens): string input of shape (batch,) -> (batch, length, dim).

        Registers "embedding_dim" and "embedding_dropout".
        """
        dim = hp.Choice("embedding_dim", [32, 64, 128], default=64)
        dropout = hp.Float("embedding_dropout", 0.0, 0.5, step=0.1, default=0.2)
        vocabulary = self.vocabulary()
        inputs = keras.Input(shape=(), dtype="string", name="text")
        tokens = layers.TextVectorization(
            standardize=STANDARDIZE,
            split="whitespace",
            output_mode="int",
            output_sequence_length=self.sequence_length(),
            vocabulary=vocabulary,
            name="vectorize",
        )(inputs)
        x = layers.Embedding(len(vocabulary) + 2, dim, mask_zero=self.mask_zero, name="embedding")(tokens)
        if dropout:
            x = layers.SpatialDropout1D(dropout)(x)
        return inputs, tokens, x


class TextRNNHyperModel(_TextHyperModel):
    """Masked embedding -> (bidirectional) GRU, LSTM or SimpleRNN stack."""

    family = "rnn"
    mask_zero = True

    def build_body(self, hp: keras_tuner.HyperParameters):
        inputs, _, x = self.embed(hp)
        x = recurrent_stack(x, hp, bidirectional_allowed=True, max_layers=2)
        return inputs, x

    def initial_hps(self) -> list[dict[str, Any]]:
        """A small BiGRU (64-d embeddings, 32 units, heavy dropout: ten thousand short texts overfit fast) with
        a TF-IDF wide branch, then a BiLSTM with 128-d embeddings and a multi-hot one."""
        first = first_trial(recurrent_trial("gru", 32, bidirectional=True))
        second = second_trial(recurrent_trial("lstm", 64, bidirectional=True, rnn_dropout=0.2))
        return [first, second]


class TextHybridHyperModel(_TextHyperModel):
    """Embedding -> Conv1D (local n-grams) -> MaxPooling1D -> LSTM/GRU (long-range order)."""

    family = "hybrid"

    def build_body(self, hp: keras_tuner.HyperParameters):
        filters = hp.Choice("filters", [32, 64, 128], default=64)
        kernel = hp.Choice("kernel", [3, 5], default=3)
        pool = hp.Choice("pool", [2, 3], default=2)
        inputs, tokens, x = self.embed(hp)
        pool = max(1, min(pool, self.sequence_length() // 2))
        x = layers.Conv1D(filters, kernel, padding="same", activation="relu")(x)
        if pool > 1:
            x = layers.MaxPooling1D(pool)(x)
        mask = TokenMask(pool, name="token_mask")(tokens)
        x = recurrent_stack(x, hp, bidirectional_allowed=True, mask=mask, max_layers=2)
        return inputs, x

    def initial_hps(self) -> list[dict[str, Any]]:
        """64 trigram filters, pool 2, a BiGRU of 32 units, TF-IDF wide branch; then wider filters, an LSTM and
        a multi-hot wide branch."""
        first = first_trial({"filters": 64, "kernel": 3, "pool": 2, **recurrent_trial("gru", 32, bidirectional=True)})
        second = second_trial(
            {"filters": 128, "kernel": 5, "pool": 2, **recurrent_trial("lstm", 32, bidirectional=True, rnn_dropout=0.2)}
        )
        return [first, second]


class TextCNNHyperModel(_TextHyperModel):
    """Embedding -> parallel Conv1D of several widths -> max over real tokens, concatenated."""

    family = "cnn"

    def build_body(self, hp: keras_tuner.HyperParameters):
        filters = hp.Choice("filters", [32, 64, 128], default=64)
        kernels = KERNEL_SETS[hp.Choice("kernels", list(KERNEL_SETS), default="3-4-5")]
        inputs, tokens, x = self.embed(hp)
        mask = TokenMask(1, name="token_mask")(tokens)
        branches = []
        for kernel in kernels:
            branch = layers.Conv1D(filters, kernel, padding="same", activation="relu")(x)
            branches.append(MaskedGlobalPooling1D("max")([branch, mask]))
        x = branches[0] if len(branches) == 1 else layers.Concatenate()(branches)
        return inputs, x

    def initial_hps(self) -> list[dict[str, Any]]:
        """Kim's CNN-rand recipe scaled down: 3-4-5 kernels x 64 filters, dropout 0.5, TF-IDF wide branch; then
        2-3-4 x 128 with a multi-hot one."""
        first = first_trial({"filters": 64, "kernels": "3-4-5"})
        second = second_trial({"filters": 128, "kernels": "2-3-4"})
        return [first, second]


NGRAM_MODES = ["tf_idf", "multi_hot", "count"]


class TextNgramHyperModel(_TextHyperModel):
    """Bag of word 1-2-grams -> optional L2 row normalisation -> dropout -> 0-2 dense layers -> output.

    No token order: every text is a vector over the training split's n-gram vocabulary (the wide branch's,
    from stats.ngram_stats), so the model is a linear classifier (0 hidden layers) or a small MLP on top.
    """

    family = "dense"

    def build_body(self, hp: keras_tuner.HyperParameters):
        """(inputs, features): string input of shape (batch,) -> (batch, n-grams + 1) float32 n-gram vector.

        Registers "ngram_mode" and "l2_normalize".
        """
        mode = hp.Choice("ngram_mode", NGRAM_MODES, default="tf_idf")
        normalize = hp.Boolean("l2_normalize", default=True)
        inputs = keras.Input(shape=(), dtype="string", name="text")
        x = self.vectorize_ngrams(inputs, mode)
        if normalize:
            x = L2Normalize(NGRAM_SCALE, name="ngram_l2")(x)
        else:  # multi_hot and count come out as int64
            x = layers.Rescaling(1.0, name="to_float")(x)
        return inputs, x

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """N-gram features, dropout, the hidden layers (L2 on the first dense layer), the task's output."""
        inputs, x = self.build_body(hp)
        depth = hp.Int("hidden_layers", 0, 2, default=2)
        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.2)
        l2 = hp.Choice("l2", [0.0, 1e-6, 1e-5, 1e-4], default=0.0)
        units = hp.Choice("units", [32, 64, 128], default=64, parent_name="hidden_layers", parent_values=[1, 2])
        regularizer = keras.regularizers.L2(l2) if l2 else None
        if dropout:
            x = layers.Dropout(dropout, name="ngram_dropout")(x)
        for i in range(depth):
            x = layers.Dense(
                units, activation="relu", kernel_regularizer=regularizer if i == 0 else None, name=f"hidden_{i + 1}"
            )(x)
            if dropout:
                x = layers.Dropout(dropout)(x)
        # a linear model (no hidden layer): the output layer is the n-gram layer, and L2 falls on it
        outputs = heads.output(x, self.spec.task, self.spec.n_outputs, regularizer if depth == 0 else None)
        model = keras.Model(inputs, outputs, name=self.name.replace("-", "_"))
        lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
        return heads.compile_model(model, self.spec.task, lr, loss=self.loss())

    def initial_hps(self) -> list[dict[str, Any]]:
        """The guide's n-gram MLP (TF-IDF bigrams, two layers of 64, dropout 0.2, Adam 1e-3), then a linear
        model on L2-normalised TF-IDF (logistic regression trained by Adam, with an L2 penalty)."""
        first = {
            "ngram_mode": "tf_idf",
            "l2_normalize": True,
            "hidden_layers": 2,
            "units": 64,
            "dropout": 0.2,
            "l2": 0.0,
            "learning_rate": 1e-3,
        }
        second = {
            "ngram_mode": "tf_idf",
            "l2_normalize": True,
            "hidden_layers": 0,
            "dropout": 0.0,
            "l2": 1e-5,
            "learning_rate": 3e-3,
        }
        return [first, second]
