"""2-D CNN family for image grids: plain, residual, Inception or MobileNetV2 inverted-residual blocks (their
one-line descriptions are in archpick/blocks.py), sized to the input."""

from __future__ import annotations

import math
from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.blocks import IMAGE_CNN_BLOCKS, names
from archpick.hypermodels.base import ArchHyperModel

MIN_POOL_SIDE = 4  # never pool a feature map smaller than this (an 8x8 image keeps a 2x2 map)
MAX_FLATTEN_FEATURES = 16_384  # beyond this, flatten would explode the head: use global pooling
STEM_ABOVE = 64  # inputs larger than this get a strided stem convolution
BN_MOMENTUM = 0.9  # Keras' 0.99 lags for hundreds of steps; small datasets see few steps per trial
EXPANSIONS = [2, 4, 6]  # inverted-residual expansion factors searched (MobileNetV2 uses 6)
MIN_BRANCH = 4  # fewest filters in one Inception branch
RELU6 = 6.0


def _normalise(x, batch_norm: bool):
    return layers.BatchNormalization(momentum=BN_MOMENTUM)(x) if batch_norm else x


def conv_block(x, filters: int, kernel: int, kind: str, batch_norm: bool):
    """Two convolutions, "plain" or "residual" (with a shortcut, 1x1-projected when the width changes)."""
    shortcut = x
    for i in range(2):
        x = _normalise(layers.Conv2D(filters, kernel, padding="same", use_bias=not batch_norm)(x), batch_norm)
        if kind != "residual" or i == 0:
            x = layers.Activation("relu")(x)
    if kind == "residual":
        if shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, padding="same")(shortcut)
        x = layers.Activation("relu")(layers.Add()([x, shortcut]))
    return x


def _conv_relu(x, filters: int, kernel: int, batch_norm: bool):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=not batch_norm)(x)
    return layers.Activation("relu")(_normalise(x, batch_norm))


