"""The contract every source module implements, and the Bundle it hands to training.

A source module (images.py, video.py, text.py, ...) exports three names:

- ``sniff(path: Path) -> bool``: cheap check, reads names and at most a header.
- ``profile(path: Path, opts: DataOptions) -> DatasetProfile``: facts from headers or a sample;
  standard library, numpy, pandas and pillow only (never TensorFlow).
- ``load(profile: DatasetProfile, opts: DataOptions) -> Bundle``: the samples themselves, as numpy arrays
  or file lists; still TensorFlow-free.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archpick.datasets.inputspec import InputSpec
from archpick.profile import Skipped

HIDDEN_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX"}
SPLIT_NAMES = {"train": ("train", "training"), "test": ("test", "testing")}
"""Folder names of a shipped split (compared in lower case)."""
DOC_STEMS = ("readme", "license", "licence", "citation", "notice", "changelog", "authors")
"""Documentation a wrapper folder may hold beside its one sub-folder: names starting so, with no suffix or
.txt (LICENSE, README[1].txt) ..."""
DOC_SUFFIXES = frozenset({".md", ".rst", ".json", ".yaml", ".yml", ".cff", ".bib", ".html", ".pdf", ".doc", ".docx"})
"""... and files of these suffixes."""
WRAPPER_DEPTH = 8
"""At most this many single-folder wrappers are descended to find the class level."""


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


SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_kind(mode: int) -> str | None:
    """What a file of this st_mode is ("a FIFO", "a socket"...) when it is neither a regular file nor a
    folder, else None. Decided from the mode alone, so a FIFO is never opened (an open would block)."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((name for test, name in SPECIAL_FILES if test(mode)), "a special file")


def sub_folders(path: Path) -> tuple[list[Path], list[Path]]:
    """Visible sub-folders of `path` by name, following symbolic links, and the linked folders left out.

    A link is left out when it leads back to `path` or to a folder above it (a cycle); a link that loops
    or dangles is neither file nor folder (see safe_check) and is not listed at all.

    Returns:
        (sub-folders, links that lead back).
    """
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError:
        return [], []
    here = Path(os.path.realpath(path))
    kept, back = [], []
    for entry in entries:
        if is_hidden(entry.name) or not safe_check(entry.is_dir):
            continue
        if entry.is_symlink():
            target = Path(os.path.realpath(entry.path))
            if target == here or target in here.parents:
                back.append(Path(entry.path))
                continue
        kept.append(Path(entry.path))
    return kept, back


def link_notes(root: Path, used: set[str]) -> list[str]:
    """Profile notes on the class folders under `root` that are symbolic links: followed, or left out.

    Args:
        root: The folder holding the class folders.
        used: Names of the class folders the dataset kept.
    """
    kept, back = sub_folders(root)
    followed = [d for d in kept if d.name in used and d.is_symlink()]
    notes = []
    if followed:
        links = ", ".join(f"{d.name} -> {os.readlink(d)}" for d in followed)
        notes.append(f"class folders that are symbolic links were followed: {links}")
    if back:
        names = ", ".join(d.name for d in back)
        notes.append(f"symbolic links that lead back to the dataset folder or above were left out (a cycle): {names}")
    return notes


def _is_doc(name: str) -> bool:
    """README, LICENSE and similar files that may sit in a wrapper folder beside its one sub-folder."""
    stem, suffix = os.path.splitext(name.lower())
    return suffix in DOC_SUFFIXES or (stem.startswith(DOC_STEMS) and suffix in ("", ".txt"))


def _wrapped(folder: Path) -> Path | None:
    """The one sub-folder of a wrapper folder, or None when `folder` is not a wrapper.

    A wrapper holds exactly one visible sub-folder and no file but documentation, and that sub-folder
    holds sub-folders itself (else it is a class folder, and `folder` is the class level).
    """
    try:
        entries = [e for e in os.scandir(folder) if not is_hidden(e.name)]
    except OSError:
        return None
    dirs, _ = sub_folders(folder)
    others = [e for e in entries if Path(e.path) not in dirs and not _is_doc(e.name)]
    if len(dirs) != 1 or others or not sub_folders(dirs[0])[0]:
        return None
    return dirs[0]


def unwrap(path: Path) -> Path:
    """Descend from `path` through single-folder wrappers (data/a/b/cat, data/a/b/dog -> data/a/b).

    Stops at the first folder that is not a wrapper (see _wrapped), at a folder already visited through
    a symbolic link (a cycle) and after WRAPPER_DEPTH levels.
    """
    seen = {os.path.realpath(path)}
    for _ in range(WRAPPER_DEPTH):
        inner = _wrapped(path) if path.is_dir() else None
        if inner is None or os.path.realpath(inner) in seen:
            break
        seen.add(os.path.realpath(inner))
        path = inner
    return path


def split_dirs(path: Path) -> dict[str, Path] | None:
    """{"train": dir, "test": dir} when `path` holds train/ and test/ folders (SPLIT_NAMES, any case)."""
    found: dict[str, Path] = {}
    for folder in sub_folders(path)[0]:
        for part, names in SPLIT_NAMES.items():
            if folder.name.lower() in names:
                found.setdefault(part, folder)
    return found if set(found) == {"train", "test"} else None


def split_roots(path: Path) -> tuple[Path, Path | None]:
    """The folder holding the training classes, and the test one if shipped (train/ + test/).

    Single-folder wrappers inside each split are descended (data/train/images/cat -> data/train/images).
    """
    split = split_dirs(path)
    if split is None:
        return path, None
    return unwrap(split["train"]), unwrap(split["test"])


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
        input_spec: What the model takes (kind, shape, dtype and what its HyperModel needs).
        split: "stratified" (shuffle, stratify) or "chronological" (no shuffling across splits).
        skipped: Files that failed while loading (added to the profile's count).
        decode_train: For video, (path, rng) -> clip with a random temporal offset (training augmentation).
        history: For forecasting, the whole target series (the report's forecast plot, MASE's scale).
    """

    x: np.ndarray
    y: np.ndarray
    class_names: list[str] = field(default_factory=list)
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    decode: Callable[[str], np.ndarray] | None = None
    input_spec: InputSpec = field(default_factory=lambda: InputSpec("table", (0,), "float32"))
    split: str = "stratified"
    skipped: list[Skipped] = field(default_factory=list)
    decode_train: Callable[..., np.ndarray] | None = None
    history: SeriesHistory | None = None


@dataclass(frozen=True)
class SeriesHistory:
    """A forecasting dataset's whole target series, training and test periods.

    Attributes:
        values: The target, step by step.
        times: Each step's time (ISO 8601), or step numbers as text.
        target: The target column.
        train_end: Steps that belong to the training file (the rest came from a shipped test file).
    """

    values: list[float]
    times: list[str]
    target: str
    train_end: int


def split_files(files: list[Path]) -> dict[str, str] | None:
    """{"train": f} for one file, {"train": a, "test": b} for a train/test pair, else None."""
    if len(files) == 1:
        return {"train": str(files[0])}
    if len(files) == 2:
        parts: dict[str, str] = {}
        for f in files:
            found = words(f.stem)
            for part in ("train", "test"):
                if part in found or f.stem.lower().endswith(part):
                    parts.setdefault(part, str(f))
        if set(parts) == {"train", "test"} and parts["train"] != parts["test"]:
            return parts
    return None


def tokens(name: str) -> list[str]:
    """Lowercase word tokens of a name, in order ("orderDate" -> ["order", "date"])."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def words(name: str) -> set[str]:
    """The set of tokens of a name."""
    return set(tokens(name))
