"""Reading video clips without TensorFlow: container metadata, and streamed frame sampling.

A clip is one of:

- a video file (mp4, avi, mov, mkv, webm, ...), read with PyAV;
- an animated GIF, read with Pillow (a GIF with one frame is a still image, not a clip);
- a frame folder: a folder of png/jpg files, one per frame, in natural name order (frame2 < frame10).

`probe_clip` reads metadata only (frame count, fps, size, pixel format) and decodes at most the first
frame, when the container does not record its frame count. `decode_clip` samples a fixed number of
frames uniformly over the clip, keeping only the sampled frames (resized) while it decodes, so no more
than one clip's frames is ever held. Clips shorter than the requested number of frames are looped (see
SHORT_CLIP_POLICY). Every frame is converted to RGB and resized to size x size with bilinear filtering;
the aspect ratio is not kept.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archpick.datasets.base import GREY_MODES, is_hidden, safe_check
from archpick.errors import DataError

if TYPE_CHECKING:
    import av
    from PIL import Image

Rng = np.random.Generator | None

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".avi", ".mov", ".mkv", ".webm", ".gif", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv", ".3gp"}
)
FRAME_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})
GREY_PIX_FMT_PREFIXES = ("gray", "ya8", "ya16", "monob", "monow")

SHORT_CLIP_POLICY = "looped"
SHORT_CLIP_NOTE = (
    "clips shorter than {frames} frames are looped: their frames repeat from the start until {frames} frames are filled"
)
RESIZE_NOTE = "every frame is converted to RGB and resized to {size}x{size} (bilinear; aspect ratio not kept)"
SAMPLING_NOTE = (
    "{frames} frames are sampled uniformly over each clip (evaluation: segment centres; "
    "training: a random frame in each of {frames} equal segments)"
)

# Container signatures: a file that starts like a video but cannot be opened has a corrupt header.
_SIGNATURES = (
    (4, b"ftyp"),  # mp4, mov, m4v, 3gp
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (4, b"free"),
    (0, b"RIFF"),  # avi
    (0, b"\x1a\x45\xdf\xa3"),  # mkv, webm
    (0, b"GIF8"),
    (0, b"\x00\x00\x01\xba"),  # mpeg program stream
    (0, b"\x00\x00\x01\xb3"),  # mpeg video
    (0, b"OggS"),
    (0, b"FLV"),
    (0, b"\x30\x26\xb2\x75"),  # asf / wmv
)
_PROBE_CACHE: dict[tuple[str, int, int], ClipInfo] = {}
_PROBE_CACHE_MAX = 200_000


class ClipError(DataError):
    """A clip that cannot be used; `reason` is the short text recorded as `Skipped.reason`.

    Args:
        reason: Why, in a few words (e.g. "0 frames", "corrupt header", "not a video").
        path: The clip file or frame folder (or the frame file at fault).
    """

    def __init__(self, reason: str, path: str | Path):
        super().__init__(f"cannot read this clip ({reason}); re-encode it or remove it", path)
        self.reason = reason


@dataclass
class ClipInfo:
    """Metadata of one clip, read from its header.

    Attributes:
        path: The clip file or frame folder.
        kind: "video" (PyAV), "gif" (Pillow) or "frames" (a frame folder).
        frames: Frame count, or None when neither the container nor its duration says.
        frames_from: Where `frames` came from: "metadata", "duration", "gif-header", "count" or "unknown".
        fps: Frames per second (average rate), or None when unknown (frame folders).
        width: Frame width in pixels.
        height: Frame height in pixels.
        duration: Seconds, or None when unknown.
        pix_fmt: FFmpeg pixel format (video) or Pillow mode (GIF, frames).
        grey: True when the pixel format carries no colour.
        codec: Codec name (video), "gif", or the frame file suffix.
    """

    path: str
    kind: str
    frames: int | None
    frames_from: str
    fps: float | None
    width: int
    height: int
    duration: float | None
    pix_fmt: str
    grey: bool
    codec: str


def clip_kind(path: str | Path) -> str | None:
    """ "video", "gif" or "frames" by name and type, or None when `path` cannot be a clip."""
    path = Path(path)
    if is_hidden(path.name):
        return None
    if path.is_dir():
        return "frames"
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return "gif"
    return "video" if suffix in VIDEO_SUFFIXES else None


def natural_key(name: str) -> list[object]:
    """Sort key that orders embedded numbers by value: frame2 before frame10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def frame_files(folder: str | Path) -> list[Path]:
    """The visible png/jpg/... files of a frame folder, in natural name order."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    names = [
        e.name
        for e in entries
        if not is_hidden(e.name) and Path(e.name).suffix.lower() in FRAME_SUFFIXES and safe_check(e.is_file)
    ]
    return [Path(folder) / n for n in sorted(names, key=natural_key)]


def is_animated_gif(path: str | Path) -> bool:
    """True when a GIF holds more than one frame (Pillow reads frame headers, not pixels).

    This is the GIF rule shared by the image and video sources: one frame is a still image, more
    frames make a clip. Unreadable files count as not animated.
    """
    from PIL import Image

    try:
        with Image.open(path) as img:
            return bool(getattr(img, "is_animated", False))
    except Exception:  # noqa: BLE001 - any reader failure means "not a clip"
        return False


def probe_clip(path: str | Path, validate: bool = True) -> ClipInfo:
    """Read a clip's metadata from its header, decoding at most its first frame.

    Results are cached per (path, size, mtime), so a later `load` does not reopen sampled clips.

    Args:
        path: A video file, GIF or frame folder.
        validate: When the container does not record a frame count, decode the first frame to check
            that the clip holds any (True), or trust the duration (False: no decoding at all).

    Returns:
        The clip's ClipInfo.

    Raises:
        ClipError: The clip cannot be used; `reason` says why.
    """
    path = Path(os.fsdecode(path))
    try:
        stat = path.stat()
    except OSError as exc:
        raise ClipError(f"cannot open ({exc.strerror or exc})", path) from exc
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _PROBE_CACHE:
        return _PROBE_CACHE[key]
    kind = clip_kind(path)
    if kind == "frames":
        info = _probe_frames(path)
    elif kind == "gif":
        info = _probe_gif(path)
    elif kind == "video":
        if stat.st_size == 0:
            raise ClipError("empty file (0 bytes)", path)
        info = _probe_video(path, validate)
    else:
        raise ClipError("not a video (unknown file type)", path)
    if len(_PROBE_CACHE) >= _PROBE_CACHE_MAX:
        _PROBE_CACHE.clear()
    _PROBE_CACHE[key] = info
    return info


def is_grey_pix_fmt(pix_fmt: str) -> bool:
    """True for FFmpeg pixel formats without colour (gray, gray10le, ya8, monob...)."""
    return pix_fmt.startswith(GREY_PIX_FMT_PREFIXES)


def _starts_like_video(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _SIGNATURES)


def _open_error(path: Path) -> ClipError:
    """Name the reason an `av.open` failed: corrupt header of a video, or not a video at all."""
    if _starts_like_video(path):
        reason = "corrupt header (truncated or damaged container)"
    else:
        reason = "not a video (unrecognised data)"
    return ClipError(reason, path)


def _probe_video(path: Path, validate: bool) -> ClipInfo:
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise _open_error(path) from exc
    with container:
        if not container.streams.video:
            if container.streams.audio:
                raise ClipError("not a video (audio only)", path)
            if not container.streams:
                raise ClipError("corrupt header (no streams: truncated or empty container)", path)
            raise ClipError("not a video (no video stream)", path)
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        duration: float | None = None
        if stream.duration and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        elif stream.duration == 0:
            duration = 0.0
        frames: int | None = int(stream.frames or 0)
        frames_from = "metadata"
        width, height = stream.width, stream.height
        pix_fmt = stream.codec_context.pix_fmt or ""
        if not frames:
            if duration and fps:
                frames, frames_from = max(1, round(duration * fps)), "duration"
            else:
                frames, frames_from = None, "unknown"
            if not validate and duration == 0:
                raise ClipError("0 frames", path)
            if validate:
                first = _first_frame(container, stream, path)
                width, height = width or first.width, height or first.height
                pix_fmt = pix_fmt or first.format.name
        codec = stream.codec_context.name
    if not width or not height:
        raise ClipError("corrupt header (no frame size)", path)
    return ClipInfo(
        path=str(path),
        kind="video",
        frames=frames,
        frames_from=frames_from,
        fps=fps,
        width=width,
        height=height,
        duration=duration,
        pix_fmt=pix_fmt,
        grey=is_grey_pix_fmt(pix_fmt),
        codec=codec,
    )


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream, path: Path) -> av.VideoFrame:
    import av

    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as exc:
        raise ClipError("corrupt data (first frame cannot be decoded)", path) from exc
    raise ClipError("0 frames", path)


def _probe_gif(path: Path) -> ClipInfo:
    from PIL import Image

    try:
        with Image.open(path) as img:
            n = int(getattr(img, "n_frames", 1))
            width, height = img.size
            mode = img.mode
            per_frame_ms = img.info.get("duration") or 0
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file is unusable
        reason = "corrupt header" if _starts_like_video(path) else "not a video (unrecognised data)"
        raise ClipError(reason, path) from exc
    if n < 2:
        raise ClipError("not a video (a GIF with one frame is a still image)", path)
    fps = 1000.0 / per_frame_ms if per_frame_ms else None
    duration = n * per_frame_ms / 1000.0 if per_frame_ms else None
    return ClipInfo(
        path=str(path),
        kind="gif",
        frames=n,
        frames_from="gif-header",
        fps=fps,
        width=width,
        height=height,
        duration=duration,
        pix_fmt=mode,
        grey=mode in GREY_MODES,
        codec="gif",
    )


def _probe_frames(folder: Path) -> ClipInfo:
    from PIL import Image

    files = frame_files(folder)
    if not files:
        raise ClipError("0 frames (no png/jpg files in the frame folder)", folder)
    try:
        with Image.open(files[0]) as img:
            width, height = img.size
            mode = img.mode
    except Exception as exc:  # noqa: BLE001 - any reader failure means the frame is unusable
        raise ClipError(f"corrupt frame {files[0].name}", folder) from exc
    return ClipInfo(
        path=str(folder),
        kind="frames",
        frames=len(files),
        frames_from="count",
        fps=None,
        width=width,
        height=height,
        duration=None,
        pix_fmt=mode,
        grey=mode in GREY_MODES,
        codec=files[0].suffix.lower().lstrip("."),
    )


def sample_indices(
    n: int, frames: int, offset: int | None = None, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Which frames of an n-frame clip to take.

    The clip (from `offset` on) is cut into `frames` equal segments. Without `rng` the centre of each
    segment is taken (deterministic, for evaluation and prediction); with `rng` a random frame of each
    segment (a random temporal offset and jitter, for training). A clip with fewer than `frames` frames
    is looped from the start (with `rng`, from a random start frame).

    Args:
        n: Frames in the clip (>= 1).
        frames: Frames to take (>= 1).
        offset: First frame to consider; None for 0. Clamped to the clip.
        rng: Random generator for training-time sampling, or None.

    Returns:
        int64 array of `frames` indices in [0, n), non-decreasing unless the clip loops.
    """
    if n < 1 or frames < 1:
        raise ValueError(f"need n >= 1 and frames >= 1, got n={n}, frames={frames}")
    start = min(max(int(offset or 0), 0), n - 1)
    span = n - start
    if span >= frames:
        edges = start + (np.arange(frames + 1) * span) // frames
        if rng is None:
            return ((edges[:-1] + edges[1:] - 1) // 2).astype(np.int64)
        return rng.integers(edges[:-1], edges[1:]).astype(np.int64)
    phase = int(rng.integers(span)) if rng is not None else 0
    return (start + (phase + np.arange(frames)) % span).astype(np.int64)


def decode_clip(
    path: str | bytes | os.PathLike,
    frames: int,
    size: int,
    offset: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Decode `frames` frames of a clip, sampled uniformly, as uint8 RGB of size x size.

    Decoding streams: frames are read in order and only the sampled ones are kept (already resized),
    so memory stays at one clip of (frames, size, size, 3). Clips shorter than `frames` are looped.
    Greyscale, palette and alpha frames are converted to RGB (alpha over white).

    Args:
        path: A video file, animated GIF or frame folder (bytes paths from tf.data are accepted).
        frames: Frames per clip (T).
        size: Output side in pixels (S); frames are resized with bilinear filtering.
        offset: First frame to sample from (see `sample_indices`); None for the whole clip.
        rng: For training: a random frame per segment (random offset and jitter). None: deterministic.

    Returns:
        uint8 array of shape (frames, size, size, 3).

    Raises:
        ClipError: A DataError naming the clip (or frame file) that cannot be decoded.
    """
    if frames < 1 or size < 1:
        raise ValueError(f"frames and size must be >= 1, got frames={frames}, size={size}")
    path = Path(os.fsdecode(path))
    kind = clip_kind(path)
    if kind == "frames":
        return _decode_frames(path, frames, size, offset, rng)
    if kind == "gif":
        return _decode_gif(path, frames, size, offset, rng)
    if kind == "video":
        return _decode_video(path, frames, size, offset, rng)
    if not path.exists():
        raise ClipError("cannot open (no such file)", path)
    raise ClipError("not a video (unknown file type)", path)


def _to_array(img: Image.Image, size: int) -> np.ndarray:
    """RGB uint8 (size, size, 3) from any Pillow image."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / peak * 255.0, 0, 255).astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    if img.mode != "RGB":
        img = img.convert("RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def _assemble(indices: np.ndarray, kept: dict[int, np.ndarray], size: int) -> np.ndarray:
    out = np.empty((len(indices), size, size, 3), dtype=np.uint8)
    for slot, index in enumerate(indices):
        out[slot] = kept[int(index)]
    return out


def _decode_frames(folder: Path, frames: int, size: int, offset: int | None, rng: Rng) -> np.ndarray:
    from PIL import Image

    files = frame_files(folder)
    if not files:
        raise ClipError("0 frames (no png/jpg files in the frame folder)", folder)
    indices = sample_indices(len(files), frames, offset, rng)
    kept: dict[int, np.ndarray] = {}
    for index in sorted(set(indices.tolist())):
        try:
            with Image.open(files[index]) as img:
                img.load()
                kept[index] = _to_array(img, size)
        except Exception as exc:  # noqa: BLE001 - any reader failure means the frame is unusable
            raise ClipError("corrupt frame image", files[index]) from exc
    return _assemble(indices, kept, size)


def _decode_gif(path: Path, frames: int, size: int, offset: int | None, rng: Rng) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as img:
            n = int(getattr(img, "n_frames", 1))
            indices = sample_indices(n, frames, offset, rng)
            kept: dict[int, np.ndarray] = {}
            for index in sorted(set(indices.tolist())):
                img.seek(index)
                kept[index] = _to_array(img, size)
    except ClipError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file is unusable
        raise ClipError("corrupt GIF data", path) from exc
    return _assemble(indices, kept, size)


def _count_packets(path: Path) -> int:
    """Frames in a video whose container does not record them, by demuxing (no decoding)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return sum(1 for packet in container.demux(stream) if packet.size)
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise ClipError("corrupt data", path) from exc


def _decode_video(path: Path, frames: int, size: int, offset: int | None, rng: Rng, n: int | None = None) -> np.ndarray:
    import av

    if n is None:
        info = probe_clip(path, validate=False)
        n = info.frames if info.frames_from == "metadata" else None
        n = n or _count_packets(path)
        if n < 1:
            raise ClipError("0 frames", path)
    indices = sample_indices(n, frames, offset, rng)
    wanted = set(indices.tolist())
    last = max(wanted)
    kept: dict[int, np.ndarray] = {}
    decoded = 0
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise _open_error(path) from exc
    try:
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                decoded = index + 1
                if index in wanted:
                    kept[index] = _to_array(frame.to_image(), size)
                if index >= last:
                    break
    except av.FFmpegError as exc:
        raise ClipError(f"corrupt data after frame {decoded}", path) from exc
    except IndexError as exc:
        raise ClipError("0 frames (no video stream)", path) from exc
    if decoded == 0:
        raise ClipError("0 frames", path)
    if len(kept) < len(wanted):
        # The container over-stated its length: sample again over the frames that really exist.
        return _decode_video(path, frames, size, offset, rng, n=decoded)
    return _assemble(indices, kept, size)


@dataclass(frozen=True)
class ClipDecoder:
    """A picklable `path -> clip` function with fixed frames and size (for Bundle.decode).

    Args:
        frames: Frames per clip (T).
        size: Frame side in pixels (S).
    """

    frames: int
    size: int

    def __call__(self, path: str | bytes | os.PathLike, rng: np.random.Generator | None = None) -> np.ndarray:
        """Decode one clip; deterministic without `rng`, randomly offset and jittered with it."""
        return decode_clip(path, self.frames, self.size, rng=rng)
