"""1-D CNN family for NaN-padded sequences, four kinds of block (hyperparameter "block"):

- "fcn": one Conv1D -> batch norm -> ReLU per block, 64-128-64 filters (Wang et al. 2017, "Time series
  classification from scratch").
- "resnet": three convolutions per block with a shortcut (same paper).
- "inception": InceptionTime modules (Ismail Fawaz et al. 2020): a 1x1 bottleneck, three parallel
  convolutions of lengths ~10/20/40 (scaled down to the longest training series) and a max-pool -> 1x1
  branch, concatenated, with a shortcut every three modules.
- "rocket": MiniRocket (Dempster et al. 2021): fixed dilated {-1, 2} kernels with biases fitted on the
  training split (stats.rocket_fit), proportion-of-positive-values pooling, standardised on the training
  features, then a linear L2-regularised output layer (no hidden layer, no dropout). Nothing before the
  output layer is trained, so a trial computes the transform once and trains the output layer on the cached
  features (archpick/cached_fit.py).

Every block masks the padding: padded steps are zeroed after each layer that mixes in a bias, batch norm
takes its statistics over valid steps only, and pooling is over valid steps only, so a sequence gives the
same output however much NaN padding follows it.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.cached_fit import FIXED_OUTPUT
from archpick.hypermodels import heads
from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.layers import ApplyMask, MaskedGlobalPooling1D, StepMask, standardized_sequence
from archpick.hypermodels.rocket import MaskedMaxPool1D, MiniRocketPPV
from archpick.hypermodels.stats import ROCKET_BUDGETS, ROCKET_SEED, rocket_dilations

ROCKET_COST = 40_000_000  # features x steps of the default MiniRocket transform

KERNELS = {"8-5-3": (8, 5, 3), "5-5-5": (5, 5, 5), "3-3-3": (3, 3, 3)}
BLOCKS = ["fcn", "resnet", "inception", "rocket"]
INCEPTION_KERNELS = (10, 20, 40)
INCEPTION_BOTTLENECK = 32


def masked_conv(x, mask, mask_bool, filters: int, kernel: int, activation: bool = True):
    """Conv1D -> BatchNorm (statistics over valid steps) -> ReLU, padded steps zeroed again.

    Zeroing after every convolution keeps padded steps equal to the convolution's own zero padding, so a
    sequence gives the same output however much NaN padding follows it.
    """
    x = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x, mask=mask_bool)
    if activation:
        x = layers.Activation("relu")(x)
    return ApplyMask()([x, mask])


def masked_shortcut(x, shortcut, mask, mask_bool):
    """Add a shortcut (projected by a 1x1 Conv1D + batch norm when the widths differ), ReLU, re-mask."""
    width = x.shape[-1]
    if shortcut.shape[-1] != width:
        shortcut = layers.Conv1D(width, 1, padding="same", use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut, mask=mask_bool)
    x = layers.Activation("relu")(layers.Add()([x, shortcut]))
    return ApplyMask()([x, mask])


def inception_kernels(max_length: int) -> tuple[int, ...]:
    """InceptionTime's kernel lengths (10, 20, 40), scaled down so the longest fits the longest series."""
    scale = min(1.0, max_length / max(INCEPTION_KERNELS))
    return tuple(max(1, round(k * scale)) for k in INCEPTION_KERNELS)


def inception_module(x, mask, mask_bool, filters: int, kernels: tuple[int, ...]):
    """One InceptionTime module: bottleneck -> parallel convolutions + max-pool branch -> BN -> ReLU.

    The bottleneck (1x1 Conv1D) is skipped on single-channel input. The max-pool branch pools over valid
    steps only (MaskedMaxPool1D). Padded steps are zeroed at the end.
    """
    branch_in = x
    if x.shape[-1] > 1:
        branch_in = layers.Conv1D(INCEPTION_BOTTLENECK, 1, use_bias=False)(x)
    branches = [layers.Conv1D(filters, k, padding="same", use_bias=False)(branch_in) for k in kernels]
    pooled = MaskedMaxPool1D(3)([x, mask])
    branches.append(layers.Conv1D(filters, 1, use_bias=False)(pooled))
    x = layers.Concatenate()(branches)
    x = layers.BatchNormalization()(x, mask=mask_bool)
    x = layers.Activation("relu")(x)
    return ApplyMask()([x, mask])


