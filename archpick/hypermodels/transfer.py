"""Transfer learning: a pretrained backbone with a new head, for images and, frame by frame, for video.

The backbone (archpick/backbone.py says where it comes from) is either a `keras.applications` network, built
with ``weights=None`` and loaded from its weights file here (Keras never downloads anything), or the feature
extractor of an earlier archpick image run (its model.keras up to the head). The model takes the same raw uint8
pixels as archpick's other image and video models: resizing to the backbone's side, grey to RGB, and the
applications' preprocess_input (as a layer) happen inside it, so the exported SavedModel takes raw pixels.

The search space:

- ``unfreeze_layers`` 0: the whole backbone frozen, only a new head trained. The backbone's output is the
  model's fixed front (`cached_fit.FIXED_OUTPUT`), so its features are computed once per trial and the head
  trains on them: an epoch costs a pass of the head, not of the backbone.
- ``unfreeze_layers`` k > 0: the top k layers with weights fine-tuned together with the head, at the head's
  learning rate times ``fine_tune_lr_scale`` (0.3 or 0.1). Batch normalisation stays frozen and runs in
  inference mode (the backbone is called with ``training=False``), as Keras's transfer-learning guide advises.
- the head's width and dropout (`ArchHyperModel.head`) and the learning rate.

Video: the backbone runs on every frame under TimeDistributed, then time is handled as in video.py: an
LSTM/GRU (the "hybrid" family) or the mean over frames (the "cnn" family).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
from keras import layers, ops

from archpick.backbone import BackboneSource, frozen_text
from archpick.cached_fit import FIXED_OUTPUT, TARGET_UNITS
from archpick.hypermodels.base import ArchHyperModel, ModelSpec
from archpick.hypermodels.layers import PACKAGE, ResizeImages
from archpick.hypermodels.rnn import CELLS
from archpick.hypermodels.video import _clip_shape

MIN_SIDE = 96  # applications see images at least this large (MobileNetV2's smallest ImageNet resolution)
MAX_SIDE = 224  # and at most this large (their ImageNet resolution)
APP_UNFREEZE = (5, 15)  # top layers with weights an application may fine-tune (5: about its last block)
FINE_TUNE_SCALES = [0.3, 0.1]  # fine-tuning learning rate = learning_rate x this
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)  # the "caffe" mode of keras.applications' preprocess_input
_WEIGHTS: dict[tuple[str, str, float | None], list[np.ndarray]] = {}  # loaded once per process per file


@keras.saving.register_keras_serializable(package=PACKAGE)
class MatchChannels(layers.Layer):
    """Images with any number of channels -> `channels` channels: grey is repeated to RGB, colour averaged to
    grey; the dtype is kept (uint8 pixels stay uint8, rounded).

    Args:
        channels: The channels the backbone takes.
    """

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)

    def call(self, inputs):
        have = inputs.shape[-1]
        if have == self.channels:
            return inputs
        x = ops.cast(inputs, "float32")
        if have != 1:
            x = ops.mean(x, axis=-1, keepdims=True)
        if self.channels != 1:
            x = ops.repeat(x, self.channels, axis=-1)
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if "int" in dtype:
            return ops.cast(ops.round(x), dtype)
        return ops.cast(x, dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ImagenetPreprocess(layers.Layer):
    """keras.applications' preprocess_input as a layer, on float pixels in [0, 255].

    Args:
        mode: "tf" (scaled to [-1, 1]: MobileNetV2), "caffe" (RGB to BGR, ImageNet mean subtracted: ResNet),
            or "none" (the network normalises itself: EfficientNet).
    """

    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("tf", "caffe", "none"):
            raise ValueError(f"unknown preprocess_input mode {mode!r}")
        self.mode = mode

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(IMAGENET_MEAN_BGR, dtype=self.compute_dtype)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def application_side(height: int, width: int) -> int:
    """The side an application sees: the data's larger side, within [MIN_SIDE, MAX_SIDE]."""
    return int(min(max(height, width, MIN_SIDE), MAX_SIDE))


