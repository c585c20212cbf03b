"""A folder of datasets: detection of the ambiguous layouts, and a short end-to-end collection fit."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archpick import fit, inspect
from archpick.datasets import collection_members

from conftest import DATA


def _img(path: Path, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value % 256, np.uint8)).save(path)


def _image_dataset(root: Path, classes=("a", "b"), per_class: int = 6) -> Path:
    for c, name in enumerate(classes):
        for i in range(per_class):
            _img(root / name / f"{i}.png", 40 * c + i)
    return root


def test_sample_data_folder_is_a_collection_of_five() -> None:
    profile = inspect(DATA)
    assert profile.modality == "collection"
    kinds = {m.name: m.modality for m in profile.members}
    assert kinds == {
        "airline": "timeseries",
        "clips": "video",
        "digits": "image",
        "reviews": "text",
        "vowels": "sequence",
    }


def test_class_folders_are_not_a_collection(tmp_path: Path) -> None:
    root = _image_dataset(tmp_path / "pets", classes=("cats", "dogs", "fish"))
    assert collection_members(root) == [] and inspect(root).modality == "image"


def test_train_test_split_folders_are_one_dataset(tmp_path: Path) -> None:
    _image_dataset(tmp_path / "d" / "train")
    _image_dataset(tmp_path / "d" / "test", per_class=2)
    profile = inspect(tmp_path / "d")
    assert profile.modality == "image" and profile.split == "folders"


def test_folders_of_image_datasets_are_a_collection(tmp_path: Path) -> None:
    _image_dataset(tmp_path / "all" / "first", per_class=30)
    _image_dataset(tmp_path / "all" / "second", classes=("x", "y", "z"), per_class=30)
    profile = inspect(tmp_path / "all")
    assert profile.modality == "collection" and [m.name for m in profile.members] == ["first", "second"]


def test_frame_folders_are_one_video_dataset_not_a_collection(tmp_path: Path) -> None:
    root = tmp_path / "clips"
    for cls in ("left", "right"):
        for clip in range(6):
            for frame in range(8):
                _img(root / cls / f"clip{clip}" / f"{frame:03d}.png", frame * 20 + clip)
    assert collection_members(root) == []
    assert inspect(root).modality == "video"


def test_a_broken_member_is_skipped_and_counted(tmp_path: Path) -> None:
    _image_dataset(tmp_path / "c" / "good", per_class=10)
    bad = tmp_path / "c" / "bad" / "only"
    bad.mkdir(parents=True)
    for i in range(3):
        _img(bad / f"{i}.png")
    profile = inspect(tmp_path / "c")
    assert [m.name for m in profile.members] == ["good"]
    assert len(profile.skipped) == 1 and "only one class" in profile.skipped[0].reason
    fifo = tmp_path / "c" / "piped" / "data.csv"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    skipped = {s.file: s.reason for s in inspect(tmp_path / "c").skipped}
    assert skipped[str(fifo)].startswith("is a FIFO, not a data file")  # named once, by the file, not again inside


@pytest.mark.slow
def test_collection_fit_on_two_tiny_datasets(tmp_path: Path) -> None:
    root = tmp_path / "two"
    for name, classes in (("low", "01234"), ("high", "56789")):
        for c in classes:
            shutil.copytree(
                DATA / "digits" / c, root / name / c, ignore=lambda d, files: sorted(files)[70:]
            )  # > 64 files: not frames
    run = fit(root, "70s", max_trials=1, families="recommended", out=tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [r["dataset"] for r in summary["datasets"]] == ["high", "low"]
    for row in summary["datasets"]:
        assert row["status"] == "complete" and row["modality"] == "image" and row["winner"] == "cnn"
        assert 0 <= row["test_metric"] <= 1 and row["baseline"] is not None
        assert Path(row["report"]).exists()
    assert (tmp_path / "out" / "summary.html").exists() and (tmp_path / "out" / "summary.md").exists()
    assert summary["used_s"] <= 70 + 30
    assert run.report["collection"] == "two"
    # predict on the collection's folder names its members instead of "no exported model"
    from click.testing import CliRunner

    from archpick.cli import main

    image = next((root / "low" / "0").iterdir())
    result = CliRunner().invoke(main, ["predict", str(tmp_path / "out"), str(image)])
    assert result.exit_code == 2 and "folder of runs, one per dataset (high, low)" in result.output
    assert f"archpick predict {tmp_path / 'out' / 'high'} FILES" in result.output
    ok = CliRunner().invoke(main, ["predict", str(tmp_path / "out" / "low"), str(image)])
    assert ok.exit_code == 0 and "prediction" in ok.output.splitlines()[0]
