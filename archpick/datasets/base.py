"""The contract every source module implements, and the Bundle it hands to training.

A source module (images.py, video.py, text.py, ...) exports three names:

- ``sniff(path: Path) -> bool``: cheap check, reads names and at most a header.
- ``profile(path: Path, opts: DataOptions) -> DatasetProfile``: facts from headers or a sample;
  standard library, numpy, pandas and pillow only (never TensorFlow).
- ``load(profile: DatasetProfile, opts: DataOptions) -> Bundle``: the samples themselves, as numpy arrays
  or file lists; still TensorFlow-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archpick.profile import Skipped

HIDDEN_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX"}


GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})  # Pillow modes read as one channel


def is_hidden(name: str) -> bool:
    """True for dot-files and OS litter that is never data."""
    return name.startswith(".") or name in HIDDEN_NAMES


def safe_check(check: Callable[[], bool]) -> bool:
    """A DirEntry type check (entry.is_file, entry.is_dir) that treats a link that loops or cannot be
    followed (OSError, e.g. ELOOP) as neither file nor folder."""
    try:
        return bool(check())
    except OSError:
        return False


def split_roots(path: Path) -> tuple[Path, Path | None]:
    """The folder holding the training classes, and the test one if shipped (train/ + test/)."""
    train, test = path / "train", path / "test"
    if train.is_dir() and test.is_dir():
        return train, test
    return path, None


@dataclass
class DataOptions:
    """Options that change how data is read.

    Args:
        kind: Force a modality ("image", "video", "text", "sequence", "timeseries", "table").
        target: Target/label column for tables, text CSVs and series.
        horizon: Forecast steps ahead (time series).
        lookback: Window length for forecasting; derived from the data when None.
        frames: Frames per clip for video; derived from the data when None.
        size: Frame/image side (pixels) to resize to; derived when None.
        sample_limit: Files to open when profiling large folders.
    """

    kind: str | None = None
    target: str | None = None
    horizon: int | None = None
    lookback: int | None = None
    frames: int | None = None
    size: int | None = None
    sample_limit: int = 2000


@dataclass
class Bundle:
    """Samples ready to split, without TensorFlow.

    Attributes:
        x: Inputs. File paths (str) for images/video; strings for text; float32 (N, T, F) NaN-padded
            for sequences; float32 (N, lookback, F) windows for forecasting; float32 (N, F) for tables.
        y: Integer class indices (classification), float targets (regression, (N,) ),
            or (N, horizon) float targets (forecasting).
        class_names: Index -> class name (classification).
        x_test: Shipped test inputs, or None to hold out a split.
        y_test: Shipped test targets.
        decode: For file inputs, path -> raw uint8 array as the SavedModel expects it.
        input_spec: What the model takes: {"kind": ..., "shape": [...], "dtype": ...} plus extras
            a HyperModel needs (e.g. "vocabulary_size", "lookback", "horizon", "columns").
        split: "stratified" (shuffle, stratify) or "chronological" (no shuffling across splits).
        skipped: Files that failed while loading (added to the profile's count).
        extras: Anything else the report needs (e.g. the raw series for a forecast plot).
    """

    x: np.ndarray
    y: np.ndarray
    class_names: list[str] = field(default_factory=list)
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    decode: Callable[[str], np.ndarray] | None = None
    input_spec: dict[str, Any] = field(default_factory=dict)
    split: str = "stratified"
    skipped: list[Skipped] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
