"""Video: class sub-folders of video files or of frame folders, optionally under train/ and test/.

Layouts read (hidden files, .DS_Store and Thumbs.db are ignored everywhere):

    data/left/a.mp4  data/right/b.avi                    -> "video-folder"
    data/left/clip01/0001.png ...  data/right/clip07/...  -> "frame-folders"
    data/train/<class>/...  data/test/<class>/...         -> the same, with a shipped test split

GIF rule: a GIF with one frame is an image, a GIF with more frames is a clip. When every class folder
holds only .gif files, `sniff` opens the first GIF of up to GIF_SNIFF_CLASSES class folders (Pillow
reads frame headers, not pixels) and calls the folder video when at least half of them are animated;
otherwise it is left to the image source. Inside a video dataset a one-frame GIF is skipped as
"not a video".

Defaults: T (frames per clip) = `opts.frames`, else the median frame count of the sampled clips capped
at MAX_FRAMES (16) and raised to at least MIN_FRAMES (4). S (frame side) = `opts.size`, else the
smallest frame side in the sample capped at MAX_SIZE (64) and raised to at least MIN_SIZE (8), so frames
are never enlarged beyond the smallest clip. Clips shorter than T are looped (frames.SHORT_CLIP_POLICY).

Profiling reads container metadata with PyAV (frame count, average rate, size, duration, pixel format)
and decodes at most one frame per clip, and only when the container does not record its frame count.
Loading lists files and reads headers (cached from profiling); pixels are decoded later, while streaming.
"""

from __future__ import annotations

import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archpick.datasets.base import (
    Bundle,
    DataOptions,
    is_hidden,
    link_notes,
    safe_check,
    split_roots,
    sub_folders,
)
from archpick.datasets.frames import (
    FRAME_SUFFIXES,
    RESIZE_NOTE,
    SAMPLING_NOTE,
    SHORT_CLIP_NOTE,
    SHORT_CLIP_POLICY,
    VIDEO_SUFFIXES,
    ClipDecoder,
    ClipError,
    ClipInfo,
    decode_clip,
    frame_files,
    is_animated_gif,
    probe_clip,
)
from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError, OptionError
from archpick.profile import DatasetProfile, Skipped, Structure

__all__ = ["SOURCE_NAMES", "sniff", "profile", "load", "decode_clip", "ClipDecoder", "SHORT_CLIP_POLICY"]

SOURCE_NAMES = frozenset({"video-folder", "frame-folders"})
MAX_FRAMES = 16
MIN_FRAMES = 4
MAX_SIZE = 64
MIN_SIZE = 8
GIF_SNIFF_CLASSES = 5
FRAME_SNIFF_FOLDERS = 3


@dataclass
class _Layout:
    """Where the clips are: class name -> clip paths, for the training part and a shipped test part."""

    train_root: Path
    test_root: Path | None
    train: dict[str, list[Path]] = field(default_factory=dict)
    test: dict[str, list[Path]] = field(default_factory=dict)
    ignored: int = 0
    frame_folders: int = 0


def _entries(path: Path) -> list[os.DirEntry]:
    try:
        return [e for e in sorted(os.scandir(path), key=lambda e: e.name) if not is_hidden(e.name)]
    except OSError:
        return []


def _subdirs(path: Path) -> list[Path]:
    return sub_folders(path)[0]


def _class_kind(folder: Path) -> str:
    """What a class folder holds, by names only: video, gif, frames, images, other or empty."""
    entries = _entries(folder)
    suffixes = {Path(e.name).suffix.lower() for e in entries if safe_check(e.is_file)}
    if suffixes & (VIDEO_SUFFIXES - {".gif"}):
        return "video"
    loose_frames = bool(suffixes & FRAME_SUFFIXES)
    dirs = [Path(e.path) for e in entries if safe_check(e.is_dir)]
    if dirs and not loose_frames and any(frame_files(d) for d in dirs[:FRAME_SNIFF_FOLDERS]):
        return "frames"
    if ".gif" in suffixes:
        return "gif"
    if loose_frames:
        return "images"
    return "other" if entries else "empty"


def _clip_classes(root: Path, min_classes: int) -> dict[str, str] | None:
    """Class name -> kind when `root` holds >= min_classes class folders of clips and no image class."""
    kinds = {d.name: _class_kind(d) for d in _subdirs(root)}
    clip_kinds = {name: kind for name, kind in kinds.items() if kind in ("video", "gif", "frames")}
    if len(clip_kinds) < min_classes or any(kind in ("images", "other") for kind in kinds.values()):
        return None
    return clip_kinds


