"""The input kinds: one `Kind` per value of an input_spec's "kind" (image, video, text, sequence, window, table).

A Kind owns what differs between kinds once a model exists: how predict reads a file, how raw inputs become
the serving tensor, which training-split statistics the model is built from, and the serving dtype. The
functions it points at stay beside their data (archpick/datasets/, archpick/hypermodels/stats.py) and are
imported only when called, so this module needs neither TensorFlow nor the dataset readers to import.

A new input kind is one entry in KINDS (and the source that writes it in archpick/datasets/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archpick.errors import DataError, RunError

if TYPE_CHECKING:
    from archpick.datasets.inputspec import InputSpec

RawInputs = list[tuple[str, Any]]


@dataclass(frozen=True)
class Kind:
    """One input kind and the parts that depend on it.

    Attributes:
        name: The input_spec "kind" ("window" for forecasting windows; the modality is "timeseries").
        dtype: The serving input's dtype: "string", "uint8" or "float32".
        dtypes: Every dtype an input_spec of this kind may name (a table of strings, images as floats).
        raw: What a raw input is, for the serving contract (model/README.md).
        inside: The preprocessing the model does itself, for the serving contract.
        words: What predict calls one file of this kind ("video clip").
        read: (file, spec) -> (name, raw input) pairs, as predict reads a file.
        stats: The name of its training-split statistics function in archpick/hypermodels/stats.py, which
            `hypermodels.fit_stats` calls (a name, so this module never imports the HyperModels).
        suffixes: () -> the file types a model of this kind takes from a folder (lower-case suffixes).
        one_string: Each input is one string, batched as a list rather than stacked.
        clip_folders: A folder of frame images is one input.
        forecasts: The model forecasts the steps after the input (predict gives one row per step).
    """

    name: str
    dtype: str
    dtypes: tuple[str, ...]
    raw: str
    inside: str
    words: str
    read: Callable[[Path, InputSpec], RawInputs]
    stats: str
    suffixes: Callable[[], frozenset[str]]
    one_string: bool = False
    clip_folders: bool = False
    forecasts: bool = False

    def serving_dtype(self, spec: InputSpec) -> str:
        """The dtype the model takes for this spec: the spec's own where the kind allows it, else the kind's."""
        given = spec.dtype
        return given if given in self.dtypes else self.dtype

    def takes_strings(self, spec: InputSpec) -> bool:
        """True when the model takes strings (text, a table with string columns)."""
        return self.serving_dtype(spec) == "string"

    def to_array(self, x: Any, spec: InputSpec) -> np.ndarray:
        """Raw inputs as a numpy batch of the serving dtype (an object array of str for string inputs)."""
        if not self.takes_strings(spec):
            return np.asarray(x, dtype=np.dtype(self.serving_dtype(spec)))
        if self.one_string:
            return np.asarray([str(s) for s in x], dtype=object)
        return np.asarray([[str(v) for v in row] for row in x], dtype=object).reshape(len(x), -1)

    def to_tensor(self, x: Any, spec: InputSpec):
        """Raw inputs as the serving signature takes them (a tf.Tensor; imports TensorFlow)."""
        import tensorflow as tf

        if self.takes_strings(spec):
            return tf.constant(self.to_array(x, spec), dtype=tf.string)
        return tf.constant(self.to_array(x, spec))


def _read_image(file: Path, spec: InputSpec) -> RawInputs:
    """One image file as its raw pixels."""
    from archpick.datasets.images import decode_image

    try:
        return [(str(file), decode_image(file, spec.channels))]
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"cannot read this image ({exc}); give a png/jpg/bmp/gif/webp file", file) from exc


def _read_clip(file: Path, spec: InputSpec) -> RawInputs:
    """One clip (a video file or a folder of frames) as its sampled frames."""
    from archpick.datasets.video import decode_clip

    return [(str(file), decode_clip(file, spec.frames, spec.size))]


def _read_texts(file: Path, spec: InputSpec) -> RawInputs:
    from archpick.datasets.text import read_texts_for_predict

    return read_texts_for_predict(file, spec)


def _read_sequences(file: Path, spec: InputSpec) -> RawInputs:
    from archpick.datasets.readers import read_sequences_for_predict

    return read_sequences_for_predict(file, spec)


def _read_window(file: Path, spec: InputSpec) -> RawInputs:
    from archpick.datasets.series import last_window_for_predict

    return last_window_for_predict(file, spec)


def _read_rows(file: Path, spec: InputSpec) -> RawInputs:
    from archpick.datasets.readers import rows_for_predict

    return rows_for_predict(file, spec)


def _image_suffixes() -> frozenset[str]:
    from archpick.datasets.images import IMAGE_SUFFIXES

    return IMAGE_SUFFIXES


def _video_suffixes() -> frozenset[str]:
    from archpick.datasets.frames import VIDEO_SUFFIXES

    return VIDEO_SUFFIXES


def _text_suffixes() -> frozenset[str]:
    from archpick.datasets.columns import TABLE_SUFFIXES
    from archpick.datasets.text import TEXT_SUFFIXES

    return TEXT_SUFFIXES | TABLE_SUFFIXES


def _sequence_suffixes() -> frozenset[str]:
    from archpick.datasets.arrays import ARRAY_SUFFIXES
    from archpick.datasets.columns import TABLE_SUFFIXES

    return frozenset({".ts"}) | ARRAY_SUFFIXES | TABLE_SUFFIXES


def _window_suffixes() -> frozenset[str]:
    from archpick.datasets.columns import TABLE_SUFFIXES

    return TABLE_SUFFIXES


def _table_suffixes() -> frozenset[str]:
    from archpick.datasets.arrays import ARRAY_SUFFIXES
    from archpick.datasets.columns import TABLE_SUFFIXES

    return TABLE_SUFFIXES | ARRAY_SUFFIXES


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "image",
            "uint8",
            ("uint8", "float32"),
            "raw pixels, 0-255, any height and width (batch, height, width, channels)",
            "resized to the training size and scaled to 0-1 inside the model; not PNG/JPEG bytes: decode first",
            "image",
            _read_image,
            "image_stats",
            _image_suffixes,
        ),
        Kind(
            "video",
            "uint8",
            ("uint8", "float32"),
            "raw frames, 0-255 (batch, frames, height, width, channels)",
            "frames resized and scaled inside the model",
            "video clip",
            _read_clip,
            "video_stats",
            _video_suffixes,
            clip_folders=True,
        ),
        Kind(
            "text",
            "string",
            ("string",),
            "raw text, one string per sample (batch,)",
            "tokenised inside the model (the vocabulary is in it)",
            "text",
            _read_texts,
            "text_stats",
            _text_suffixes,
            one_string=True,
        ),
        Kind(
            "sequence",
            "float32",
            ("float32",),
            "raw values (batch, steps, features); shorter sequences padded with NaN at the end",
            "standardised with the training statistics; NaN steps are masked",
            "sequence",
            _read_sequences,
            "sequence_stats",
            _sequence_suffixes,
        ),
        Kind(
            "window",
            "float32",
            ("float32",),
            "the last `lookback` raw values of the series, oldest first (batch, lookback, features)",
            "scaled per window inside the model and scaled back on output",
            "series",
            _read_window,
            "window_stats",
            _window_suffixes,
            forecasts=True,
        ),
        Kind(
            "table",
            "float32",
            ("float32", "string"),
            "raw column values in the order listed; a missing value is NaN",
            "missing values imputed and columns standardised with the training statistics",
            "table",
            _read_rows,
            "table_stats",
            _table_suffixes,
        ),
    )
}


def kind_of(spec: InputSpec | str) -> Kind:
    """The Kind of an input_spec (or of a kind's name).

    Raises:
        RunError: The kind is not one archpick knows (a damaged or foreign archpick.json).
    """
    name = spec if isinstance(spec, str) else spec.kind
    try:
        return KINDS[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise RunError(
            f"unknown input kind {name!r} in the model metadata; expected one of {', '.join(KINDS)}"
        ) from None
