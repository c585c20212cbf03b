"""Turn a hostile case's declarative `build` list into files under a folder (tests/cases/hostile/*.json).

Every byte is generated here, so no binary is committed. Each step is a dict with an "op" and a "path"
relative to the case root; see BUILDERS for the ops and their keys. Content is deterministic (fixed seeds).
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

WORDS = (
    "apple",
    "river",
    "stone",
    "cloud",
    "lamp",
    "tiger",
    "piano",
    "orbit",
    "maple",
    "quartz",
    "ember",
    "harbor",
    "violet",
    "canyon",
    "meadow",
    "signal",
)


def _target(root: Path, step: dict[str, Any]) -> Path:
    path = root / step["path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _pixels(size: list[int], mode: str, value: int) -> np.ndarray:
    width, height = size
    rng = np.random.default_rng(value)
    base = rng.integers(0, 256, size=(height, width), dtype=np.int64)
    if mode in ("I;16",):
        return (base * 257).astype(np.uint16)
    grey = base.astype(np.uint8)
    if mode == "RGB":
        return np.stack([grey, grey[::-1], np.full_like(grey, value % 256)], axis=-1)
    if mode == "RGBA":
        return np.stack([grey, grey, grey, np.full_like(grey, 200)], axis=-1)
    return grey


def make_image(path: Path, size: list[int] | tuple[int, int] = (8, 8), mode: str = "L", value: int = 0) -> Path:
    """An image file of `size` (width, height) in Pillow `mode`; the format follows the suffix.

    Modes: L, RGB, RGBA, P (palette, from an RGB image), I;16 (16-bit greyscale PNG), 1 (bilevel).
    """
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "P":
        img = Image.fromarray(_pixels(list(size), "RGB", value)).convert("P", palette=Image.ADAPTIVE, colors=16)
    elif mode == "1":
        img = Image.fromarray(_pixels(list(size), "L", value)).convert("1")
    else:
        img = Image.fromarray(_pixels(list(size), mode, value))
    img.save(path)
    return path


def op_image(root: Path, step: dict[str, Any]) -> None:
    """{"op": "image", "path", "size": [w, h], "mode": "L", "value": 0}"""
    make_image(_target(root, step), step.get("size", (8, 8)), step.get("mode", "L"), step.get("value", 0))


def op_images(root: Path, step: dict[str, Any]) -> None:
    """{"op": "images", "classes": {"cat": 3, ...}, "under": "", "ext": "png", "size", "mode" or "modes"}

    Writes <under>/<class>/img<i>.<ext>; "modes" cycles through a list of modes per file.
    """
    base = root / step.get("under", "")
    ext = step.get("ext", "png")
    modes = step.get("modes") or [step.get("mode", "L")]
    sizes = step.get("sizes") or [step.get("size", (8, 8))]
    k = 0
    for c, (name, n) in enumerate(step["classes"].items()):
        for i in range(n):
            make_image(base / name / f"img{i}.{ext}", sizes[k % len(sizes)], modes[k % len(modes)], 7 * c + i)
            k += 1


def op_bytes(root: Path, step: dict[str, Any]) -> None:
    """{"op": "bytes", "path", "hex": "..."} or "text" (+ "encoding", default utf-8) or nothing (0 bytes)."""
    path = _target(root, step)
    if "hex" in step:
        path.write_bytes(bytes.fromhex(step["hex"]))
    else:
        path.write_bytes(step.get("text", "").encode(step.get("encoding", "utf-8")))


def op_truncate(root: Path, step: dict[str, Any]) -> None:
    """{"op": "truncate", "src", "path", "keep": 0.5}: copy the first `keep` fraction of an existing file."""
    data = (root / step["src"]).read_bytes()
    _target(root, step).write_bytes(data[: int(len(data) * step.get("keep", 0.5))])


def op_corrupt(root: Path, step: dict[str, Any]) -> None:
    """{"op": "corrupt", "src", "path", "offset": 0, "length": 64, "at": b"moov"}: copy a file and overwrite
    `length` bytes with junk from `offset` (counted from the first occurrence of the marker `at`, if given)."""
    data = bytearray((root / step["src"]).read_bytes())
    offset, length = step.get("offset", 0), step.get("length", 64)
    if "at" in step:
        offset += data.index(step["at"].encode()) - 4  # a box starts 4 bytes before its type
    data[offset : offset + length] = bytes((37 * i + 11) % 256 for i in range(min(length, len(data) - offset)))
    _target(root, step).write_bytes(bytes(data))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def op_bomb_png(root: Path, step: dict[str, Any]) -> None:
    """{"op": "bomb_png", "path", "size": [w, h]}: a valid PNG header declaring a huge image, tiny data."""
    width, height = step.get("size", (100_000, 100_000))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    _target(root, step).write_bytes(data)


def op_mkdir(root: Path, step: dict[str, Any]) -> None:
    """{"op": "mkdir", "path"}"""
    (root / step["path"]).mkdir(parents=True, exist_ok=True)


def op_symlink(root: Path, step: dict[str, Any]) -> None:
    """{"op": "symlink", "path", "target"}: `target` is written as given (relative links stay relative)."""
    os.symlink(step["target"], _target(root, step))


def op_special(root: Path, step: dict[str, Any]) -> None:
    """{"op": "special", "path", "kind": "fifo" | "socket"}: a named pipe or a Unix socket file."""
    path = _target(root, step)
    if step.get("kind", "fifo") == "fifo":
        os.mkfifo(path)
        return
    import socket

    with socket.socket(socket.AF_UNIX) as sock:  # a relative name keeps under the 108-byte limit of AF_UNIX
        sock.bind(os.path.relpath(path) if len(str(path)) > 100 else str(path))


def op_chmod(root: Path, step: dict[str, Any]) -> None:
    """{"op": "chmod", "path", "mode": "000"} (the harness restores permissions afterwards)."""
    os.chmod(root / step["path"], int(step["mode"], 8))


def _column(kind: str, n: int, rng: np.random.Generator) -> list[str]:
    if kind == "float":
        return [f"{v:.3f}" for v in rng.normal(10, 3, n)]
    if kind == "int":
        return [str(v) for v in rng.integers(0, 100, n)]
    if kind.startswith("class:"):
        labels = kind.split(":", 1)[1].split(",")
        return [labels[i % len(labels)] for i in range(n)]
    if kind.startswith("const:"):
        return [kind.split(":", 1)[1]] * n
    if kind == "word":
        return [WORDS[v] for v in rng.integers(0, len(WORDS), n)]
    if kind == "sentence":
        return [" ".join(WORDS[v] for v in rng.integers(0, len(WORDS), 12)) for _ in range(n)]
    if kind.startswith("date:"):
        freq = kind.split(":", 1)[1]
        return [str(d.date()) if freq == "D" else str(d) for d in _dates(n, freq)]
    if kind == "sine":
        t = np.arange(n)
        return [f"{v:.3f}" for v in 50 + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, n)]
    raise ValueError(f"unknown column kind {kind!r}")


def _dates(n: int, freq: str):
    import pandas as pd

    return pd.date_range("2020-01-01", periods=n, freq=freq)


def op_table(root: Path, step: dict[str, Any]) -> None:
    """{"op": "table", "path", "rows": 40, "columns": {"name": kind}, "cells": {"name": {"row": "value"}},
    "order": [row indices] (rows written in this order; repeats duplicate rows), "sep": ","}

    Kinds: float, int, word, sentence, sine, class:a,b, const:v, date:D (any pandas frequency).
    """
    n = step.get("rows", 40)
    rng = np.random.default_rng(step.get("seed", 0))
    data = {name: _column(kind, n, rng) for name, kind in step["columns"].items()}
    for name, cells in step.get("cells", {}).items():
        for row, value in cells.items():
            data[name][int(row)] = value
    order = step.get("order") or list(range(n))
    sep = step.get("sep", ",")
    lines = [sep.join(data)] + [sep.join(data[c][i] for c in data) for i in order]
    _target(root, step).write_text("\n".join(lines) + "\n", encoding="utf-8")


def op_irregular_series(root: Path, step: dict[str, Any]) -> None:
    """{"op": "irregular_series", "path", "rows": 120}: timestamps at random 1-240 minute gaps."""
    import pandas as pd

    n = step.get("rows", 120)
    rng = np.random.default_rng(1)
    times = pd.Timestamp("2021-03-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 240, n)), unit="min")
    values = 20 + np.sin(np.arange(n) / 5) + rng.normal(0, 0.1, n)
    lines = ["timestamp,reading"] + [f"{t.isoformat()},{v:.3f}" for t, v in zip(times, values)]
    _target(root, step).write_text("\n".join(lines) + "\n", encoding="utf-8")


def op_documents(root: Path, step: dict[str, Any]) -> None:
    """{"op": "documents", "classes": {"pos": 4}, "words": 12, "vocab": [...], "under": ""}: .txt files."""
    base = root / step.get("under", "")
    vocab = step.get("vocab") or list(WORDS)
    rng = np.random.default_rng(0)
    for name, n in step["classes"].items():
        (base / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            words = [vocab[v] for v in rng.integers(0, len(vocab), step.get("words", 12))]
            (base / name / f"doc{i}.txt").write_text(" ".join(words) + "\n", encoding="utf-8")


def op_long_document(root: Path, step: dict[str, Any]) -> None:
    """{"op": "long_document", "path", "words": 300000}: one very long .txt document."""
    rng = np.random.default_rng(2)
    words = [WORDS[v] for v in rng.integers(0, len(WORDS), step.get("words", 300_000))]
    _target(root, step).write_text(" ".join(words) + "\n", encoding="utf-8")


def op_npz(root: Path, step: dict[str, Any]) -> None:
    """{"op": "npz", "path", "arrays": {"X": {"shape": [10, 4], "dtype": "float32"}, "y": {...}}}

    "dtype": "object" stores a pickled object array (np.savez allows that); "classes": k fills integer
    labels 0..k-1 cyclically; "fill": v fills a constant.
    """
    rng = np.random.default_rng(0)
    arrays = {}
    for key, spec in step["arrays"].items():
        shape, dtype = tuple(spec["shape"]), spec.get("dtype", "float32")
        if dtype == "object":
            arr = np.empty(shape, dtype=object)
            for i in range(shape[0]):
                arr[i] = list(range(i + 1))
        elif "classes" in spec:
            arr = (np.arange(int(np.prod(shape))) % spec["classes"]).reshape(shape).astype(dtype)
        elif "fill" in spec:
            arr = np.full(shape, spec["fill"], dtype=dtype)
        else:
            arr = rng.normal(size=shape).astype(dtype)
        arrays[key] = arr
    path = _target(root, step)
    if path.suffix == ".npy":
        np.save(path, next(iter(arrays.values())), allow_pickle=True)
    else:
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)


def make_video(path: Path, frames: int, size: int = 32, fps: int = 10) -> Path:
    """An mpeg4 clip of `frames` frames with PyAV (0 frames writes a header and no packets)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        if frames == 0:
            container.start_encoding()  # write the header although no frame follows
        for i in range(frames):
            rgb = np.full((size, size, 3), (i * 37) % 200 + 20, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def op_video(root: Path, step: dict[str, Any]) -> None:
    """{"op": "video", "path", "frames": 8, "size": 32}"""
    make_video(_target(root, step), step.get("frames", 8), step.get("size", 32))


def op_videos(root: Path, step: dict[str, Any]) -> None:
    """{"op": "videos", "classes": {"wave": 3}, "frames": 8, "size": 24, "ext": "mp4"}"""
    for name, n in step["classes"].items():
        for i in range(n):
            make_video(root / name / f"clip{i}.{step.get('ext', 'mp4')}", step.get("frames", 8), step.get("size", 24))


BUILDERS = {
    "image": op_image,
    "images": op_images,
    "bytes": op_bytes,
    "truncate": op_truncate,
    "corrupt": op_corrupt,
    "bomb_png": op_bomb_png,
    "mkdir": op_mkdir,
    "symlink": op_symlink,
    "chmod": op_chmod,
    "special": op_special,
    "table": op_table,
    "irregular_series": op_irregular_series,
    "documents": op_documents,
    "long_document": op_long_document,
    "npz": op_npz,
    "video": op_video,
    "videos": op_videos,
}


def build(root: Path, steps: list[dict[str, Any]]) -> Path:
    """Run every step of a case's `build` list under `root` (created); returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for step in steps:
        if step["op"] not in BUILDERS:
            raise ValueError(f"unknown build op {step['op']!r}; known: {', '.join(sorted(BUILDERS))}")
        BUILDERS[step["op"]](root, step)
    return root


def restore_permissions(root: Path) -> None:
    """Make everything under `root` readable and writable again (after chmod steps), for cleanup."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
    if root.exists():
        os.chmod(root, 0o755)
