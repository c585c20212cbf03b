"""Linear family for tables: the dense family's preprocessing (imputation, standardisation, missing-value
indicators; `DenseHyperModel._inputs`, unchanged) followed by one Dense output layer, the model a ridge or
logistic regression baseline fits. Tables are where linear models most often beat a network (diabetes: ridge
R² 0.31 against the MLP's 0.05; iris: logistic regression 0.97 against 0.87), so the flowchart races this
family against the dense network on every table.

Hyperparameter "structure" chooses between two models on the same preprocessed features:

- "linear": features -> Dense (softmax for classification; for regression the base class appends the
  target_units rescaling). Hyperparameter "solver":
  - "ridge": solved in closed form (archpick.ridge: ridge regression, its penalty chosen by exact leave-one-out
    error; one-hot {-1, 1} targets and a fitted softmax temperature for classes). The preprocessing ends in a
    layer named `cached_fit.FIXED_OUTPUT`, so cached_fit computes the features once and solves the head; the
    trial is deterministic and takes seconds. Offered only when nothing in the preprocessing trains (an
    embedding of a many-valued column does) and the training split has at most ridge.MAX_SAMPLES rows.
  - "gradient": trained by Adam with an L2 penalty on the kernel (tuned: "l2", "learning_rate").
- "wide_deep": wide-and-deep (Cheng et al. 2016): the dense family's MLP (its own hyperparameters: layers,
  width, shape, batch_norm, hidden_dropout) and a linear path with an L2 penalty ("wide_l2") read the same
  preprocessed features; their output logits are summed before the output activation and trained jointly.

Wide-and-deep is a value of "structure" in this family rather than a family of its own: it contains the linear
model (its wide path) and the race on a table stays two legs, dense network against linear models, each scored
on the same folds in the small-data regime. A solved ridge winner is deterministic, so its small-data ensemble
is its fold models and its refit (selection.py), not seed refits.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick import ridge
from archpick.cached_fit import FIXED_OUTPUT
from archpick.hypermodels import heads
from archpick.hypermodels.dense import DenseHyperModel

STRUCTURES = ["linear", "wide_deep"]
SOLVERS = ["ridge", "gradient"]
L2_STRENGTHS = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]


class LinearHyperModel(DenseHyperModel):
    """A linear model (ridge in closed form, or L2 by gradient) or wide-and-deep on the dense family's
    preprocessing (see the module docstring)."""

    family = "linear"
    _front_fixed: bool | None = None

    def _inputs(self):
        """The dense family's preprocessing, unchanged; its output is kept for the wide path."""
        inputs, features = super()._inputs()
        self._preprocessed = features
        return inputs, features

    def solvers(self) -> list[str]:
        """The linear model's solvers: ridge only when nothing in the preprocessing trains (an embedding of a
        many-valued column does) and the training split is small enough for the closed form; else the linear
        layer is trained by gradient, with the preprocessing."""
        if self._front_fixed is None:
            inputs, features = self._inputs()
            self._front_fixed = not keras.Model(inputs, features).trainable_weights
        return SOLVERS if self._front_fixed and self.spec.n_train <= ridge.MAX_SAMPLES else ["gradient"]

    def build_body(self, hp: keras_tuner.HyperParameters):
        """(inputs, features): the preprocessed features ending in FIXED_OUTPUT for the linear model, or
        (wide features, deep MLP output) for wide-and-deep."""
        # Registered before base.build's own "learning_rate" (which then reuses this one): a linear layer
        # trained by Adam wants up to 1e-1.
        hp.Float("learning_rate", 1e-4, 1e-1, sampling="log", default=1e-2)
        if hp.Choice("structure", STRUCTURES, default="linear") == "linear":
            fixed = self.solvers() == SOLVERS
            inputs, features = self._inputs()
            if fixed:  # nothing before the output layer trains: cached_fit computes it once, fits only the head
                features = layers.Activation("linear", name=FIXED_OUTPUT)(features)
            return inputs, features
        with hp.conditional_scope("structure", ["wide_deep"]):
            inputs, deep = super().build_body(hp)  # the dense family's MLP (calls self._inputs once)
        return inputs, (self._preprocessed, deep)

    def head(self, hp: keras_tuner.HyperParameters, x):
        """One Dense output layer (linear), or the wide and deep logits summed (wide_deep)."""
        if hp.Choice("structure", STRUCTURES, default="linear") == "linear":
            with hp.conditional_scope("structure", ["linear"]):
                regularizer = None  # ridge: the closed form applies its own penalty, chosen by leave-one-out
                solvers = self.solvers()
                if hp.Choice("solver", solvers, default=solvers[0]) == "gradient":
                    with hp.conditional_scope("solver", ["gradient"]):
                        regularizer = keras.regularizers.L2(hp.Choice("l2", L2_STRENGTHS, default=1e-3))
            return heads.output(x, self.spec.task, self.spec.n_outputs, kernel_regularizer=regularizer)
        wide, deep = x
        with hp.conditional_scope("structure", ["wide_deep"]):
            l2 = hp.Choice("wide_l2", L2_STRENGTHS, default=1e-3)
        n = self.spec.n_outputs
        wide_logits = layers.Dense(n, kernel_regularizer=keras.regularizers.L2(l2), name="wide")(wide)
        deep_logits = layers.Dense(n, name="deep")(deep)
        summed = layers.Add(name="wide_plus_deep")([wide_logits, deep_logits])
        return heads.output_activation(summed, self.spec.task)

    def solved(self, hp: keras_tuner.HyperParameters) -> bool:
        """The ridge solver is a closed form (cached_fit, archpick.ridge): deterministic, no seed refits."""
        return (
            hp.values.get("structure", "linear") == "linear" and hp.values.get("solver", self.solvers()[0]) == "ridge"
        )

    def initial_hps(self) -> list[dict[str, Any]]:
        """Ridge in closed form (seconds, the baseline's own model), wide-and-deep on the dense family's table
        default (128-64, light dropout), then the linear model trained by Adam with L2 1e-3."""
        ridge_trial = {"structure": "linear", "solver": "ridge"}
        wide_deep = {
            "structure": "wide_deep",
            "layers": 2,
            "width": 128,
            "shape": "shrinking",
            "batch_norm": False,
            "hidden_dropout": 0.1,
            "wide_l2": 1e-3,
            "learning_rate": 2e-3,
        }
        gradient = {"structure": "linear", "solver": "gradient", "l2": 1e-3, "learning_rate": 1e-2}
        return [ridge_trial, wide_deep, gradient] if self.solvers() == SOLVERS else [wide_deep, gradient]
