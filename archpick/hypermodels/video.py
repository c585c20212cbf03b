"""Video families: a per-frame CNN under TimeDistributed, then time handled by an RNN, a ConvLSTM or a mean.

The model takes a raw uint8 clip batch of shape (batch, T, S, S, 3) (T and S come from the data's
input_spec) and does its own preprocessing (rescaling, optional frame differences), so the exported
SavedModel takes the clips `decode_clip` returns.

Two families:

- `VideoHybridHyperModel` ("hybrid"): frame CNN -> LSTM/GRU (optionally bidirectional), or ConvLSTM2D over
  the frame CNN's feature maps. The flowchart's pick for a sequence of grids.
- `FrameCNNHyperModel` ("cnn"): the same frame CNN, then an average over time, which ignores the order of
  the frames. The runner-up: when it does as well as the hybrid, the task did not need time.

The "motion" option feeds the frame CNN each frame together with its difference to the previous frame
(built from stock layers: Cropping3D and Subtract, so the model saves and reloads without custom code).
Camera pans move the picture by several pixels per frame; a CNN that sees a frame and its temporal
difference side by side can tell the direction locally, which a CNN on single frames cannot.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.datasets.inputspec import InputSpec
from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.rnn import CELLS

MIN_MAP_SIDE = 4  # the frame CNN never pools a feature map below this side
MAX_FLATTEN_FEATURES = 4_096  # per-frame features kept when the frame CNN's map is flattened
MAX_BLOCKS = 4
WORK_SIDE = 16  # the hand-picked trials average frames down to about this side before the convolutions


def _clip_shape(spec_in: InputSpec) -> tuple[int, int, int]:
    """(T, S, channels) of the input_spec."""
    shape = list(spec_in.shape)
    frames = int(spec_in.frames or shape[0])
    size = int(spec_in.size or shape[1])
    channels = int(shape[-1]) if len(shape) == 4 else 3
    return frames, size, channels


def max_blocks(size: int) -> int:
    """Conv blocks (each followed by a 2x pool) the frame side allows, keeping maps >= MIN_MAP_SIDE."""
    pools = int(math.log2(max(size, 1) / MIN_MAP_SIDE)) if size >= MIN_MAP_SIDE else 0
    return max(1, min(MAX_BLOCKS, pools))


def default_downsample(size: int) -> int:
    """Input pooling that brings frames to about WORK_SIDE pixels (1, 2 or 4)."""
    return max(d for d in (1, 2, 4) if d == 1 or size // d >= WORK_SIDE)


def frame_inputs(hp: keras_tuner.HyperParameters, spec_in: InputSpec, motion_choice: bool):
    """The raw clip input, rescaled to [0, 1]; with motion, each frame stacked with its difference.

    Args:
        hp: Hyperparameters ("motion" is read only when `motion_choice`).
        spec_in: The Bundle's input_spec (frames, size, channels).
        motion_choice: Offer frame differences (only the order-aware family does).

    Returns:
        (inputs, x) where x has shape (batch, T', S, S, C'): T' = T - 1 and C' = 2C with differences.
    """
    frames, size, channels = _clip_shape(spec_in)
    inputs = keras.Input(shape=(frames, size, size, channels), dtype="uint8", name="clip")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    if motion_choice and frames >= 2 and hp.Choice("motion", ["none", "diff"], default="diff") == "diff":
        current = layers.Cropping3D(((1, 0), (0, 0), (0, 0)), name="frames_from_second")(x)
        previous = layers.Cropping3D(((0, 1), (0, 0), (0, 0)), name="frames_to_last_but_one")(x)
        change = layers.Subtract(name="frame_difference")([current, previous])
        x = layers.Concatenate(axis=-1, name="frame_and_difference")([current, change])
    return inputs, x


def frame_cnn(hp: keras_tuner.HyperParameters, x, size: int):
    """The per-frame CNN, each convolution and pooling under TimeDistributed (weights shared over frames).

    Layers are wrapped one by one rather than as a nested model: a nested model with BatchNormalization
    under TimeDistributed gave different outputs in graph mode (fit/predict) than eagerly and in the
    exported SavedModel (TF 2.21, Keras 3.15). BatchNormalization and activations act on (batch, T, h, w, c)
    directly.

    Args:
        hp: Hyperparameters: downsample, block, blocks, filters, kernel, batch_norm.
        x: Frames, shape (batch, T, S, S, C).
        size: Frame side S.

    Returns:
        (feature maps of shape (batch, T, s, s, c), the maps' side s).
    """
    kind = hp.Choice("block", ["plain", "residual"], default="plain")
    blocks = hp.Int("blocks", 1, max_blocks(size), default=min(2, max_blocks(size)))
    filters = hp.Choice("filters", [8, 16, 32, 64], default=16)
    kernel = hp.Choice("kernel", [3, 5], default=3)
    batch_norm = hp.Boolean("batch_norm", default=True)
    downsample = hp.Choice("downsample", [1, 2, 4], default=default_downsample(size))
    side = size
    if downsample > 1 and size // downsample >= MIN_MAP_SIDE:
        x = layers.TimeDistributed(layers.AveragePooling2D(downsample), name="downsample")(x)
        side //= downsample
    for i in range(blocks):
        width = min(filters * 2**i, 256)
        shortcut = x
        for j in range(2):
            x = layers.TimeDistributed(
                layers.Conv2D(width, kernel, padding="same", use_bias=not batch_norm), name=f"frame_conv{i + 1}_{j + 1}"
            )(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"frame_bn{i + 1}_{j + 1}")(x)
            if kind != "residual" or j == 0:
                x = layers.Activation("relu")(x)
        if kind == "residual":
            if shortcut.shape[-1] != width:
                shortcut = layers.TimeDistributed(layers.Conv2D(width, 1), name=f"frame_proj{i + 1}")(shortcut)
            x = layers.Activation("relu")(layers.Add()([x, shortcut]))
        if side // 2 >= MIN_MAP_SIDE:
            x = layers.TimeDistributed(layers.MaxPooling2D(2), name=f"frame_pool{i + 1}")(x)
            side //= 2
    return x, side


def frame_maps(hp: keras_tuner.HyperParameters, input_spec: InputSpec, motion_choice: bool):
    """(inputs, per-frame feature maps, their side): the clip input and the per-frame CNN both video families
    begin with."""
    _, size, _ = _clip_shape(input_spec)
    inputs, x = frame_inputs(hp, input_spec, motion_choice=motion_choice)
    x, side = frame_cnn(hp, x, size)
    return inputs, x, side


def pool_frames(hp: keras_tuner.HyperParameters, x, side: int):
    """Per-frame feature maps of `side` x `side` -> per-frame vectors: global average, or flatten when small
    enough."""
    pooling = hp.Choice("frame_pool", ["global_avg", "flatten"], default="global_avg")
    if pooling == "flatten" and side * side * int(x.shape[-1]) <= MAX_FLATTEN_FEATURES:
        return layers.TimeDistributed(layers.Flatten(), name="frame_flatten")(x)
    return layers.TimeDistributed(layers.GlobalAveragePooling2D(), name="frame_pool")(x)


def first_frame_cnn(input_spec: InputSpec) -> dict[str, Any]:
    """The hand-picked frame CNN both video families start from: frames averaged down to ~16 px, two plain
    blocks of 16 filters (see VideoHybridHyperModel.initial_hps for the measurements behind it)."""
    _, size, _ = _clip_shape(input_spec)
    downsample = default_downsample(size)
    return {
        "downsample": downsample,
        "block": "plain",
        "filters": 16,
        "kernel": 3,
        "blocks": min(2, max_blocks(size // downsample)),
        "batch_norm": True,
        "dense_units": 64,
        "dropout": 0.2,
        "learning_rate": 2e-3,
    }


class VideoHybridHyperModel(ArchHyperModel):
    """Hybrid CNN-RNN for clips: per-frame CNN -> LSTM/GRU, or ConvLSTM2D over the frame maps."""

    family = "hybrid"

    def build_body(self, hp: keras_tuner.HyperParameters):
        inputs, x, side = frame_maps(hp, self.spec.input_spec, motion_choice=True)
        temporal = hp.Choice("temporal", ["rnn", "convlstm"], default="rnn")
        if temporal == "convlstm":
            filters = hp.Choice("convlstm_filters", [16, 32, 64], default=32)
            x = layers.ConvLSTM2D(filters, 3, padding="same", name="convlstm")(x)
            return inputs, layers.GlobalAveragePooling2D(name="map_pool")(x)
        x = pool_frames(hp, x, side)
        cell = CELLS[hp.Choice("rnn_cell", ["gru", "lstm"], default="gru")]
        rnn = cell(hp.Choice("rnn_units", [32, 64, 128], default=64), name="rnn")
        if hp.Boolean("bidirectional", default=False):
            rnn = layers.Bidirectional(rnn, name="bidirectional_rnn")
        return inputs, rnn(x)

    def initial_hps(self) -> list[dict[str, Any]]:
        """Frame differences into a small CNN on ~16 px frames, then a GRU; then a ConvLSTM in its place.

        Measured on data/clips (camera pans of 6-10 px per frame at 64 px, 2 CPU cores): averaging frames
        down to 16 px keeps a pan at ~2 px per frame, inside a 3x3 kernel's reach, and cuts an epoch from
        ~18 s to ~2 s; the frame difference next to the frame lets the CNN tell the direction locally, and
        the first trial passes 0.9 validation accuracy within ~10 epochs (~25 s).
        """
        common = {"motion": "diff", **first_frame_cnn(self.spec.input_spec)}
        first = {
            **common,
            "frame_pool": "global_avg",
            "temporal": "rnn",
            "rnn_cell": "gru",
            "rnn_units": 64,
            "bidirectional": False,
        }
        second = {**common, "temporal": "convlstm", "convlstm_filters": 32}
        return [first, second]


class FrameCNNHyperModel(ArchHyperModel):
    """Order-free baseline: the per-frame CNN, then the mean over time (frame order is ignored)."""

    family = "cnn"

    def build_body(self, hp: keras_tuner.HyperParameters):
        inputs, x, side = frame_maps(hp, self.spec.input_spec, motion_choice=False)
        x = pool_frames(hp, x, side)
        return inputs, layers.GlobalAveragePooling1D(name="time_mean")(x)

    def initial_hps(self) -> list[dict[str, Any]]:
        """The hybrid's first frame CNN, so the two differ only in how they treat time."""
        return [{**first_frame_cnn(self.spec.input_spec), "frame_pool": "global_avg"}]
