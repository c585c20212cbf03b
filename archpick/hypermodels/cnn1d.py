"""1-D CNN family for NaN-padded sequences: FCN/ResNet-style Conv1D stacks with batch norm and global
average pooling over the valid steps only (Wang et al. 2017, "Time series classification from scratch")."""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.layers import ApplyMask, MaskedGlobalPooling1D, MaskedStandardize, StepMask

KERNELS = {"8-5-3": (8, 5, 3), "5-5-5": (5, 5, 5), "3-3-3": (3, 3, 3)}


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


class SequenceCNNHyperModel(ArchHyperModel):
    """FCN (one convolution per block) or ResNet-style (three per block, with shortcuts) 1-D CNN."""

    family = "cnn"
    variant = "1-D CNN (FCN/ResNet-style)"

    def build_body(self, hp: keras_tuner.HyperParameters):
        features = int(self.spec.input_spec["shape"][-1])
        stats = self.spec.stats
        blocks = hp.Int("blocks", 1, 3, default=3)
        filters = hp.Choice("filters", [32, 64, 128], default=64)
        kernels = KERNELS[hp.Choice("kernels", list(KERNELS), default="8-5-3")]
        residual = hp.Boolean("residual", default=False)
        pooling = hp.Choice("pooling", ["avg", "max"], default="avg")

        inputs = keras.Input(shape=(None, features), dtype="float32", name="sequence")
        x = MaskedStandardize(stats.get("mean", [0.0] * features), stats.get("std", [1.0] * features),
                              mask_output=False, name="standardize")(inputs)
        mask = StepMask(name="step_mask")(inputs)
        mask_bool = StepMask(as_bool=True, name="step_mask_bool")(inputs)
        for i in range(blocks):
            width = filters * 2 if (blocks == 3 and i == 1) else filters  # FCN widths 1x-2x-1x
            if residual:
                shortcut = x
                for j, kernel in enumerate(kernels):
                    x = masked_conv(x, mask, mask_bool, width, kernel, activation=j < len(kernels) - 1)
                if shortcut.shape[-1] != width:
                    shortcut = layers.Conv1D(width, 1, padding="same", use_bias=False)(shortcut)
                    shortcut = layers.BatchNormalization()(shortcut, mask=mask_bool)
                x = layers.Activation("relu")(layers.Add()([x, shortcut]))
                x = ApplyMask()([x, mask])
            else:
                x = masked_conv(x, mask, mask_bool, width, kernels[min(i, len(kernels) - 1)])
        x = MaskedGlobalPooling1D(pooling, name="masked_pooling")([x, mask])
        return inputs, x

    def initial_hps(self) -> list[dict[str, Any]]:
        """The FCN baseline (three blocks, kernels 8-5-3, 64-128-64 filters), then a two-block ResNet."""
        first = {"blocks": 3, "filters": 64, "kernels": "8-5-3", "residual": False, "pooling": "avg",
                 "dense_units": 0, "dropout": 0.2, "learning_rate": 3e-3}
        second = {"blocks": 2, "filters": 32, "kernels": "8-5-3", "residual": True, "pooling": "avg",
                  "dense_units": 64, "dropout": 0.3, "learning_rate": 2e-3}
        return [first, second]

