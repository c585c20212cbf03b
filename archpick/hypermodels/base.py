"""The HyperModel contract every family implements, and the spec it is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import keras_tuner

from archpick import cached_fit
from archpick.datasets.inputspec import InputSpec
from archpick.hypermodels import heads


@dataclass
class ModelSpec:
    """What a HyperModel needs to know about the data, fixed before the search.

    Attributes:
        input_spec: The Bundle's input_spec (kind, shape, dtype, extras).
        task: "classification", "regression" or "forecasting".
        n_outputs: Classes, or 1 (regression), or the horizon (forecasting).
        stats: Statistics fitted on the training split only (means, scales, vocabulary).
        n_train: Training samples (sizes the search space where it matters).
        class_weight: Loss weight per class for imbalanced classification (archpick/imbalance.py), or None.
    """

    input_spec: InputSpec
    task: str
    n_outputs: int
    stats: dict[str, Any] = field(default_factory=dict)
    n_train: int = 0
    class_weight: dict[int, float] | None = None


class ArchHyperModel(keras_tuner.HyperModel):
    """A keras-tuner HyperModel for one family on one kind of input.

    Subclasses implement `build_body(hp, spec)` returning (inputs, features) and may override
    `initial_hps()`, the hand-picked first trials. Preprocessing lives inside the model, so the exported
    model takes raw inputs. `variant`, the short name in leaderboards, is set by `hypermodels.make` from the
    family's row in archpick/families.py.

    Args:
        spec: The ModelSpec.
    """

    family = ""
    variant = ""

    def __init__(self, spec: ModelSpec):
        super().__init__(name=f"{self.family}-{spec.input_spec.kind}", tunable=True)
        self.spec = spec

    def build_body(self, hp: keras_tuner.HyperParameters):
        """Return (inputs, features) for this family."""
        raise NotImplementedError

    def head(self, hp: keras_tuner.HyperParameters, x):
        """Optional dense layer and dropout, then the task's output layer."""
        units = hp.Choice("dense_units", [0, 64, 128, 256], default=128)
        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.2)
        if units:
            x = keras.layers.Dense(units, activation="relu")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
        return heads.output(x, self.spec.task, self.spec.n_outputs)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Build and compile the model for one set of hyperparameters."""
        inputs, features = self.build_body(hp)
        outputs = self.postprocess(self.head(hp, features), inputs)
        loss = self.loss()
        target = self.spec.stats.get(heads.TARGET_STATS)
        if self.spec.task == heads.REGRESSION and target:  # trained on standardised targets, served in units
            outputs, loss = heads.to_target_units(outputs, target), heads.StandardisedMSE(target["std"])
        model = keras.Model(inputs, outputs, name=self.name.replace("-", "_"))
        lr = hp.Float("learning_rate", 1e-4, 3e-3, sampling="log", default=1e-3)
        return heads.compile_model(model, self.spec.task, lr, loss=loss)

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs):
        """Train the model, with the spec's class weights; a fixed front (MiniRocket) is computed once and only
        the rest trains."""
        if self.spec.class_weight and "class_weight" not in kwargs:
            kwargs["class_weight"] = self.spec.class_weight
        return cached_fit.fit(model, *args, solve=self.solved(hp), **kwargs)

    def solved(self, hp: keras_tuner.HyperParameters) -> bool:
        """Whether this configuration's head is solved in closed form, not trained (then it is deterministic:
        refits with other seeds give the same model)."""
        return False

    def postprocess(self, outputs, inputs):
        """Map outputs back to the user's units (forecasters override this)."""
        return outputs

    def loss(self) -> str | None:
        """Loss override for non-classification tasks (None: the head's default)."""
        return None

    def initial_hps(self) -> list[dict[str, Any]]:
        """Hand-picked first trials (partial values; the rest take their defaults)."""
        return []
