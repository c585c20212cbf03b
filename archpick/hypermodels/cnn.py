"""2-D CNN family for image grids: plain, residual or depthwise-separable blocks, sized to the input."""

from __future__ import annotations

import math
from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.hypermodels.base import ArchHyperModel

MIN_POOL_SIDE = 4  # never pool a feature map smaller than this (an 8x8 image keeps a 2x2 map)
MAX_FLATTEN_FEATURES = 16_384  # beyond this, flatten would explode the head: use global pooling
STEM_ABOVE = 64  # inputs larger than this get a strided stem convolution
BN_MOMENTUM = 0.9  # Keras' 0.99 lags for hundreds of steps; small datasets see few steps per trial


def conv_block(x, filters: int, kernel: int, kind: str, batch_norm: bool, dims: int = 2):
    """Two convolutions of `kind` ("plain", "residual", "separable"), in 1-D or 2-D."""
    conv = {
        (2, "separable"): layers.SeparableConv2D,
        (1, "separable"): layers.SeparableConv1D,
        (2, "plain"): layers.Conv2D,
        (2, "residual"): layers.Conv2D,
        (1, "plain"): layers.Conv1D,
        (1, "residual"): layers.Conv1D,
    }[(dims, kind)]
    shortcut = x
    for i in range(2):
        x = conv(filters, kernel, padding="same", use_bias=not batch_norm)(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        if kind != "residual" or i == 0:
            x = layers.Activation("relu")(x)
    if kind == "residual":
        if shortcut.shape[-1] != filters:
            point = layers.Conv2D if dims == 2 else layers.Conv1D
            shortcut = point(filters, 1, padding="same")(shortcut)
        x = layers.Activation("relu")(layers.Add()([x, shortcut]))
    return x


class CNNHyperModel(ArchHyperModel):
    """Image CNN. Takes raw uint8 pixels of any size; resizing, rescaling and augmentation are inside."""

    family = "cnn"

    def max_blocks(self) -> int:
        height, width, _ = self.spec.input_spec["shape"]
        side = min(height, width)
        side = side // 2 if side > STEM_ABOVE else side
        pools = max(int(math.log2(max(side, 1) / (MIN_POOL_SIDE / 2))), 1)
        return max(2, min(5, pools + 1))

    def build_body(self, hp: keras_tuner.HyperParameters):
        height, width, channels = self.spec.input_spec["shape"]
        inputs = keras.Input(shape=(None, None, channels), dtype="uint8", name="image")
        x = layers.Resizing(height, width, name="resize")(inputs)
        x = layers.Rescaling(1.0 / 255, name="rescale")(x)
        if hp.Choice("augment", ["none", "light"], default="none") == "light":
            x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(x)
            x = layers.RandomRotation(0.04, fill_mode="constant")(x)
            x = layers.RandomZoom(0.1, fill_mode="constant")(x)
        kind = hp.Choice("block", ["plain", "residual", "separable"], default="plain")
        blocks = hp.Int("blocks", 1, self.max_blocks(), default=2)
        filters = hp.Choice("filters", [16, 32, 64], default=32)
        kernel = hp.Choice("kernel", [3, 5], default=3)
        batch_norm = hp.Boolean("batch_norm", default=True)
        side = min(height, width)
        if side > STEM_ABOVE:
            x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu", name="stem")(x)
            side = (side + 1) // 2
        for i in range(blocks):
            x = conv_block(x, min(filters * 2**i, 256), kernel, kind, batch_norm)
            if side >= MIN_POOL_SIDE:
                x = layers.MaxPooling2D(2)(x)
                side //= 2
        pooling = hp.Choice("pooling", ["global_avg", "flatten"], default="global_avg")
        if pooling == "flatten" and math.prod(x.shape[1:]) <= MAX_FLATTEN_FEATURES:
            x = layers.Flatten()(x)
        else:
            x = layers.GlobalAveragePooling2D()(x)
        return inputs, x

    def initial_hps(self) -> list[dict[str, Any]]:
        """A small VGG-style net that is known to do well on small images, then a residual one."""
        height, width, _ = self.spec.input_spec["shape"]
        small = min(height, width) <= 32
        first = {"block": "plain", "blocks": 2, "filters": 32, "kernel": 3, "batch_norm": True,
                 "pooling": "flatten" if small else "global_avg", "dense_units": 128, "dropout": 0.3,
                 "learning_rate": 2e-3, "augment": "none"}
        second = {"block": "residual", "blocks": min(3, self.max_blocks()), "filters": 32, "kernel": 3,
                  "batch_norm": True, "pooling": "global_avg", "dense_units": 0, "dropout": 0.2,
                  "learning_rate": 1e-3, "augment": "light" if not small else "none"}
        return [first, second]
