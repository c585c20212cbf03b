"""Layouts the hostile cases cannot pin: what load() returns, special files that must never be opened,
and the wrapper and symbolic-link walks ending on cycles. No model is trained here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archpick.datasets import load, profile_path
from archpick.datasets.base import split_roots, sub_folders, unwrap
from archpick.errors import DataError

from hostile_builders import make_image


def _classes(root: Path, counts: dict[str, int]) -> Path:
    for c, (name, n) in enumerate(counts.items()):
        for i in range(n):
            make_image(root / name / f"{i}.png", (8, 8), "L", 10 * c + i)
    return root


def _inspect(path: Path) -> subprocess.CompletedProcess:
    """`archpick inspect PATH` in a fresh process, killed after 60 s (an opened FIFO would wait forever)."""
    return subprocess.run(
        [sys.executable, "-m", "archpick", "inspect", str(path)], capture_output=True, text=True, timeout=60
    )


def test_channels_first_images_are_transposed_pixel_for_pixel(tmp_path: Path) -> None:
    x = np.arange(6 * 3 * 16 * 12, dtype=np.float32).reshape(6, 3, 16, 12)
    x_test = -x[:4]
    np.savez(tmp_path / "cf.npz", X=x, y=np.arange(6) % 2, X_test=x_test, y_test=np.arange(4) % 2)
    profile = profile_path(tmp_path / "cf.npz")
    bundle = load(profile)
    assert profile.modality == "image" and bundle.input_spec.shape == (16, 12, 3)
    np.testing.assert_array_equal(bundle.x, x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(bundle.x_test, x_test.transpose(0, 2, 3, 1))


@pytest.mark.parametrize(
    ("shape", "axes"), [((6, 5, 3, 16, 16), (0, 1, 3, 4, 2)), ((6, 3, 5, 16, 16), (0, 2, 3, 4, 1))]
)
def test_channels_first_clips_are_transposed(tmp_path: Path, shape: tuple[int, ...], axes: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    np.savez(tmp_path / "clips.npz", X=x, y=np.arange(6) % 2)
    profile = profile_path(tmp_path / "clips.npz")
    bundle = load(profile)
    assert profile.modality == "video" and profile.facts["frames"] == 5
    np.testing.assert_array_equal(bundle.x, x.transpose(axes))


def test_kind_video_keeps_a_small_leading_axis_as_frames(tmp_path: Path) -> None:
    np.savez(tmp_path / "cf.npz", X=np.zeros((6, 3, 16, 16), np.float32), y=np.arange(6) % 2)
    from archpick.datasets.base import DataOptions

    profile = profile_path(tmp_path / "cf.npz", DataOptions(kind="video"))
    assert profile.modality == "video" and profile.facts["frames"] == 3
    assert not any("channels-first" in n for n in profile.notes)


def test_nested_classes_load_their_files(tmp_path: Path) -> None:
    _classes(tmp_path / "data" / "a" / "b", {"cat": 3, "dog": 2})
    profile = profile_path(tmp_path / "data")
    bundle = load(profile)
    assert profile.name == "data" and Path(profile.path) == tmp_path / "data" / "a" / "b"
    assert sorted(bundle.class_names) == ["cat", "dog"] and len(bundle.x) == 5
    assert all(Path(f).parent.parent.name == "b" for f in bundle.x)


def test_split_roots_descend_wrappers_and_accept_any_case(tmp_path: Path) -> None:
    _classes(tmp_path / "Training" / "images", {"cat": 1, "dog": 1})
    _classes(tmp_path / "Testing" / "images", {"cat": 1, "dog": 1})
    assert split_roots(tmp_path) == (tmp_path / "Training" / "images", tmp_path / "Testing" / "images")


def test_symlinked_class_files_are_loaded(tmp_path: Path) -> None:
    _classes(tmp_path / "store", {"dogs": 3})
    root = _classes(tmp_path / "data", {"cats": 3})
    os.symlink(tmp_path / "store" / "dogs", root / "dogs")
    bundle = load(profile_path(root))
    assert bundle.class_names == ["cats", "dogs"] and int((bundle.y == 1).sum()) == 3


def test_unwrap_stops_on_a_cycle_of_links(tmp_path: Path) -> None:
    """a/b -> c and c/d -> a: every link is a wrapper's only sub-folder, and the walk still ends."""
    (tmp_path / "a").mkdir()
    (tmp_path / "c").mkdir()
    os.symlink(tmp_path / "c", tmp_path / "a" / "b")
    os.symlink(tmp_path / "a", tmp_path / "c" / "d")
    inner = unwrap(tmp_path / "a")
    assert inner in (tmp_path / "a" / "b", tmp_path / "a")
    with pytest.raises(DataError):
        profile_path(tmp_path / "a")


def test_links_back_up_are_not_sub_folders(tmp_path: Path) -> None:
    (tmp_path / "cls").mkdir()
    os.symlink(".", tmp_path / "self")
    os.symlink("..", tmp_path / "parent")
    os.symlink("self-loop", tmp_path / "self-loop")
    kept, back = sub_folders(tmp_path)
    assert kept == [tmp_path / "cls"] and back == [tmp_path / "parent", tmp_path / "self"]


def test_a_fifo_in_a_dataset_folder_is_named_and_never_opened(tmp_path: Path) -> None:
    """Before the check, tables.py opened data.csv to sniff its delimiter and waited for a writer forever."""
    os.mkfifo(tmp_path / "data.csv")
    proc = _inspect(tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "data.csv: is a FIFO, not a data file or folder" in lines[0]


def test_a_link_to_a_fifo_is_named_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    os.symlink(tmp_path / "pipe", tmp_path / "series.csv")
    proc = _inspect(tmp_path / "series.csv")
    assert proc.returncode == 2 and "series.csv: is a FIFO" in proc.stderr + proc.stdout
