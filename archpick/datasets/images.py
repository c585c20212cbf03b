"""Image grids: class sub-folders of image files, optionally under train/ and test/."""

from __future__ import annotations

import os
import random
import statistics
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from archpick.datasets.base import (
    GREY_MODES,
    Bundle,
    DataOptions,
    is_hidden,
    link_notes,
    safe_check,
    split_roots,
    sub_folders,
)
from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError
from archpick.profile import DatasetProfile, Skipped, Structure

SOURCE_NAMES = frozenset({"image-folder"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
MAX_PIXELS = 89_478_485  # Pillow's own decompression-bomb limit
MAX_SIDE_CPU = 128  # images larger than this are resized on CPU; override with --size


def is_image_file(path: Path) -> bool:
    """True for a visible file with an image suffix."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not is_hidden(path.name)


def _files(path: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries if not is_hidden(e.name) and safe_check(e.is_file)]


def _unreadable(folders: list[Path]) -> list[Skipped]:
    """Folders that cannot be listed (permissions, I/O errors), as skipped entries."""
    out = []
    for folder in folders:
        try:
            with os.scandir(folder):
                pass
        except OSError as exc:
            out.append(Skipped(str(folder), f"cannot read this class folder ({exc.strerror}); check its permissions"))
    return out


def class_files(root: Path) -> dict[str, list[Path]]:
    """Class name -> image files directly inside that class folder."""
    return {d.name: [f for f in _files(d) if is_image_file(f)] for d in sub_folders(root)[0]}


def sniff(path: Path) -> bool:
    """A folder whose sub-folders (or train/ sub-folders) hold image files directly."""
    if not path.is_dir():
        return False
    root, _ = split_roots(path)
    return any(files for files in class_files(root).values())


def _open_header(path: Path) -> tuple[int, int, str, int]:
    """Width, height, mode and frame count from the header; raises on unreadable files."""
    if path.stat().st_size == 0:
        raise ValueError("empty file (0 bytes)")
    with _open_checked(path) as img:
        return img.size[0], img.size[1], img.mode, getattr(img, "n_frames", 1)


def _open_checked(path: Path):
    """Image.open, refusing declared sizes over MAX_PIXELS with our own message instead of Pillow's warning."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(path)
    width, height = img.size
    if width * height > MAX_PIXELS:
        img.close()
        raise ValueError(f"declared size {width}x{height} exceeds {MAX_PIXELS} pixels (decompression bomb)")
    return img


def _verify(path: Path) -> None:
    """Fully decode a file; raises on truncated or corrupt data."""
    from PIL import Image

    with Image.open(path) as img:
        img.load()


def profile(path: Path, opts: DataOptions) -> DatasetProfile:
    """Profile an image folder from headers (all files when few, a sample when many).

    Args:
        path: The dataset folder.
        opts: Data options; `sample_limit` bounds how many files are opened, `size` forces the side.

    Returns:
        The DatasetProfile.

    Raises:
        DataError: No classes, one class, or no readable image.
    """
    root, test_root = split_roots(path)
    locked = _unreadable(sub_folders(root)[0])
    classes = class_files(root)
    classes = {name: files for name, files in classes.items() if files}
    if not classes:
        raise DataError("no image files in class sub-folders; put images in one folder per class", path)
    if len(classes) < 2:
        only = next(iter(classes))
        also = f" ({len(locked)} class folder(s) could not be read, first: {locked[0].file})" if locked else ""
        raise DataError(f"only one class ({only!r}){also}; add a folder per class with at least two classes", path)
    test_classes = class_files(test_root) if test_root else {}
    all_files = [f for files in classes.values() for f in files]
    verify_all = len(all_files) <= opts.sample_limit
    sample = all_files if verify_all else random.Random(0).sample(all_files, opts.sample_limit)
    sizes, modes, skipped = _read_headers(sample, verify_all)
    bad = {s.file for s in skipped}
    counts = {name: sum(str(f) not in bad for f in files) for name, files in classes.items()}
    usable = sum(counts.values())
    if not sizes:
        raise DataError("no readable image; check the files are real images", path)
    if len(sample) and len(skipped) > len(sample) // 2:
        raise DataError(
            f"{len(skipped)} of {len(sample)} images could not be read (first: {skipped[0].file}); fix or remove them",
            path,
        )
    empty = [name for name, n in counts.items() if n == 0]
    if len(counts) - len(empty) < 2:
        raise DataError("fewer than two classes have a readable image; add images per class", path)
    single = [name for name, n in counts.items() if n == 1]
    heights = [h for (h, _), n in sizes.items() for _ in range(n)]
    widths = [w for (_, w), n in sizes.items() for _ in range(n)]
    channels = 1 if set(modes) <= GREY_MODES else 3
    same = len(sizes) == 1
    if opts.size:
        target = (opts.size, opts.size)
    elif same and max(heights[0], widths[0]) <= 256:
        target = (heights[0], widths[0])
    else:
        side = int(min(statistics.median(max(h, w) for h, w in zip(heights, widths)), MAX_SIDE_CPU))
        target = (max(side, 8), max(side, 8))
    n_test = sum(len(f) for f in test_classes.values()) if test_root else None
    facts = {
        "height": _spread(heights),
        "width": _spread(widths),
        "distinct_sizes": len(sizes),
        "common_sizes": [f"{w}x{h}: {n}" for (h, w), n in sizes.most_common(5)],
        "modes": dict(modes),
        "channels": channels,
        "target_size": list(target),
        "sampled": len(sample),
        "files": len(all_files),
        "verified": "all files decoded" if verify_all else f"headers of {len(sample)} sampled files",
    }
    structure = Structure(
        spatial=True,
        evidence={
            "spatial": f"{usable} images of {facts['common_sizes'][0].split(':')[0]} pixels"
            + ("" if same else f" ({len(sizes)} distinct sizes, resized to {target[1]}x{target[0]})"),
            "temporal": "each sample is one still image; the order of files carries no meaning",
        },
    )
    notes = _notes(single, empty, verify_all, locked) + link_notes(root, set(classes))
    return DatasetProfile(
        path=str(path),
        name=path.resolve().name,
        modality="image",
        task="classification",
        source="image-folder",
        n_samples=usable,
        classes={k: v for k, v in counts.items() if v},
        split="folders" if test_root else "holdout",
        n_test=n_test,
        facts=facts,
        structure=structure,
        skipped=locked + skipped,
        notes=notes,
    )


def _read_headers(sample: list[Path], verify: bool) -> tuple[Counter, Counter, list[Skipped]]:
    """Sizes (height, width) and Pillow modes of the readable files, and the unreadable ones as skipped.

    Args:
        sample: Image files to open.
        verify: Decode every file fully (small folders), not just its header.
    """
    sizes: Counter[tuple[int, int]] = Counter()
    modes: Counter[str] = Counter()
    skipped: list[Skipped] = []
    for file in sample:
        try:
            width, height, mode, _ = _open_header(file)
            if verify:
                _verify(file)
        except Exception as exc:  # noqa: BLE001 - any decoder failure means the file is unusable
            skipped.append(Skipped(str(file), _reason(exc)))
            continue
        sizes[(height, width)] += 1
        modes[mode] += 1
    return sizes, modes, skipped


def _notes(single: list[str], empty: list[str], verified: bool, locked: list[Skipped]) -> list[str]:
    """Profile notes on thin, dropped and unreadable classes, and on sampling."""
    notes = []
    if single:
        notes.append(f"classes with a single image: {', '.join(single)}; their metrics are unreliable")
    if empty:
        notes.append(f"classes with no readable image were dropped: {', '.join(empty)}")
    if not verified:
        notes.append("large folder: headers were sampled; unreadable files found while training are skipped")
    if locked:
        names = ", ".join(Path(s.file).name for s in locked)
        notes.append(f"class folders that could not be read were skipped: {names}")
    return notes


def _spread(values: list[int]) -> dict[str, float]:
    return {"min": min(values), "median": float(statistics.median(values)), "max": max(values)}


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "cannot identify image file" in text:
        return "not an image (unknown format)"
    if "truncated" in text.lower() or "broken data stream" in text.lower():
        return "truncated or corrupt image data"
    return text.splitlines()[0][:160]


def decode_image(path: str | Path, channels: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an image file as raw uint8 pixels, the way the exported model expects them.

    16-bit images are scaled to 8 bits, palette and alpha images are converted.

    Args:
        path: Image file.
        channels: 1 (greyscale) or 3 (RGB).
        size: (height, width) to resize to, or None to keep the native size.

    Returns:
        uint8 array of shape (H, W, channels).
    """
    from PIL import Image

    with _open_checked(Path(path)) as img:
        img.load()
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(img, dtype=np.float64)
            peak = 65535.0 if arr.max() > 255 else 255.0
            img = Image.fromarray(np.clip(arr / peak * 255.0, 0, 255).astype(np.uint8), mode="L")
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, rgba)
        img = img.convert("L" if channels == 1 else "RGB")
        if size is not None and img.size != (size[1], size[0]):
            img = img.resize((size[1], size[0]), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if channels == 1 else arr


def load(profile: DatasetProfile, opts: DataOptions) -> Bundle:
    """File lists and labels; pixels are decoded later, while streaming."""
    path = Path(profile.path)
    root, test_root = split_roots(path)
    class_names = sorted(profile.classes)
    index = {name: i for i, name in enumerate(class_names)}
    bad = {s.file for s in profile.skipped}

    def gather(base: Path) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for name, files in class_files(base).items():
            if name not in index:
                continue
            for f in files:
                if str(f) not in bad:
                    xs.append(str(f))
                    ys.append(index[name])
        return np.array(xs, dtype=object), np.array(ys, dtype=np.int64)

    x, y = gather(root)
    x_test = y_test = None
    if test_root is not None:
        x_test, y_test = gather(test_root)
    height, width = profile.facts["target_size"]
    channels = profile.facts["channels"]

    def decode(file: str) -> np.ndarray:
        return decode_image(file, channels, (height, width))

    return Bundle(
        x=x,
        y=y,
        class_names=class_names,
        x_test=x_test,
        y_test=y_test,
        decode=decode,
        input_spec=InputSpec("image", (height, width, channels), "uint8", channels=channels),
    )