def _gifs_are_clips(root: Path, classes: list[str]) -> bool:
    """The GIF rule: most sampled GIFs (first of each of a few classes) have more than one frame."""
    sampled = animated = 0
    for name in classes[:GIF_SNIFF_CLASSES]:
        entries = _entries(root / name)
        gifs = [Path(e.path) for e in entries if safe_check(e.is_file) and e.name.lower().endswith(".gif")]
        if gifs:
            sampled += 1
            animated += is_animated_gif(gifs[0])
    return sampled > 0 and 2 * animated >= sampled


def sniff(path: Path) -> bool:
    """A folder of >= 2 class sub-folders holding video files or frame folders (optionally in train/+test/).

    Reads names only, plus the headers of a few GIFs when every class holds only GIFs (the GIF rule).
    """
    path = Path(path)
    if not path.is_dir():
        return False
    train_root, test_root = split_roots(path)
    kinds = _clip_classes(train_root, min_classes=2)
    if kinds is None:
        return False
    if test_root is not None and _clip_classes(test_root, min_classes=1) is None:
        return False
    if set(kinds.values()) == {"gif"}:
        return _gifs_are_clips(train_root, sorted(kinds))
    return True


def _class_clips(folder: Path) -> tuple[list[Path], int, int]:
    """Clip paths in a class folder (video files and frame folders), frame folders and other files."""
    clips, dirs, ignored = [], 0, 0
    for entry in _entries(folder):
        if safe_check(entry.is_dir):
            clips.append(Path(entry.path))
            dirs += 1
        elif Path(entry.name).suffix.lower() in VIDEO_SUFFIXES:
            clips.append(Path(entry.path))
        else:
            ignored += 1
    return clips, dirs, ignored


def _scan(path: Path) -> _Layout:
    """List every clip by name (no file is opened)."""
    train_root, test_root = split_roots(path)
    layout = _Layout(train_root, test_root)
    for part, root in (("train", train_root), ("test", test_root)):
        if root is None:
            continue
        for folder in _subdirs(root):
            clips, dirs, ignored = _class_clips(folder)
            layout.ignored += ignored
            layout.frame_folders += dirs
            if clips:
                getattr(layout, part)[folder.name] = clips
    return layout


def _sample(layout: _Layout, limit: int) -> list[Path]:
    """At most `limit` clips, spread evenly over classes and splits (deterministic)."""
    rng = np.random.default_rng(0)
    groups = [list(clips) for part in (layout.train, layout.test) for clips in part.values()]
    for group in groups:
        rng.shuffle(group)
    sample: list[Path] = []
    depth = 0
    while len(sample) < limit and any(depth < len(g) for g in groups):
        for group in groups:
            if depth < len(group) and len(sample) < limit:
                sample.append(group[depth])
        depth += 1
    return sample


def _spread(values: list[float], digits: int = 3) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "min": round(min(values), digits),
        "median": round(float(statistics.median(values)), digits),
        "max": round(max(values), digits),
    }


def _probe(sample: list[Path], path: Path) -> tuple[list[ClipInfo], list[Skipped]]:
    """Container metadata of the sampled clips, and the unreadable ones as skipped.

    Raises:
        DataError: No sampled clip, or fewer than half of them, could be read.
    """
    infos: list[ClipInfo] = []
    skipped: list[Skipped] = []
    for clip in sample:
        try:
            infos.append(probe_clip(clip, validate=True))
        except ClipError as exc:
            skipped.append(Skipped(str(clip), exc.reason))
    if not infos:
        first = skipped[0]
        raise DataError(
            f"none of the {len(sample)} clips opened could be read (first: {first.file}: {first.reason}); "
            "check they are videos, or re-encode them (e.g. ffmpeg -i in.avi out.mp4)",
            path,
        )
    if len(skipped) > len(sample) / 2:
        first = skipped[0]
        raise DataError(
            f"{len(skipped)} of {len(sample)} sampled clips could not be read (first: {first.file}: "
            f"{first.reason}); fix or remove them",
            path,
        )
    return infos, skipped


def _folder_notes(layout: _Layout, empty: list[str], sampled: int, n_clips: int) -> list[str]:
    """Profile notes on dropped classes, sampling and files that are not clips."""
    notes = []
    if empty:
        notes.append(f"classes with no readable clip were dropped: {', '.join(empty)}")
    if sampled < n_clips:
        notes.append(
            f"large folder: {sampled} of {n_clips} clips were opened; unreadable clips found while loading are skipped"
        )
    if layout.ignored:
        notes.append(f"{layout.ignored} files in class folders are not clips and were ignored")
    return notes


