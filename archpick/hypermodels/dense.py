"""Dense family (the plain ANN): a multilayer perceptron for feature tables, and a baseline for images and
fixed-length views of sequences. Preprocessing is inside the model:

- table: raw float (features,) with NaN -> Impute (training median) -> Standardize (training mean/std),
  plus missing-value indicators for the columns that had gaps in training;
- image: raw uint8 (any H, W; C channels) -> Resizing to the dataset's size -> Rescaling(1/255) -> Flatten;
- sequence: raw NaN-padded (steps, features) -> crop/pad to the longest training length -> standardise,
  NaN -> 0 -> Flatten.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.layers import (
    FixLength,
    Impute,
    MaskedStandardize,
    MissingIndicator,
    ResizeImages,
    Standardize,
)


class DenseHyperModel(ArchHyperModel):
    """MLP of 1-4 dense layers (searched width, shrinking or constant, batch norm, dropout)."""

    family = "dense"

    def _inputs(self):
        spec = self.spec.input_spec
        kind = spec.get("kind")
        stats = self.spec.stats
        shape = [int(d) if d is not None else None for d in spec["shape"]]
        if kind == "image":
            height, width, channels = shape
            inputs = keras.Input(shape=(None, None, channels), dtype="uint8", name="image")
            x = ResizeImages(height, width, name="resize")(inputs)
            x = layers.Rescaling(1.0 / 255, name="rescale")(x)
            return inputs, layers.Flatten()(x)
        if kind == "sequence":
            features = shape[-1]
            length = int(stats.get("max_length") or spec.get("max_length") or shape[0] or 1)
            inputs = keras.Input(shape=(None, features), dtype="float32", name="sequence")
            x = FixLength(length, name="fix_length")(inputs)
            x = MaskedStandardize(stats.get("mean", [0.0] * features), stats.get("std", [1.0] * features),
                                  mask_output=False, name="standardize")(x)
            return inputs, layers.Flatten()(x)
        features = int(shape[0])
        inputs = keras.Input(shape=(features,), dtype="float32", name="features")
        x = Impute(stats.get("median", [0.0] * features), name="impute")(inputs)
        x = Standardize(stats.get("mean", [0.0] * features), stats.get("std", [1.0] * features),
                        name="standardize")(x)
        missing = list(stats.get("missing_columns") or [])
        if missing:
            x = layers.Concatenate(name="with_missing")([x, MissingIndicator(missing, name="missing")(inputs)])
        return inputs, x

    def build_body(self, hp: keras_tuner.HyperParameters):
        depth = hp.Int("layers", 1, 4, default=2)
        width = hp.Choice("width", [32, 64, 128, 256, 512], default=128)
        shape = hp.Choice("shape", ["shrinking", "constant"], default="shrinking")
        batch_norm = hp.Boolean("batch_norm", default=False)
        hidden_dropout = hp.Float("hidden_dropout", 0.0, 0.5, step=0.1, default=0.1)
        inputs, x = self._inputs()
        for i in range(depth):
            units = max(width // 2**i, 16) if shape == "shrinking" else width
            x = layers.Dense(units, use_bias=not batch_norm)(x)
            if batch_norm:
                x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
            if hidden_dropout and i < depth - 1:
                x = layers.Dropout(hidden_dropout)(x)
        return inputs, x

    def initial_hps(self) -> list[dict[str, Any]]:
        """Tables: two layers of 128-64 with light dropout (a reliable tabular MLP default); then a wider,
        batch-normalised three-layer net. Images: a 256-128 MLP, then a 512-wide one."""
        if self.spec.input_spec.get("kind") == "image":
            return [
                {"layers": 2, "width": 256, "shape": "shrinking", "batch_norm": True, "hidden_dropout": 0.2,
                 "dense_units": 0, "dropout": 0.3, "learning_rate": 1e-3},
                {"layers": 3, "width": 512, "shape": "shrinking", "batch_norm": True, "hidden_dropout": 0.3,
                 "dense_units": 0, "dropout": 0.3, "learning_rate": 1e-3},
            ]
        return [
            {"layers": 2, "width": 128, "shape": "shrinking", "batch_norm": False, "hidden_dropout": 0.1,
             "dense_units": 0, "dropout": 0.1, "learning_rate": 2e-3},
            {"layers": 3, "width": 256, "shape": "shrinking", "batch_norm": True, "hidden_dropout": 0.3,
             "dense_units": 0, "dropout": 0.2, "learning_rate": 1e-3},
        ]
