"""Small Keras layers that keep preprocessing inside the model, so the exported model takes raw inputs.

Every constant (means, scales, medians) comes from archpick/hypermodels/stats.py, fitted on the training
split, and is stored in the layer's config: a model rebuilt from the same spec, or loaded from .keras, is the
same function. All layers are registered under the "archpick" package for `keras.models.load_model`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

PACKAGE = "archpick"
LOG_FLOOR = 1e-6


def _vector(values: Sequence[float] | None, default: float = 0.0) -> np.ndarray:
    return np.asarray(values if values is not None else [default], dtype="float32")


def _floats(values: Sequence[float] | np.ndarray | None) -> list[float] | None:
    return None if values is None else [float(v) for v in np.asarray(values).ravel()]


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedStandardize(keras.layers.Layer):
    """Standardise NaN-padded sequences and mask the padding.

    Input: raw float (batch, steps, features) with NaN for missing values and padded steps. Output:
    (x - mean) / std, with every non-finite value set to 0 (the training mean). A step is valid when any of
    its features is finite; `compute_mask` returns that (batch, steps) mask so a following RNN skips
    padded steps.

    Args:
        mean: Per-feature training mean.
        std: Per-feature training standard deviation.
        mask_output: Attach the step mask to the output (False for layers that cannot take a mask).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], mask_output: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.mean = _floats(mean)
        self.std = _floats(std)
        self.mask_output = bool(mask_output)
        self._mean = _vector(self.mean)
        self._std = _vector(self.std, 1.0)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        finite = ops.isfinite(x)
        z = (ops.where(finite, x, ops.zeros_like(x)) - self._mean) / self._std
        return ops.where(finite, z, ops.zeros_like(z))

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_output:
            return None
        return ops.any(ops.isfinite(ops.cast(inputs, "float32")), axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std, "mask_output": self.mask_output}