def _check_layout(layout: _Layout) -> None:
    """Refuse a layout without clips, with one class, or with test classes that have no training clips."""
    if not layout.train:
        raise DataError(
            "no video files or frame folders in class sub-folders; put clips (mp4/avi/mov/mkv/webm/gif) "
            "or folders of png/jpg frames in one sub-folder per class",
            layout.train_root,
        )
    if len(layout.train) < 2:
        only = next(iter(layout.train))
        raise DataError(
            f"only one class ({only!r}) has clips; add a sub-folder of clips per class, at least two classes",
            layout.train_root,
        )
    unknown = sorted(set(layout.test) - set(layout.train))
    if unknown:
        raise DataError(
            f"test/ has classes with no training clips ({', '.join(unknown)}); add them under train/ or "
            "remove them from test/",
            layout.test_root,
        )


def _structure(
    facts: dict[str, Any], frame_counts: list[int], fps: list[float], resolutions: Counter, all_frame_folders: bool
) -> Structure:
    """Spatial and temporal flags with their evidence, from the profile's facts and the sampled clips."""
    frames, size = facts["frames"], facts["size"]
    median_frames = int(statistics.median(frame_counts)) if frame_counts else None
    colour = "greyscale" if facts["channels"] == 1 else "RGB"
    common = resolutions.most_common(1)[0][0]
    distinct = f", {len(resolutions)} distinct sizes" if len(resolutions) > 1 else ""
    rate = f" at {statistics.median(fps):g} fps" if fps else ""
    length = f"{median_frames} frames" if median_frames else "an unknown number of frames"
    what = "frame folders" if all_frame_folders else "clips"
    return Structure(
        spatial=True,
        temporal=True,
        evidence={
            "spatial": f"frames of {common} {colour}{distinct}"
            + ("" if resolutions.keys() == {f"{size}x{size}"} else f" (resized to {size}x{size})"),
            "temporal": f"{what} of {length}{rate} (median); {frames} frames per clip are sampled",
        },
    )


def _check_options(opts: DataOptions) -> None:
    if opts.frames is not None and opts.frames < 1:
        raise OptionError(f"--frames must be at least 1, got {opts.frames}")
    if opts.size is not None and opts.size < 1:
        raise OptionError(f"--size must be at least 1, got {opts.size}")


def default_frames(frame_counts: list[int], forced: int | None = None) -> int:
    """T: `forced`, else the median frame count capped at MAX_FRAMES and at least MIN_FRAMES."""
    if forced:
        return int(forced)
    if not frame_counts:
        return MAX_FRAMES
    return max(MIN_FRAMES, min(MAX_FRAMES, int(statistics.median(frame_counts))))


def default_size(min_sides: list[int], forced: int | None = None) -> int:
    """S: `forced`, else the smallest frame side capped at MAX_SIZE and at least MIN_SIZE."""
    if forced:
        return int(forced)
    if not min_sides:
        return MAX_SIZE
    return max(MIN_SIZE, min(MAX_SIZE, min(min_sides)))


