"""Open a path as a dataset: pick the source module, profile it, load it. No TensorFlow here."""

from __future__ import annotations

import errno
import importlib
import os
import statistics
from pathlib import Path
from types import ModuleType

from archpick.datasets.base import (
    Bundle,
    DataOptions,
    is_hidden,
    safe_check,
    special_kind,
    split_dirs,
    unwrap,
)
from archpick.datasets.frames import VIDEO_SUFFIXES
from archpick.datasets.images import IMAGE_SUFFIXES
from archpick.errors import DataError, OptionError
from archpick.profile import DatasetProfile

# Tried in this order: video before images (GIF class folders and frame folders), text folders before
# tables, single files last.
SOURCE_MODULES = ("video", "images", "text", "tsfile", "arrays", "tables")
KIND_MODULES = {
    "image": ("images", "arrays"),
    "video": ("video", "arrays"),
    "text": ("text", "tables"),
    "sequence": ("tsfile", "arrays", "tables"),
    "timeseries": ("tables",),
    "table": ("tables", "arrays"),
}
# Files that sit directly in a class folder (the image and video sources' own lists, plus text) ...
CLASS_FILE_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES | {".txt"}
# ... and every file a detector reads (tables, .ts and arrays are spelled here to keep pandas out of inspect).
DATA_SUFFIXES = CLASS_FILE_SUFFIXES | {".csv", ".tsv", ".parquet", ".pq", ".ts", ".npz", ".npy"}
FRAME_FOLDER_MAX_FILES = 64  # a clip folder holds at most this many frames (median) ...
FRAME_FOLDER_MIN_CLIPS = 5  # ... and a class holds at least this many clip folders (median)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"archpick.datasets.{name}")


def _visible(path: Path) -> list[os.DirEntry]:
    try:
        return [e for e in sorted(os.scandir(path), key=lambda e: e.name) if not is_hidden(e.name)]
    except PermissionError as exc:
        raise DataError("cannot read this folder (permission denied); check its permissions", path) from exc
    except OSError as exc:
        raise DataError(f"cannot read this folder ({exc.strerror}); check the path", path) from exc


def _has_data_files(path: Path, suffixes: frozenset[str] = DATA_SUFFIXES) -> bool:
    return any(safe_check(e.is_file) and Path(e.name).suffix.lower() in suffixes for e in _visible(path))


def looks_like_frame_folders(path: Path) -> bool:
    """Class folders of clip folders of frames, as opposed to a collection of image datasets.

    Both layouts are folder/sub/leaf/files. Clips are many short leaves per class; image classes are
    few, large leaves per dataset. The thresholds are FRAME_FOLDER_MAX_FILES and FRAME_FOLDER_MIN_CLIPS.
    """
    leaves_per_mid, files_per_leaf = [], []
    for mid in (Path(e.path) for e in _visible(path) if e.is_dir(follow_symlinks=False)):
        leaves = [Path(e.path) for e in _visible(mid) if e.is_dir(follow_symlinks=False)]
        if not leaves or _has_data_files(mid):
            return False
        leaves_per_mid.append(len(leaves))
        for leaf in leaves[:20]:
            files_per_leaf.append(sum(1 for e in _visible(leaf) if safe_check(e.is_file)))
    if len(leaves_per_mid) < 2 or not files_per_leaf:
        return False
    return (
        statistics.median(files_per_leaf) <= FRAME_FOLDER_MAX_FILES
        and statistics.median(leaves_per_mid) >= FRAME_FOLDER_MIN_CLIPS
    )


