"""Image-folder detector cases: real digits, and the layouts and broken files people actually have."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archpick import inspect, recommend
from archpick.datasets.images import decode_image
from archpick.errors import DataError

from conftest import DATA


def _png(path: Path, size=(8, 8), mode="L", value=128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((size[1], size[0]) + ((3,) if mode == "RGB" else (4,) if mode == "RGBA" else ()), value, np.uint8)
    Image.fromarray(arr, mode=mode).save(path)
    return path


def _two_classes(root: Path, n: int = 3, **kw) -> Path:
    for cls in ("a", "b"):
        for i in range(n):
            _png(root / cls / f"{i}.png", value=(30 * i + (100 if cls == "b" else 0)) % 256, **kw)
    return root


def test_real_digits_profile() -> None:
    profile = inspect(DATA / "digits")
    assert profile.modality == "image" and profile.source == "image-folder"
    assert profile.n_samples == 1797 and profile.n_classes == 10
    assert profile.facts["channels"] == 1 and profile.facts["target_size"] == [8, 8]
    assert profile.imbalance == pytest.approx(183 / 174, abs=1e-3)
    assert profile.skipped == []
    rec = recommend(profile)
    assert rec.family == "cnn" and rec.runner_up == "dense"


def test_train_test_folders(tmp_path: Path) -> None:
    _two_classes(tmp_path / "train", n=4)
    _two_classes(tmp_path / "test", n=2)
    profile = inspect(tmp_path)
    assert profile.split == "folders" and profile.n_test == 4 and profile.n_samples == 8


def test_broken_files_are_skipped_and_named(tmp_path: Path) -> None:
    root = _two_classes(tmp_path, n=6)
    (root / "a" / "empty.png").write_bytes(b"")
    (root / "a" / "notes.jpg").write_text("this is not an image")
    good = (root / "b" / "0.png").read_bytes()
    (root / "b" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "b" / ".DS_Store").write_bytes(b"\0\1")
    (root / "Thumbs.db").write_bytes(b"\0")
    profile = inspect(root)
    reasons = {Path(s.file).name: s.reason for s in profile.skipped}
    assert set(reasons) == {"empty.png", "notes.jpg", "truncated.png"}
    assert "0 bytes" in reasons["empty.png"] and "not an image" in reasons["notes.jpg"]
    assert profile.n_samples == 12


def test_mixed_modes_and_sizes(tmp_path: Path) -> None:
    _png(tmp_path / "a" / "grey.png", size=(20, 10))
    _png(tmp_path / "a" / "rgb.png", size=(40, 30), mode="RGB")
    _png(tmp_path / "b" / "rgba.png", size=(30, 30), mode="RGBA")
    Image.fromarray(np.full((12, 12), 3000, np.uint16)).save(tmp_path / "b" / "deep.png")
    Image.new("P", (16, 16), 3).save(tmp_path / "b" / "palette.png")
    profile = inspect(tmp_path)
    assert profile.facts["channels"] == 3 and profile.facts["distinct_sizes"] == 5
    h, w = profile.facts["target_size"]
    for f in sorted(tmp_path.rglob("*.png")):
        arr = decode_image(f, 3, (h, w))
        assert arr.shape == (h, w, 3) and arr.dtype == np.uint8
    deep = decode_image(tmp_path / "b" / "deep.png", 1)
    assert deep.shape == (12, 12, 1) and 0 < deep.max() < 255


@pytest.mark.parametrize(
    "layout, message",
    [
        ("missing", "does not exist"),
        ("empty", "empty"),
        ("one_class", "only one class"),
        ("no_images", "cannot read this folder"),
    ],
)
def test_bad_folders_raise_one_line(tmp_path: Path, layout: str, message: str) -> None:
    root = tmp_path / "data"
    if layout == "empty":
        root.mkdir()
    elif layout == "one_class":
        for i in range(3):
            _png(root / "only" / f"{i}.png")
    elif layout == "no_images":
        (root / "a").mkdir(parents=True)
        (root / "a" / "x.bin").write_bytes(b"1")
    with pytest.raises(DataError) as info:
        inspect(root)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(root) in str(info.value)


def test_all_unreadable_is_an_error(tmp_path: Path) -> None:
    for cls in ("a", "b"):
        for i in range(3):
            (tmp_path / cls).mkdir(exist_ok=True)
            (tmp_path / cls / f"{i}.png").write_text("nope")
    with pytest.raises(DataError, match="no readable image"):
        inspect(tmp_path)


def test_decompression_bomb_header_is_skipped(tmp_path: Path) -> None:
    root = _two_classes(tmp_path, n=4)
    Image.new("1", (12000, 12000)).save(root / "a" / "bomb.png")
    profile = inspect(root)
    assert any("decompression bomb" in s.reason for s in profile.skipped)


def test_inspect_never_writes(tmp_path: Path) -> None:
    root = _two_classes(tmp_path / "d", n=3)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*")}
    inspect(root)
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*")}
    assert before == after and len(os.listdir(root)) == 2