@keras.saving.register_keras_serializable(package=PACKAGE)
class StepMask(keras.layers.Layer):
    """Raw NaN-padded (batch, steps, features) -> which steps are valid (any feature finite).

    Args:
        as_bool: Return a (batch, steps) bool mask (for `mask=` arguments) instead of a (batch, steps, 1)
            float mask (for multiplying).
    """

    def __init__(self, as_bool: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.as_bool = bool(as_bool)

    def call(self, inputs):
        valid = ops.any(ops.isfinite(ops.cast(inputs, "float32")), axis=-1, keepdims=not self.as_bool)
        return valid if self.as_bool else ops.cast(valid, "float32")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) if self.as_bool else (*input_shape[:-1], 1)

    def compute_output_spec(self, inputs):
        shape = self.compute_output_shape(inputs.shape)
        return keras.KerasTensor(shape, dtype="bool" if self.as_bool else "float32")

    def get_config(self):
        return {**super().get_config(), "as_bool": self.as_bool}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ApplyMask(keras.layers.Layer):
    """[x, mask] -> x * mask: zero the padded steps again after a layer that mixes in biases."""

    def call(self, inputs):
        x, mask = inputs
        return x * ops.cast(mask, x.dtype)

    def compute_mask(self, inputs, previous_mask=None):
        return None  # the zeroed steps carry the padding on; no Keras mask follows

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedGlobalPooling1D(keras.layers.Layer):
    """[x (batch, steps, channels), mask (batch, steps[, 1])] -> (batch, channels), over valid steps only.

    Args:
        mode: "avg" (mean over valid steps) or "max" (max over valid steps; 0 when none is valid).
    """

    def __init__(self, mode: str = "avg", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("avg", "max"):
            raise ValueError(f"mode must be 'avg' or 'max', got {mode!r}")
        self.mode = mode

    def call(self, inputs):
        x, mask = inputs
        mask = ops.cast(mask, x.dtype)
        if len(mask.shape) == 2:
            mask = mask[..., None]
        if self.mode == "avg":
            total = ops.sum(x * mask, axis=1)
            return total / ops.maximum(ops.sum(mask, axis=1), 1.0)
        lowest = ops.full_like(x, -1e9)
        peak = ops.max(ops.where(mask > 0, x, lowest), axis=1)
        return ops.where(ops.sum(mask, axis=1) > 0, peak, ops.zeros_like(peak))

    def compute_output_shape(self, input_shape):
        shape = input_shape[0]
        return (shape[0], shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TokenMask(keras.layers.Layer):
    """Integer token ids (batch, length) -> bool mask (batch, length // pool) of windows with a real token.

    Args:
        pool: The pooling size applied to the token sequence downstream (1 for none).
    """

    def __init__(self, pool: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.pool = int(pool)

    def call(self, inputs):
        present = ops.cast(ops.not_equal(inputs, 0), "float32")
        if self.pool > 1:
            present = ops.max_pool(present[..., None], pool_size=self.pool, strides=self.pool, padding="valid")[..., 0]
        return present > 0

    def get_config(self):
        return {**super().get_config(), "pool": self.pool}


@keras.saving.register_keras_serializable(package=PACKAGE)
class FixLength(keras.layers.Layer):
    """Crop or NaN-pad (batch, steps, features) sequences to a fixed number of steps (for dense nets).

    Args:
        length: Steps to keep.
    """

    def __init__(self, length: int, **kwargs):
        super().__init__(**kwargs)
        self.length = int(length)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")[:, : self.length]
        missing = self.length - ops.shape(x)[1]
        x = ops.pad(x, [[0, 0], [0, missing], [0, 0]], constant_values=float("nan"))
        return ops.reshape(x, (-1, self.length, inputs.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.length, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "length": self.length}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResizeImages(keras.layers.Layer):
    """Bilinear resize of (batch, H, W, C) images of any size to (height, width), as float32.

    Used instead of `keras.layers.Resizing`, whose `call(training=True)` default makes a model called
    without `training` (as a SavedModel's `serve` is) run every later layer, batch norm included, in
    training mode.

    Args:
        height: Output height.
        width: Output width.
    """

    def __init__(self, height: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)

    def call(self, inputs):
        return ops.image.resize(ops.cast(inputs, "float32"), (self.height, self.width), interpolation="bilinear")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Impute(keras.layers.Layer):
    """Replace NaN (and infinities) in (batch, features) by per-feature training values (the median).

    Args:
        fill: One value per feature.
    """

    def __init__(self, fill: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        self.fill = _floats(fill)
        self._fill = _vector(self.fill)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        return ops.where(ops.isfinite(x), x, ops.zeros_like(x) + self._fill)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "fill": self.fill}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Standardize(keras.layers.Layer):
    """(x - mean) / std with per-feature training constants (last axis).

    Args:
        mean: Per-feature mean.
        std: Per-feature standard deviation.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        self.mean = _floats(mean)
        self.std = _floats(std)
        self._mean = _vector(self.mean)
        self._std = _vector(self.std, 1.0)

    def call(self, inputs):
        return (ops.cast(inputs, "float32") - self._mean) / self._std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MissingIndicator(keras.layers.Layer):
    """(batch, features) -> (batch, len(columns)) floats: 1 where that column's value is missing.

    Args:
        columns: Feature indices that had missing values in training.
    """

    def __init__(self, columns: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]

    def call(self, inputs):
        x = ops.take(ops.cast(inputs, "float32"), self.columns, axis=-1)
        return ops.cast(ops.logical_not(ops.isfinite(x)), "float32")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.columns))

    def get_config(self):
        return {**super().get_config(), "columns": self.columns}


def _window_base(z, target_index: int, horizon: int, base: str, season: int | None):
    """The naive forecast of the (transformed) target from a window: (batch, horizon)."""
    series = z[:, :, target_index]
    lookback = series.shape[1]
    if base == "seasonal" and season and 1 < season <= lookback:
        cols = [lookback - season + (h % season) for h in range(horizon)]
        return ops.take(series, cols, axis=1)
    if base == "mean":
        level = ops.mean(series, axis=1, keepdims=True)
    else:
        level = series[:, -1:]
    return ops.repeat(level, horizon, axis=1)


def _transform(x, log: bool):
    x = ops.cast(x, "float32")
    # A forecasting window has no padding: a missing value takes its window's mean of the finite values.
    finite = ops.isfinite(x)
    count = ops.maximum(ops.sum(ops.cast(finite, "float32"), axis=1, keepdims=True), 1.0)
    mean = ops.sum(ops.where(finite, x, ops.zeros_like(x)), axis=1, keepdims=True) / count
    x = ops.where(finite, x, ops.zeros_like(x) + mean)
    return ops.log(ops.maximum(x, LOG_FLOOR)) if log else x


@keras.saving.register_keras_serializable(package=PACKAGE)
class WindowScale(keras.layers.Layer):
    """Per-window instance normalisation of raw (batch, lookback, features) forecasting windows.

    Each feature is (optionally) log-transformed, its own window mean is subtracted and the result divided
    by a training-fitted scale, so the network sees the shape of the window, not its level.

    Args:
        scale: Per-feature scale of values around their window mean (training windows).
        log: Work on log values (only when every training value was positive).
    """

    def __init__(self, scale: Sequence[float], log: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.scale = _floats(scale)
        self.log = bool(log)
        self._scale = _vector(self.scale, 1.0)

    def call(self, inputs):
        z = _transform(inputs, self.log)
        return (z - ops.mean(z, axis=1, keepdims=True)) / self._scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "log": self.log}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WindowUnscale(keras.layers.Layer):
    """[deviations (batch, horizon), raw window (batch, lookback, features)] -> forecast in original units.

    forecast = inverse_transform(base + deviations * scale), where base is a naive forecast of the target
    from the window in the transformed space: "seasonal" (the last season repeated), "last" or "mean".
    A network that outputs zeros therefore reproduces that naive forecast, and learns a correction to it.

    Args:
        target_index: Which feature is the target.
        horizon: Steps ahead.
        scale: The target's scale (as in WindowScale).
        log: Inverse of a log transform (exp) at the end.
        base: "seasonal", "last" or "mean".
        season: Seasonal period for the "seasonal" base (falls back to "last" without one).
    """

    def __init__(
        self,
        target_index: int,
        horizon: int,
        scale: float,
        log: bool = False,
        base: str = "last",
        season: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.target_index = int(target_index)
        self.horizon = int(horizon)
        self.scale = float(scale)
        self.log = bool(log)
        self.base = base
        self.season = int(season) if season else None

    def call(self, inputs):
        deviations, window = inputs
        z = _transform(window, self.log)
        base = _window_base(z, self.target_index, self.horizon, self.base, self.season)
        out = base + ops.cast(deviations, "float32") * self.scale
        return ops.exp(out) if self.log else out

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "target_index": self.target_index,
            "horizon": self.horizon,
            "scale": self.scale,
            "log": self.log,
            "base": self.base,
            "season": self.season,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class L2Normalize(keras.layers.Layer):
    """Cast to float32 and scale each row to L2 norm `scale` (an all-zero row stays zero).

    For bag-of-n-gram counts (TextVectorization's "multi_hot" is int64, "tf_idf" float32), as scikit-learn's
    TfidfVectorizer normalises its rows. A `scale` above 1 lets a linear layer on top learn at the pace of
    the rest of the model under Adam (whose steps do not grow with the gradient).

    Args:
        scale: The norm of every non-zero output row.
    """

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        norm = ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True))
        return x * (self.scale / ops.maximum(norm, 1e-12))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def standardized_sequence(stats: dict, features: int, mask_output: bool = True, length: int | None = None) -> tuple:
    """The NaN-padded (batch, steps, features) input named "sequence" and its standardisation with the training
    statistics (layer "standardize"), as the sequence families begin; with `length`, first cut or padded to that
    many steps (layer "fix_length").

    Args:
        stats: The training split's statistics ("mean", "std" per feature).
        features: Values per step.
        mask_output: Let the standardisation emit a Keras mask over the padded steps.
        length: A fixed number of steps (a flattening family's), or None for any length.

    Returns:
        (the input, the standardised tensor).
    """
    inputs = keras.Input(shape=(None, features), dtype="float32", name="sequence")
    x = inputs if length is None else FixLength(length, name="fix_length")(inputs)
    x = MaskedStandardize(
        stats.get("mean", [0.0] * features),
        stats.get("std", [1.0] * features),
        mask_output=mask_output,
        name="standardize",
    )(x)
    return inputs, x