class SequenceCNNHyperModel(ArchHyperModel):
    """A 1-D CNN over NaN-padded sequences: FCN, ResNet, InceptionTime or MiniRocket blocks (see the module)."""

    family = "cnn"

    def build_body(self, hp: keras_tuner.HyperParameters):
        features = int(self.spec.input_spec.shape[-1])
        stats = self.spec.stats
        block = hp.Choice("block", BLOCKS, default="fcn")
        # Registered before base.build's own "learning_rate" (which then reuses this one) so the family's
        # range reaches the 1e-2 a MiniRocket linear head wants.
        hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)

        inputs, x = standardized_sequence(stats, features, mask_output=False)
        mask = StepMask(name="step_mask")(inputs)
        mask_bool = StepMask(as_bool=True, name="step_mask_bool")(inputs)
        if block == "rocket":
            with hp.conditional_scope("block", ["rocket"]):
                budget = hp.Choice("rocket_features", list(ROCKET_BUDGETS), default=self.default_rocket_features())
            fixed = self.rocket_transform(features, budget)([x, mask])
            # Adapted on the training features by cached_fit (identity when the cache does not apply).
            return inputs, layers.Normalization(name="rocket_scale")(fixed)
        if block == "inception":
            with hp.conditional_scope("block", ["inception"]):
                depth = hp.Choice("inception_depth", [3, 6], default=6)
                filters = hp.Choice("inception_filters", [16, 32], default=32)
            kernels = inception_kernels(int(stats.get("max_length") or max(INCEPTION_KERNELS)))
            shortcut = x
            for i in range(depth):
                x = inception_module(x, mask, mask_bool, filters, kernels)
                if i % 3 == 2:
                    x = masked_shortcut(x, shortcut, mask, mask_bool)
                    shortcut = x
            return inputs, MaskedGlobalPooling1D("avg", name="masked_pooling")([x, mask])

        with hp.conditional_scope("block", ["fcn", "resnet"]):
            blocks = hp.Int("blocks", 1, 3, default=3)
            filters = hp.Choice("filters", [32, 64, 128], default=64)
            kernels = KERNELS[hp.Choice("kernels", list(KERNELS), default="8-5-3")]
            pooling = hp.Choice("pooling", ["avg", "max"], default="avg")
        for i in range(blocks):
            width = filters * 2 if (blocks == 3 and i == 1) else filters  # FCN widths 1x-2x-1x
            if block == "resnet":
                shortcut = x
                for j, kernel in enumerate(kernels):
                    x = masked_conv(x, mask, mask_bool, width, kernel, activation=j < len(kernels) - 1)
                x = masked_shortcut(x, shortcut, mask, mask_bool)
            else:
                x = masked_conv(x, mask, mask_bool, width, kernels[min(i, len(kernels) - 1)])
        x = MaskedGlobalPooling1D(pooling, name="masked_pooling")([x, mask])
        return inputs, x

    def rocket_transform(self, channels: int, budget: int) -> MiniRocketPPV:
        """The MiniRocket layer for a feature budget, with the biases fitted on the training split.

        Without fitted biases (statistics from before they existed, or no valid training step) every bias
        is 0: the features are then the proportions of positive convolution outputs.
        """
        fit = (self.spec.stats.get("rocket") or {}).get("fits", {}).get(str(budget))
        if fit is None:
            length = int(self.spec.stats.get("max_length") or 1)
            dilations, per_dilation = rocket_dilations(length, budget)
            fit = {
                "dilations": dilations,
                "features_per_dilation": per_dilation,
                "biases": [0.0] * (84 * sum(per_dilation)),
            }
        seed = int((self.spec.stats.get("rocket") or {}).get("seed", ROCKET_SEED))
        return MiniRocketPPV(
            channels, fit["dilations"], fit["features_per_dilation"], fit["biases"], seed=seed, name=FIXED_OUTPUT
        )

    def head(self, hp: keras_tuner.HyperParameters, x):
        """The base head, except for MiniRocket: a linear L2-regularised output layer on the features."""
        if hp.Choice("block", BLOCKS, default="fcn") != "rocket":
            with hp.conditional_scope("block", ["fcn", "resnet", "inception"]):  # dense_units, dropout
                return super().head(hp, x)
        with hp.conditional_scope("block", ["rocket"]):
            regularizer = None  # ridge: the closed form applies its own penalty, chosen by leave-one-out
            if hp.Choice("rocket_head", ["ridge", "gradient"], default="ridge") == "gradient":
                with hp.conditional_scope("rocket_head", ["gradient"]):
                    regularizer = keras.regularizers.L2(hp.Choice("rocket_l2", [1e-4, 1e-3, 1e-2, 1e-1], default=1e-2))
        return heads.output(x, self.spec.task, self.spec.n_outputs, kernel_regularizer=regularizer)

    def solved(self, hp: keras_tuner.HyperParameters) -> bool:
        """MiniRocket's ridge head is solved in closed form (cached_fit, archpick.ridge)."""
        return hp.values.get("block") == "rocket" and hp.values.get("rocket_head", "ridge") == "ridge"

    def default_rocket_features(self) -> int:
        """The most features whose transform stays cheap: it is computed once per trial (and at every
        prediction), and its cost grows with features x steps (10,000 up to 4,000 steps, then fewer)."""
        length = int(self.spec.stats.get("max_length") or 1)
        return max((f for f in ROCKET_BUDGETS if f * length <= ROCKET_COST), default=min(ROCKET_BUDGETS))

    def initial_hps(self) -> list[dict[str, Any]]:
        """MiniRocket with its ridge head (solved in closed form, seconds), the FCN baseline, MiniRocket with a
        trained linear head (L2 1e-2 won on Coffee and PickupGestureWiimoteZ), then InceptionTime.

        The FCN is the earlier first trial (three blocks, kernels 8-5-3, 64-128-64 filters); the earlier
        second trial, a two-block ResNet, stays expressible as {"block": "resnet", "blocks": 2, "filters":
        32, "kernels": "8-5-3", "pooling": "avg", "dense_units": 64, "dropout": 0.3, "learning_rate": 2e-3}.
        Conditional values (rocket_features, inception_depth...) take their defaults.
        """
        rocket = {"block": "rocket", "rocket_head": "ridge"}
        fcn = {
            "block": "fcn",
            "blocks": 3,
            "filters": 64,
            "kernels": "8-5-3",
            "pooling": "avg",
            "dense_units": 0,
            "dropout": 0.2,
            "learning_rate": 3e-3,
        }
        rocket_trained = {"block": "rocket", "rocket_head": "gradient", "learning_rate": 1e-3}
        inception = {"block": "inception", "dense_units": 0, "dropout": 0.0, "learning_rate": 1e-3}
        return [rocket, fcn, rocket_trained, inception]