def inception_block(x, filters: int, batch_norm: bool, factorise: bool):
    """GoogLeNet's Inception module: four parallel branches, concatenated on channels.

    Branch widths: 1x1, a quarter of `filters`; 1x1 reduce -> 3x3, a half; 1x1 reduce -> 5x5 (or, when
    `factorise`, two 3x3 of the same receptive field, as Inception-v3), an eighth; 3x3 max pool -> 1x1
    projection, an eighth. Each branch has at least MIN_BRANCH filters.

    Args:
        x: (batch, H, W, C) features.
        filters: The block's output width (more when the branches' floor applies).
        batch_norm: Batch norm after every convolution.
        factorise: Two stacked 3x3 convolutions instead of the 5x5.
    """
    quarter, half, eighth = (max(filters // d, MIN_BRANCH) for d in (4, 2, 8))
    one = _conv_relu(x, quarter, 1, batch_norm)
    three = _conv_relu(_conv_relu(x, max(half // 2, MIN_BRANCH), 1, batch_norm), half, 3, batch_norm)
    five = _conv_relu(x, eighth, 1, batch_norm)
    for kernel in (3, 3) if factorise else (5,):
        five = _conv_relu(five, eighth, kernel, batch_norm)
    pool = _conv_relu(layers.MaxPooling2D(3, strides=1, padding="same")(x), eighth, 1, batch_norm)
    return layers.Concatenate()([one, three, five, pool])


def inverted_residual(x, filters: int, kernel: int, expansion: int, batch_norm: bool):
    """MobileNetV2's bottleneck: 1x1 expansion to `expansion` x the input width with ReLU6, depthwise
    `kernel` x `kernel` with ReLU6, then a linear 1x1 projection to `filters` (no activation: ReLU on a narrow
    layer loses information); the input is added back when the widths match (stride 1 throughout).

    Args:
        x: (batch, H, W, C) features.
        filters: Output width.
        kernel: Depthwise kernel size.
        expansion: Width multiplier of the expansion layer.
        batch_norm: Batch norm after every convolution.
    """
    channels = int(x.shape[-1])
    h = layers.Conv2D(channels * expansion, 1, use_bias=not batch_norm)(x)
    h = layers.ReLU(RELU6)(_normalise(h, batch_norm))
    h = layers.DepthwiseConv2D(kernel, padding="same", use_bias=not batch_norm)(h)
    h = layers.ReLU(RELU6)(_normalise(h, batch_norm))
    h = _normalise(layers.Conv2D(filters, 1, use_bias=not batch_norm)(h), batch_norm)  # the linear bottleneck
    return layers.Add()([x, h]) if channels == filters else h


def block(
    x,
    kind: str,
    filters: int,
    kernel: int,
    batch_norm: bool,
    expansion: int | None = None,
    factorise: bool | None = None,
):
    """One block of `kind` (archpick/blocks.py); an inverted-residual block is two bottlenecks, the second
    always with its shortcut."""
    if kind == "inception":
        return inception_block(x, filters, batch_norm, bool(factorise))
    if kind == "inverted_residual":
        for _ in range(2):
            x = inverted_residual(x, filters, kernel, int(expansion or EXPANSIONS[-1]), batch_norm)
        return x
    return conv_block(x, filters, kernel, kind, batch_norm)


class CNNHyperModel(ArchHyperModel):
    """Image CNN. Takes raw uint8 pixels of any size; resizing, rescaling and augmentation are inside."""

    family = "cnn"

    def max_blocks(self) -> int:
        height, width, _ = self.spec.input_spec.shape
        side = min(height, width)
        side = side // 2 if side > STEM_ABOVE else side
        pools = max(int(math.log2(max(side, 1) / (MIN_POOL_SIDE / 2))), 1)
        return max(2, min(5, pools + 1))

    def build_body(self, hp: keras_tuner.HyperParameters):
        height, width, channels = self.spec.input_spec.shape
        inputs = keras.Input(shape=(None, None, channels), dtype="uint8", name="image")
        x = layers.Resizing(height, width, name="resize")(inputs)
        x = layers.Rescaling(1.0 / 255, name="rescale")(x)
        if hp.Choice("augment", ["none", "light"], default="none") == "light":
            x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(x)
            x = layers.RandomRotation(0.04, fill_mode="constant")(x)
            x = layers.RandomZoom(0.1, fill_mode="constant")(x)
        kind = hp.Choice("block", names(IMAGE_CNN_BLOCKS), default="plain")
        expansion = hp.Choice(
            "expansion", EXPANSIONS, default=6, parent_name="block", parent_values=["inverted_residual"]
        )
        factorise = hp.Boolean("factorise_5x5", default=True, parent_name="block", parent_values=["inception"])
        blocks = hp.Int("blocks", 1, self.max_blocks(), default=2)
        filters = hp.Choice("filters", [16, 32, 64], default=32)
        kernel = hp.Choice("kernel", [3, 5], default=3)
        batch_norm = hp.Boolean("batch_norm", default=True)
        side = min(height, width)
        if side > STEM_ABOVE:
            x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu", name="stem")(x)
            side = (side + 1) // 2
        elif kind == "inverted_residual":  # as MobileNetV2: a full convolution first, not 1-3 channels to expand
            x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name="stem")(x)
            x = layers.ReLU(RELU6)(_normalise(x, batch_norm))
        for i in range(blocks):
            x = block(x, kind, min(filters * 2**i, 256), kernel, batch_norm, expansion, factorise)
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
        height, width, _ = self.spec.input_spec.shape
        small = min(height, width) <= 32
        first = {
            "block": "plain",
            "blocks": 2,
            "filters": 32,
            "kernel": 3,
            "batch_norm": True,
            "pooling": "flatten" if small else "global_avg",
            "dense_units": 128,
            "dropout": 0.3,
            "learning_rate": 2e-3,
            "augment": "none",
        }
        second = {
            "block": "residual",
            "blocks": min(3, self.max_blocks()),
            "filters": 32,
            "kernel": 3,
            "batch_norm": True,
            "pooling": "global_avg",
            "dense_units": 0,
            "dropout": 0.2,
            "learning_rate": 1e-3,
            "augment": "light" if not small else "none",
        }
        return [first, second]
