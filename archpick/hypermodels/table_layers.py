"""Layers that read a table's raw columns inside the model (see archpick/datasets/encodings.py).

The string layers (`ParseNumbers`, `ColumnStrings`, `CalendarFeatures`) use TensorFlow string ops: a table
with string columns trains on the TensorFlow backend only, as text does. `OneHotValues` uses Keras ops only,
so integer codes in an all-numeric table work on every backend. Every constant comes from the training split
(archpick/hypermodels/stats.py) and is kept in the layer's config. Registered under the "archpick" package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from archpick.datasets.encodings import DATE_PATTERN, NUMBER_PATTERN

PACKAGE = "archpick"


@keras.saving.register_keras_serializable(package=PACKAGE)
class ParseNumbers(keras.layers.Layer):
    """String rows (batch, F) -> float32 (batch, len(columns)): the numbers in the chosen fields, NaN elsewhere.

    A field that is not a number (blank, "n/a") is NaN, as a gap in a numeric table; the imputer after it
    fills it. Args: columns: field indices.
    """

    def __init__(self, columns: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]

    def call(self, inputs):
        import tensorflow as tf

        fields = tf.gather(inputs, self.columns, axis=-1)
        valid = tf.strings.regex_full_match(fields, NUMBER_PATTERN)
        text = tf.where(valid, tf.strings.strip(fields), tf.fill(tf.shape(fields), "nan"))
        return tf.strings.to_number(text, out_type=tf.float32)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.columns))

    def get_config(self):
        return {**super().get_config(), "columns": self.columns}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ColumnStrings(keras.layers.Layer):
    """String rows (batch, F) -> (batch,) strings: one field, stripped. Args: column: its index."""

    def __init__(self, column: int, **kwargs):
        super().__init__(**kwargs)
        self.column = int(column)

    def call(self, inputs):
        import tensorflow as tf

        return tf.strings.strip(inputs[:, self.column])

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def get_config(self):
        return {**super().get_config(), "column": self.column}


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm), int64 tensors."""
    import tensorflow as tf

    y = year - tf.cast(month <= 2, tf.int64)
    era = tf.math.floordiv(y, 400)
    yoe = y - era * 400
    mp = tf.math.floormod(month + 9, 12)
    doy = tf.math.floordiv(153 * mp + 2, 5) + day - 1
    doe = yoe * 365 + tf.math.floordiv(yoe, 4) - tf.math.floordiv(yoe, 100) + doy
    return era * 146097 + doe - 719468


@keras.saving.register_keras_serializable(package=PACKAGE)
class CalendarFeatures(keras.layers.Layer):
    """String rows (batch, F) -> float32 (batch, 8): calendar features of one ISO date field.

    The features: the year standardised with the training mean and std; month, day of week (Monday 0) and
    day of year, each as sin and cos of its angle on its cycle; and 1 where the date is missing or not ISO
    8601 (then every other feature is 0).

    Args:
        column: The field index.
        year_mean: Training mean of the year.
        year_std: Training standard deviation of the year (1 when constant).
    """

    def __init__(self, column: int, year_mean: float = 2000.0, year_std: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.column = int(column)
        self.year_mean = float(year_mean)
        self.year_std = float(year_std)

    def call(self, inputs):
        import tensorflow as tf

        field = tf.strings.strip(inputs[:, self.column])
        valid = tf.strings.regex_full_match(field, DATE_PATTERN)
        field = tf.where(valid, field, tf.fill(tf.shape(field), "2000-01-01"))

        def part(start, length):
            return tf.strings.to_number(tf.strings.substr(field, start, length), out_type=tf.int64)

        year, month, day = part(0, 4), tf.clip_by_value(part(5, 2), 1, 12), tf.clip_by_value(part(8, 2), 1, 31)
        days = _days_from_civil(year, month, day)
        weekday = tf.math.floormod(days + 3, 7)
        yday = days - _days_from_civil(year, tf.ones_like(month), tf.ones_like(day))
        angles = [
            (tf.cast(month - 1, tf.float32), 12.0),
            (tf.cast(weekday, tf.float32), 7.0),
            (tf.cast(yday, tf.float32), 365.25),
        ]
        cycles = []
        for value, period in angles:
            cycles += [tf.sin(2 * math.pi * value / period), tf.cos(2 * math.pi * value / period)]
        scaled = (tf.cast(year, tf.float32) - self.year_mean) / self.year_std
        mask = tf.cast(valid, tf.float32)
        features = tf.stack([scaled, *cycles], axis=-1) * mask[:, None]
        return tf.concat([features, (1.0 - mask)[:, None]], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 8)

    def get_config(self):
        return {**super().get_config(), "column": self.column, "year_mean": self.year_mean, "year_std": self.year_std}


@keras.saving.register_keras_serializable(package=PACKAGE)
class OneHotValues(keras.layers.Layer):
    """Float (batch, F) -> (batch, len(values) + 1): one-hot of one column's whole-number codes.

    The last slot is 1 for a value not among `values` (unseen in training) or missing. Keras ops only, so it
    runs on every backend (IntegerLookup is TensorFlow-only outside tf.data).

    Args:
        column: The column index.
        values: The training codes.
    """

    def __init__(self, column: int, values: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        self.column = int(column)
        self.values = [float(v) for v in values]
        self._values = np.asarray(self.values, dtype="float32")[None, :]

    def call(self, inputs):
        x = ops.cast(inputs, "float32")[:, self.column : self.column + 1]
        hits = ops.cast(ops.equal(x, self._values), "float32")
        other = 1.0 - ops.sum(hits, axis=-1, keepdims=True)
        return ops.concatenate([hits, other], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.values) + 1)

    def get_config(self):
        return {**super().get_config(), "column": self.column, "values": self.values}