def _leaves(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, nested models opened."""
    out = []
    for layer in model.layers:
        out.extend(_leaves(layer) if isinstance(layer, keras.Model) else [layer])
    return out


def weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers with weights that fine-tuning may unfreeze, in order (batch and input normalisation not)."""
    skip = (layers.BatchNormalization, layers.Normalization)
    return [layer for layer in _leaves(model) if layer.weights and not isinstance(layer, skip)]


def freeze(model: keras.Model, unfrozen: int) -> None:
    """Freeze the backbone except its top `unfrozen` layers with weights (batch normalisation always frozen)."""
    if unfrozen <= 0:
        model.trainable = False
        return
    model.trainable = True
    top = {id(layer) for layer in weighted_layers(model)[-unfrozen:]}
    for layer in _leaves(model):
        layer.trainable = id(layer) in top


def load_application_weights(model: keras.Model, source: BackboneSource) -> None:
    """Load the backbone's weights from its file (legacy .h5 as keras.applications ships, or Keras .weights.h5).

    EfficientNet's ImageNet file stores the standard deviation where Keras's Normalization expects the
    variance; keras.applications adds a Rescaling by 1/sqrt(stddev) when it loads them itself. Built with
    weights=None that layer is absent, so the variance is squared instead, which gives the same
    (x - mean) / stddev.
    """
    from archpick.decoding import first_line
    from archpick.errors import OptionError

    try:
        model.load_weights(source.path)
    except Exception as exc:  # noqa: BLE001 - a file of other weights is the user's to fix, in one line
        raise OptionError(
            f"does not hold weights of keras.applications.{source.builder}(include_top=False) "
            f"({first_line(exc)}); give the {source.name} weights file",
            source.path,
        ) from exc
    if source.preprocess == "none" and not source.path.endswith(".weights.h5"):
        for norm in (layer for layer in model.layers if isinstance(layer, layers.Normalization)):
            mean, variance, count = norm.get_weights()
            norm.set_weights([mean, np.square(variance), count])
            norm.finalize_state()


def application_backbone(source: BackboneSource, side: int) -> keras.Model:
    """A keras.applications network without its top, built with weights=None and loaded from the source's file
    (read once per process; later builds get fresh copies of the same values)."""
    builder = getattr(keras.applications, source.builder)
    kwargs: dict[str, Any] = {"alpha": source.alpha} if source.alpha is not None else {}
    model = builder(include_top=False, weights=None, input_shape=(side, side, 3), name="backbone", **kwargs)
    key = (source.path, source.builder, source.alpha)
    if key not in _WEIGHTS:
        load_application_weights(model, source)
        _WEIGHTS[key] = model.get_weights()
    else:
        model.set_weights(_WEIGHTS[key])
        for norm in (layer for layer in model.layers if isinstance(layer, layers.Normalization)):
            norm.finalize_state()
    return model


def _first_member(model: keras.Model) -> keras.Model:
    """The model itself, or the first member of an ensemble (an Average over nested models)."""
    op = model.outputs[0]._keras_history[0]
    if isinstance(op, layers.Average):
        inner = op._inbound_nodes[0].input_tensors[0]._keras_history[0]
        if isinstance(inner, keras.Model):
            return inner
    return model


def cut_extractor(model: keras.Model, where: str | Path) -> keras.Model:
    """Everything before the head of an archpick image model: the output layer, the head's dense layer and
    dropout (and a regression's target_units scaling) are cut off; the rest takes the same raw uint8 images.

    Raises:
        OptionError: The model has no convolutional feature extractor (a dense network on pixels).
    """
    from archpick.errors import OptionError

    member = _first_member(model)
    tensor = member.outputs[0]
    while True:
        op, node_index, _ = tensor._keras_history
        head = isinstance(op, (layers.Dense, layers.Dropout)) or (
            isinstance(op, layers.Rescaling) and op.name == TARGET_UNITS
        )
        inbound = op._inbound_nodes[node_index].input_tensors if head else []
        if len(inbound) != 1:
            break
        tensor = inbound[0]
    extractor = keras.Model(member.inputs, tensor, name="pretrained_features")
    if not any(len(w.shape) == 4 for w in extractor.weights):
        raise OptionError(
            "holds a model without convolutions (no feature extractor to reuse); pretrain with --families cnn", where
        )
    return extractor


def run_backbone(source: BackboneSource) -> keras.Model:
    """The feature extractor of the source run, read afresh from its model.keras (so every trial starts from
    the pretrained weights, not from another trial's fine-tuning). archpick's layers must be registered
    (`hypermodels.make` does it)."""
    path = Path(source.path) / "model" / "model.keras"
    return cut_extractor(keras.saving.load_model(path, compile=False), path)


class TransferHyperModel(ArchHyperModel):
    """The parts every transfer model shares: the backbone, what is frozen, the fine-tuning learning rate.

    Args:
        spec: The ModelSpec.
        source: The resolved backbone.
        family: The family this model stands in for ("cnn" on images; "hybrid" or "cnn" on video).
    """

    def __init__(self, spec: ModelSpec, source: BackboneSource, family: str):
        self.family = family
        super().__init__(spec)
        self.source = source
        self.side = source.side
        self._weighted: int | None = None

    def weighted(self) -> int:
        """The backbone's layers with weights (built once to count them)."""
        if self._weighted is None:
            self._weighted = len(weighted_layers(self.new_backbone()))
        return self._weighted

    def unfreeze_choices(self) -> list[int]:
        """0 (frozen), then the top layers fine-tuning may unfreeze: about a block and three for an application,
        half and all of a run's smaller extractor."""
        n = self.weighted()
        picks = APP_UNFREEZE if self.source.kind == "application" else (math.ceil(n / 2), n)
        return sorted({0, *(min(k, n) for k in picks if k > 0)})

    def new_backbone(self) -> keras.Model:
        """A fresh backbone with the pretrained weights."""
        if self.source.kind == "application":
            return application_backbone(self.source, self.side)
        return run_backbone(self.source)

    def backbone(self, hp: keras_tuner.HyperParameters) -> tuple[keras.Model, int]:
        """(the backbone, frozen as the hyperparameters say, and how many top layers were unfrozen)."""
        choices = self.unfreeze_choices()
        unfrozen = hp.Choice("unfreeze_layers", choices, default=0)
        with hp.conditional_scope("unfreeze_layers", [c for c in choices if c]):
            hp.Choice("fine_tune_lr_scale", FINE_TUNE_SCALES, default=FINE_TUNE_SCALES[0])
        model = self.new_backbone()
        freeze(model, unfrozen)
        return model, unfrozen

    def preprocess(self, x):
        """Raw uint8 pixels (images or frames) -> what the backbone takes."""
        if self.source.kind == "run":
            channels = self.source.channels
            return x if x.shape[-1] == channels else MatchChannels(channels, name="match_channels")(x)
        resize = ResizeImages(self.side, self.side, name="resize")
        x = resize(x) if len(x.shape) == 4 else layers.TimeDistributed(resize, name="resize_frames")(x)
        x = MatchChannels(3, name="to_rgb")(x)
        return ImagenetPreprocess(self.source.preprocess, name="preprocess")(x)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """The base model; fine-tuning trains at the lower learning rate."""
        model = super().build(hp)
        if hp.is_active("fine_tune_lr_scale") and hp.get("unfreeze_layers"):
            model.optimizer.learning_rate = hp.get("learning_rate") * hp.get("fine_tune_lr_scale")
        return model

    def initial_hps(self) -> list[dict[str, Any]]:
        """An application: frozen with a new head, then its last block fine-tuned. A run's extractor: all of it
        fine-tuned first, then frozen.

        Measured on digits (benchmarks/transfer_digits.py; a CNN pretrained on digits 0-4, 42 training images
        of 5-9, 40 epochs, two seeds): the frozen extractor with a new head scored 0.69 on test, its top half
        fine-tuned 0.82-0.86, all of it fine-tuned at 3e-4 to 1e-3 0.84-0.90. A run's extractor is small and
        learned on images of the same kind, so fine-tuning all of it comes first.
        """
        choices = self.unfreeze_choices()
        head = {"dense_units": 128, "dropout": 0.2, "learning_rate": 1e-3}
        frozen = {**head, "unfreeze_layers": 0}
        if self.source.kind == "application":
            return [frozen, {**head, "unfreeze_layers": choices[1], "fine_tune_lr_scale": FINE_TUNE_SCALES[0]}]
        tuned = {**head, "learning_rate": 2e-3, "unfreeze_layers": choices[-1], "fine_tune_lr_scale": 0.3}
        return [tuned, frozen]

    def describe(self, hps: dict[str, Any]) -> dict[str, Any]:
        """The report's "backbone" section for a trial's hyperparameters: name, weights, input, what was frozen."""
        unfrozen = int(hps.get("unfreeze_layers") or 0)
        rate = None
        if unfrozen and hps.get("learning_rate") is not None:
            rate = float(hps["learning_rate"]) * float(hps.get("fine_tune_lr_scale") or FINE_TUNE_SCALES[0])
        if self.source.kind == "application":
            seen = (
                f"resized to {self.side}x{self.side}, as RGB, then keras.applications' preprocess_input "
                f"({self.source.preprocess}) inside the model"
            )
        else:
            seen = f"resized to {self.side}x{self.side} inside the run's extractor"
        return {
            **self.source.to_dict(),
            "label": self.source.label,
            "input": seen,
            "layers_with_weights": self.weighted(),
            "unfrozen_layers": unfrozen,
            "frozen": frozen_text(unfrozen, self.weighted(), rate),
        }


class TransferImageHyperModel(TransferHyperModel):
    """Images: the backbone, global average pooling (applications), a new head."""

    def __init__(self, spec: ModelSpec, source: BackboneSource, family: str = "cnn"):
        super().__init__(spec, source, family)
        if source.kind == "application":
            height, width, _ = spec.input_spec.shape
            self.side = application_side(int(height), int(width))

    def build_body(self, hp: keras_tuner.HyperParameters):
        channels = int(self.spec.input_spec.shape[-1])
        inputs = keras.Input(shape=(None, None, channels), dtype="uint8", name="image")
        backbone, unfrozen = self.backbone(hp)
        x = backbone(self.preprocess(inputs), training=False)
        if self.source.kind == "application":
            x = layers.GlobalAveragePooling2D(name="backbone_pool")(x)
        if not unfrozen:  # a fixed front: cached_fit computes it once per trial
            x = layers.Activation("linear", name=FIXED_OUTPUT)(x)
        return inputs, x


class TransferVideoHyperModel(TransferHyperModel):
    """Video: the backbone on every frame under TimeDistributed, then an LSTM/GRU ("hybrid") or the mean over
    frames ("cnn")."""

    def __init__(self, spec: ModelSpec, source: BackboneSource, family: str = "hybrid"):
        super().__init__(spec, source, family)
        if source.kind == "application":
            _, size, _ = _clip_shape(spec.input_spec)
            self.side = application_side(size, size)

    def build_body(self, hp: keras_tuner.HyperParameters):
        frames, size, channels = _clip_shape(self.spec.input_spec)
        inputs = keras.Input(shape=(frames, size, size, channels), dtype="uint8", name="clip")
        backbone, unfrozen = self.backbone(hp)
        x = layers.TimeDistributed(backbone, name="frame_backbone")(self.preprocess(inputs), training=False)
        if self.source.kind == "application":
            x = layers.TimeDistributed(layers.GlobalAveragePooling2D(), name="frame_pool")(x)
        if not unfrozen:
            x = layers.Activation("linear", name=FIXED_OUTPUT)(x)
        if self.family == "cnn":
            return inputs, layers.GlobalAveragePooling1D(name="time_mean")(x)
        cell = CELLS[hp.Choice("rnn_cell", ["gru", "lstm"], default="gru")]
        rnn = cell(hp.Choice("rnn_units", [32, 64, 128], default=64), name="rnn")
        if hp.Boolean("bidirectional", default=False):
            rnn = layers.Bidirectional(rnn, name="bidirectional_rnn")
        return inputs, rnn(x)


def transfer_hypermodel(
    modality: str, family: str, spec: ModelSpec, source: BackboneSource
) -> TransferHyperModel | None:
    """The transfer model standing in for a family (the image CNN; both video families), or None (the family
    trains from scratch, as the image dense network does)."""
    name = source.name if source.kind == "application" else f"run {source.name}"
    if modality == "image" and family == "cnn":
        hm: TransferHyperModel = TransferImageHyperModel(spec, source, family)
        hm.variant = f"{name} backbone + new head"
    elif modality == "video" and family in ("hybrid", "cnn"):
        hm = TransferVideoHyperModel(spec, source, family)
        hm.variant = f"{name} per frame -> " + ("LSTM/GRU" if family == "hybrid" else "mean over frames")
    else:
        return None
    return hm


def backbone_report(results: list[Any], winner: str) -> dict[str, Any] | None:
    """The report's "backbone" section: the winning family's backbone (or the first one searched), with what
    its best trial froze."""
    ordered = sorted(results, key=lambda r: r.family != winner)
    for result in ordered:
        hm = getattr(getattr(result, "tuner", None), "hypermodel", None)
        if isinstance(hm, TransferHyperModel):
            row = result.best_row() or {}
            return {
                **hm.describe(row.get("hyperparameters") or {}),
                "family": result.family,
                "searched_as": result.variant,
                "exported": result.family == winner,
            }
    return None
