"""Imbalanced classes: a rare class reaches the test split (or the report says it cannot), the loss is
weighted by class, and the headline leads with balanced accuracy against the best baseline's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from archpick.cli import main
from archpick.imbalance import IMBALANCE_RATIO, measure
from archpick.report.render import headline
from archpick.splits import class_notes, split_indices

from conftest import DATA


@pytest.mark.parametrize("rare", [2, 3, 5])
def test_a_rare_class_reaches_test_and_says_where_it_cannot(rare: int) -> None:
    y = np.array([0] * 600 + [1] * rare)
    split = split_indices(y, "stratified", 0, has_test=False)
    counts = [int(np.sum(y[idx] == 1)) for idx in (split.train, split.val, split.test)]
    assert counts[0] >= 1 and counts[2] >= 1 and sum(counts) == rare  # training and test always
    assert sorted(np.concatenate([split.train, split.val, split.test]).tolist()) == list(range(len(y)))
    notes = class_notes(y, split, ["common", "rare"])
    assert (counts[1] == 0) == bool(notes)
    if notes:
        assert notes == [
            f"class 'rare' has {rare} samples (1 training, 0 validation, 1 test): none in the "
            "validation split, so its scores there are not measured"
        ]


def test_class_weights_only_when_imbalanced() -> None:
    even = measure(np.array([0, 1, 2] * 10), 3)
    assert not even.imbalanced and even.ratio == 1.0
    skewed = measure(np.array([0] * 30 + [1] * 10), 2)
    assert skewed.ratio == IMBALANCE_RATIO and skewed.class_weight == {
        0: pytest.approx(40 / 60, rel=1e-3),
        1: pytest.approx(40 / 20, rel=1e-3),
    }


@pytest.mark.slow
def test_fit_on_a_600_to_2_folder_measures_the_rare_class(tmp_path: Path) -> None:
    data = tmp_path / "digits"
    for name, n in (("0", 150), ("1", 2)):  # real 8x8 digit images, 75:1
        (data / name).mkdir(parents=True)
        for f in sorted((DATA / "digits" / name).iterdir())[:n]:
            shutil.copy2(f, data / name / f.name)
    run_dir = tmp_path / "run"
    res = CliRunner().invoke(
        main,
        [
            "fit",
            str(data),
            "--time",
            "25s",
            "--families",
            "recommended",
            "--max-trials",
            "1",
            "--out",
            str(run_dir),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads((run_dir / "report.json").read_text())
    per_class = {row["class"]: row["support"] for row in report["final"]["metrics"]["per_class"]}
    assert per_class["1"] == 1  # the rare class is in the test split
    assert report["split"]["imbalance"]["class_weight"]["1"] > 10 * report["split"]["imbalance"]["class_weight"]["0"]
    assert any("class '1' has 2 samples" in note for note in report["split"]["notes"])
    rows = headline(report)
    assert rows[0][0] == "test balanced accuracy"
    majority = next(b for b in report["baselines"] if b["name"].startswith("majority"))
    assert majority["balanced_accuracy"] == pytest.approx(0.5)  # right on every '0', wrong on the '1'
    html = (run_dir / "report.html").read_text()
    assert "class &#x27;1&#x27; has 2 samples" in html or "class '1' has 2 samples" in html