def profile(path: Path, opts: DataOptions) -> DatasetProfile:
    """Profile a video folder from container metadata of at most `opts.sample_limit` clips.

    Args:
        path: The dataset folder.
        opts: Data options; `frames` and `size` force T and S, `sample_limit` bounds the clips opened.

    Returns:
        The DatasetProfile (modality "video"); facts["frames"] is T and facts["size"] is S.

    Raises:
        DataError: No clips, fewer than two classes with a readable clip, no readable clip, or more than
            half of the sampled clips unreadable.
    """
    _check_options(opts)
    path = Path(path)
    layout = _scan(path)
    where = layout.train_root
    _check_layout(layout)
    sample = _sample(layout, max(1, opts.sample_limit))
    infos, skipped = _probe(sample, path)
    bad = {s.file for s in skipped}
    counts = {name: sum(str(c) not in bad for c in clips) for name, clips in layout.train.items()}
    empty = sorted(name for name, n in counts.items() if n == 0)
    classes = {name: n for name, n in counts.items() if n}
    if len(classes) < 2:
        raise DataError("fewer than two classes have a readable clip; add readable clips to each class folder", where)
    n_test = None
    if layout.test_root is not None:
        n_test = sum(str(c) not in bad for name, clips in layout.test.items() if name in classes for c in clips)

    frame_counts = [i.frames for i in infos if i.frames]
    frames = default_frames(frame_counts, opts.frames)
    size = default_size([min(i.width, i.height) for i in infos], opts.size)
    fps = [i.fps for i in infos if i.fps]
    durations = [i.duration for i in infos if i.duration is not None]
    resolutions = Counter(f"{i.width}x{i.height}" for i in infos)
    channels = 1 if all(i.grey for i in infos) else 3
    short = sum(1 for n in frame_counts if n < frames)
    n_clips = sum(len(c) for part in (layout.train, layout.test) for c in part.values())
    all_frame_folders = layout.frame_folders == n_clips

    facts = {
        "frames": frames,
        "size": size,
        "frames_per_clip": _spread(frame_counts, 1),
        "fps": _spread(fps, 3),
        "duration_s": _spread(durations, 3),
        "resolutions": [{"size": res, "count": n} for res, n in resolutions.most_common()],
        "channels": channels,
        "pix_fmts": dict(Counter(i.pix_fmt for i in infos).most_common()),
        "formats": dict(Counter(i.codec for i in infos).most_common()),
        "frame_counts_from": dict(Counter(i.frames_from for i in infos)),
        "short_clips": short,
        "short_clip_policy": SHORT_CLIP_POLICY,
        "unreadable": len(skipped),
        "sampled": len(sample),
        "n_clips": n_clips,
        "ignored_files": layout.ignored,
    }
    structure = _structure(facts, frame_counts, fps, resolutions, all_frame_folders)
    notes = [SAMPLING_NOTE.format(frames=frames), RESIZE_NOTE.format(size=size)]
    if short:
        notes.append(SHORT_CLIP_NOTE.format(frames=frames) + f" ({short} of {len(frame_counts)} sampled clips)")
    if channels == 1:
        notes.append("all sampled clips are greyscale; frames are decoded to 3 identical RGB channels")
    notes += _folder_notes(layout, empty, len(sample), n_clips) + link_notes(where, set(classes))
    return DatasetProfile(
        path=str(path),
        name=path.resolve().name,
        modality="video",
        task="classification",
        source="frame-folders" if all_frame_folders else "video-folder",
        n_samples=sum(classes.values()),
        classes=classes,
        split="folders" if layout.test_root is not None else "holdout",
        n_test=n_test,
        facts=facts,
        structure=structure,
        skipped=skipped,
        notes=notes,
    )


def load(profile: DatasetProfile, opts: DataOptions) -> Bundle:
    """Clip paths and labels; no frame is decoded here (headers are read, cached from profiling).

    Args:
        profile: The profile from `profile`.
        opts: Data options; `frames` and `size` override the profile's T and S.

    Returns:
        A Bundle: x/x_test are object arrays of clip paths, y/y_test int64 class indices, `decode` the
        deterministic path -> (T, S, S, 3) uint8 clip, `decode_train` the (path, rng) -> clip sampler with a
        random temporal offset (clips shorter than T are looped; the profile counts them).

    Raises:
        DataError: More than half of the clips cannot be read.
    """
    _check_options(opts)
    frames = int(opts.frames or profile.facts["frames"])
    size = int(opts.size or profile.facts["size"])
    layout = _scan(Path(profile.path))
    class_names = sorted(profile.classes)
    index = {name: i for i, name in enumerate(class_names)}
    known_bad = {s.file for s in profile.skipped}
    skipped: list[Skipped] = []
    checked = 0

    def gather(part: dict[str, list[Path]]) -> tuple[np.ndarray, np.ndarray]:
        nonlocal checked
        xs, ys = [], []
        for name, clips in part.items():
            if name not in index:
                continue
            for clip in clips:
                if str(clip) in known_bad:
                    continue
                checked += 1
                try:
                    probe_clip(clip, validate=False)
                except ClipError as exc:
                    skipped.append(Skipped(str(clip), exc.reason))
                    continue
                xs.append(str(clip))
                ys.append(index[name])
        return np.array(xs, dtype=object), np.array(ys, dtype=np.int64)

    x, y = gather(layout.train)
    x_test = y_test = None
    if layout.test_root is not None:
        x_test, y_test = gather(layout.test)
    if checked and len(skipped) > checked / 2:
        first = skipped[0]
        raise DataError(
            f"{len(skipped)} of {checked} clips could not be read (first: {first.file}: {first.reason}); "
            "fix or remove them",
            profile.path,
        )
    if len(x) == 0:
        raise DataError("no readable training clip; check the class folders", profile.path)
    decoder = ClipDecoder(frames, size)
    return Bundle(
        x=x,
        y=y,
        class_names=class_names,
        x_test=x_test,
        y_test=y_test,
        decode=decoder,
        input_spec=InputSpec("video", (frames, size, size, 3), "uint8", channels=3, frames=frames, size=size),
        split="stratified",
        skipped=skipped,
        decode_train=decoder,
    )
