"""Dense family (the plain ANN): a multilayer perceptron for feature tables, and a baseline for images and
fixed-length views of sequences. Preprocessing is inside the model:

- table: raw float (features,) with NaN -> Impute (training median) -> Standardize (training mean/std),
  plus missing-value indicators for the columns that had gaps in training and one-hot integer codes; a
  table with string columns takes its raw rows as strings instead and reads each column inside the model
  (one-hot, embedding, bag of words, calendar features: see `_table_inputs`);
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
    Impute,
    L2Normalize,
    MissingIndicator,
    ResizeImages,
    Standardize,
    standardized_sequence,
)
from archpick.hypermodels.table_layers import CalendarFeatures, ColumnStrings, OneHotValues, ParseNumbers


class DenseHyperModel(ArchHyperModel):
    """MLP of 1-4 dense layers (searched width, shrinking or constant, batch norm, dropout)."""

    family = "dense"

    def _inputs(self):
        spec = self.spec.input_spec
        kind = spec.kind
        stats = self.spec.stats
        shape = [int(d) if d is not None else None for d in spec.shape]
        if kind == "image":
            height, width, channels = shape
            inputs = keras.Input(shape=(None, None, channels), dtype="uint8", name="image")
            x = ResizeImages(height, width, name="resize")(inputs)
            x = layers.Rescaling(1.0 / 255, name="rescale")(x)
            return inputs, layers.Flatten()(x)
        if kind == "sequence":
            features = shape[-1]
            length = int(stats.get("max_length") or spec.max_length or shape[0] or 1)
            inputs, x = standardized_sequence(stats, features, mask_output=False, length=length)
            return inputs, layers.Flatten()(x)
        return self._table_inputs()

    def _numeric_part(self, numbers, count: int) -> list:
        """Imputed, standardised numbers, their missing-value indicators and one-hot integer codes."""
        stats = self.spec.stats
        x = Impute(stats.get("median", [0.0] * count), name="impute")(numbers)
        parts = [Standardize(stats.get("mean", [0.0] * count), stats.get("std", [1.0] * count), name="standardize")(x)]
        missing = list(stats.get("missing_columns") or [])
        if missing:
            parts.append(MissingIndicator(missing, name="missing")(numbers))
        numeric = [e for e in self.spec.input_spec.column_encodings() if e.how in ("numeric", "codes")]
        for j, enc in enumerate(numeric):
            values = (stats.get("codes") or {}).get(enc.name)
            if enc.how == "codes" and values:
                parts.append(OneHotValues(j, values, name=f"codes_{j}")(numbers))
        return parts

    def _table_inputs(self):
        """A table's input and features (see archpick/datasets/encodings.py for the two input signatures).

        Float tables: "features" float32 (F,) -> impute, standardise, missing indicators (as always), and
        one-hot integer codes. String tables: "row" string (F,), each field read inside the model: numbers
        parsed then as above; categories by StringLookup (fixed training vocabulary, one OOV slot) one-hot
        or into a small embedding; free text by TextVectorization (TF-IDF over the training words,
        L2-normalised); dates as CalendarFeatures.

        keras.utils.FeatureSpace was considered and not used: it takes a dict of per-column inputs (every
        stage here moves 2-D arrays of rows), fits by ``adapt()`` (archpick fits training statistics in
        stats.py as JSON constants, so a rebuilt model is the same function), and has no date features.

        Embedding rather than hashing for many categories: the vocabulary comes from training anyway, an
        embedding has no collisions, and unseen values go to one known OOV row.
        """
        spec = self.spec.input_spec
        count = int(spec.shape[0])
        if not spec.takes_strings:
            inputs = keras.Input(shape=(count,), dtype="float32", name="features")
            parts = self._numeric_part(inputs, count)
            return inputs, parts[0] if len(parts) == 1 else layers.Concatenate(name="with_missing")(parts)
        inputs = keras.Input(shape=(count,), dtype="string", name="row")
        encs = spec.column_encodings()
        numeric = [i for i, e in enumerate(encs) if e.how in ("numeric", "codes")]
        parts = self._numeric_part(ParseNumbers(numeric, name="numbers")(inputs), len(numeric)) if numeric else []
        for i, enc in enumerate(encs):
            if enc.how in ("one_hot", "embedding", "text", "date"):
                parts.append(self._string_part(inputs, i, enc.name, enc.how))
        return inputs, parts[0] if len(parts) == 1 else layers.Concatenate(name="columns")(parts)

    def _string_part(self, inputs, index: int, name: str, how: str):
        """One string column's features: one-hot, embedding, bag of words or calendar features."""
        stats = self.spec.stats
        if how == "date":
            mean, std = (stats.get("years") or {}).get(name, [2000.0, 1.0])
            return CalendarFeatures(index, mean, std, name=f"calendar_{index}")(inputs)
        field = ColumnStrings(index, name=f"field_{index}")(inputs)
        if how == "text":
            words = (stats.get("words") or {}).get(name) or ["[empty]"]
            idf = (stats.get("idf") or {}).get(name) or [1.0] * len(words)
            x = layers.TextVectorization(
                standardize="lower_and_strip_punctuation",
                split="whitespace",
                output_mode="tf_idf",
                vocabulary=words,
                idf_weights=idf,
                name=f"words_{index}",
            )(field)
            return L2Normalize(1.0, name=f"words_l2_{index}")(x)
        vocabulary = (stats.get("vocabularies") or {}).get(name) or ["[none]"]
        if how == "one_hot":
            return layers.StringLookup(
                vocabulary=vocabulary, num_oov_indices=1, output_mode="one_hot", name=f"one_hot_{index}"
            )(field)
        ids = layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, output_mode="int", name=f"lookup_{index}")(
            field
        )
        dim = int(min(16, max(4, round(1.6 * len(vocabulary) ** 0.56))))
        return layers.Embedding(len(vocabulary) + 1, dim, name=f"embedding_{index}")(ids)

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
        if self.spec.input_spec.kind == "image":
            return [
                {
                    "layers": 2,
                    "width": 256,
                    "shape": "shrinking",
                    "batch_norm": True,
                    "hidden_dropout": 0.2,
                    "dense_units": 0,
                    "dropout": 0.3,
                    "learning_rate": 1e-3,
                },
                {
                    "layers": 3,
                    "width": 512,
                    "shape": "shrinking",
                    "batch_norm": True,
                    "hidden_dropout": 0.3,
                    "dense_units": 0,
                    "dropout": 0.3,
                    "learning_rate": 1e-3,
                },
            ]
        return [
            {
                "layers": 2,
                "width": 128,
                "shape": "shrinking",
                "batch_norm": False,
                "hidden_dropout": 0.1,
                "dense_units": 0,
                "dropout": 0.1,
                "learning_rate": 2e-3,
            },
            {
                "layers": 3,
                "width": 256,
                "shape": "shrinking",
                "batch_norm": True,
                "hidden_dropout": 0.3,
                "dense_units": 0,
                "dropout": 0.2,
                "learning_rate": 1e-3,
            },
        ]