def collection_members(path: Path) -> list[Path]:
    """Sub-folders (or data files) that are datasets of their own, or [] when `path` is one dataset.

    A folder is one dataset when its sub-folders hold data files directly (class folders), when it holds
    train/ and test/ split folders, when it is a video dataset of frame folders, or when one detector
    recognises the folder itself. Otherwise each sub-folder that a detector recognises is a member.
    """
    if not path.is_dir():
        return []
    entries = _visible(path)
    subdirs = [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    readable = [d for d in subdirs if _readable(d)]
    if split_dirs(path) is not None or any(_has_data_files(d, CLASS_FILE_SUFFIXES) for d in readable):
        return []
    if len(readable) < len(subdirs):
        # An unreadable sub-folder: a class folder of this dataset (the source module skips and counts it)
        # when a detector recognises the folder without it, else a member the collection skips and counts.
        if _sniff(path) is not None:
            return []
        members = [d for d in readable if _sniff(d) is not None or collection_members(d)]
        return members + [d for d in subdirs if d not in readable] if members else []
    if looks_like_frame_folders(path):
        return []
    if _sniff(path, exclude=("images", "video", "text")) is not None:
        return []
    return [d for d in subdirs if _sniff(d) is not None or collection_members(d)]


def _loops(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _readable(folder: Path) -> bool:
    try:
        with os.scandir(folder):
            return True
    except OSError:
        return False


def _sniff(path: Path, exclude: tuple[str, ...] = ()) -> ModuleType | None:
    for name in SOURCE_MODULES:
        if name in exclude:
            continue
        module = _module(name)
        if module.sniff(path):
            return module
    return None


def profile_path(path: str | Path, opts: DataOptions | None = None) -> DatasetProfile:
    """Detect what `path` holds and profile it.

    Args:
        path: A dataset folder or file, or a folder of datasets.
        opts: Data options (kind override, target, horizon...).

    Returns:
        The DatasetProfile; for a folder of datasets, modality "collection" with `members`.

    Raises:
        DataError: The path is missing, empty, or not a dataset archpick understands.
        OptionError: A count option (size, frames, horizon, lookback) below 1.
    """
    opts = opts or DataOptions()
    _check_counts(opts)
    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            if _loops(path):
                raise DataError("is a symbolic link that loops back on itself; point it at a real folder", path)
            raise DataError("is a broken symbolic link; point it at a real folder", path)
        raise DataError("does not exist; check the path", path)
    _check_file_type(path)
    if path.is_dir() and not _visible(path):
        raise DataError("the folder is empty; put one sub-folder per class (or a CSV) in it", path)
    inner = unwrap(path)
    if inner != path:
        _check_file_type(inner)
    if opts.kind is None:
        members = collection_members(inner)
        if members:
            return _unwrapped(path, _collection(inner, members, opts))
    return _unwrapped(path, _pick(inner, opts).profile(inner, opts))


def _check_file_type(path: Path) -> None:
    """Refuse anything but a regular file or a folder, from its mode alone (a FIFO is never opened).

    In a folder, a FIFO, device or socket named like a data file (data.csv) is refused too: a detector
    would open it, and opening a FIFO waits for a writer forever.
    """
    try:
        what = special_kind(os.stat(path).st_mode)
    except OSError as exc:
        raise DataError(f"cannot read it ({exc.strerror}); check the path and its permissions", path) from exc
    if what:
        raise DataError(
            f"is {what}, not a data file or folder; give a CSV/Parquet, .ts or .npz file or a dataset folder", path
        )
    if not path.is_dir():
        return
    for entry in _visible(path):
        if Path(entry.name).suffix.lower() not in DATA_SUFFIXES or safe_check(entry.is_file):
            continue
        try:
            what = special_kind(entry.stat().st_mode)
        except OSError:
            continue  # a dangling or looping link: no detector opens it
        if what:
            raise DataError(
                f"is {what}, not a data file or folder; remove it or replace it with a regular file", entry.path
            )


def _unwrapped(path: Path, profile: DatasetProfile) -> DatasetProfile:
    """Keep the name the user gave, and say where the data was found below single-folder wrappers."""
    inner = Path(profile.path)
    if inner == path:
        return profile
    profile.name = path.resolve().name
    profile.notes.insert(
        0, f"found the data in {inner.relative_to(path)}/ inside {path}: single-folder wrappers were descended"
    )
    return profile


def _check_counts(opts: DataOptions) -> None:
    """--size, --frames, --horizon and --lookback are counts: refuse zero and negative values up front."""
    for name in ("size", "frames", "horizon", "lookback"):
        value = getattr(opts, name)
        if value is not None and value < 1:
            raise OptionError(f"--{name} must be at least 1, got {value}")


def _pick(path: Path, opts: DataOptions) -> ModuleType:
    names = KIND_MODULES.get(opts.kind, SOURCE_MODULES) if opts.kind else SOURCE_MODULES
    for name in names:
        module = _module(name)
        if module.sniff(path):
            return module
    what = f"as {opts.kind} data" if opts.kind else "as a dataset"
    if path.is_dir() and not path.is_file():
        subdirs = [Path(e.path) for e in _visible(path) if e.is_dir(follow_symlinks=False)]
        if subdirs and all(_readable(d) and not _visible(d) for d in subdirs) and not _has_data_files(path):
            names = ", ".join(d.name for d in subdirs[:5])
            raise DataError(f"its sub-folders ({names}) are empty; put the files of each class in its folder", path)
    if path.is_file():
        raise DataError(
            f"cannot read this file {what}; give a CSV/Parquet, .ts, .npz/.npy file or a folder of class sub-folders",
            path,
        )
    raise DataError(
        f"cannot read this folder {what}: no class sub-folders of images, videos or .txt files, and no "
        "CSV/Parquet, .ts or .npz file; see `archpick inspect --help`",
        path,
    )


def _collection(path: Path, members: list[Path], opts: DataOptions) -> DatasetProfile:
    profiles, problems = [], []
    for member in members:
        try:
            profiles.append(profile_path(member, opts))
        except DataError as exc:
            problems.append(exc)
    if not profiles:
        raise problems[0]
    from archpick.profile import Skipped

    return DatasetProfile(
        path=str(path),
        name=path.resolve().name,
        modality="collection",
        task="",
        source="collection",
        n_samples=sum(p.n_samples for p in profiles),
        members=profiles,
        skipped=[Skipped(e.path or str(path), e.reason) for e in problems],
        facts={"datasets": len(profiles)},
    )


def module_for(profile: DatasetProfile) -> ModuleType:
    """The source module that produced `profile`."""
    for name in SOURCE_MODULES:
        module = _module(name)
        if profile.source in getattr(module, "SOURCE_NAMES", ()):
            return module
    raise DataError(f"no reader for source {profile.source!r}", profile.path)


def load(profile: DatasetProfile, opts: DataOptions | None = None) -> Bundle:
    """Load the samples of a profiled dataset (arrays or file lists; still no TensorFlow)."""
    opts = opts or DataOptions()
    bundle = module_for(profile).load(profile, opts)
    bundle.skipped = list(profile.skipped) + list(bundle.skipped)
    return bundle
