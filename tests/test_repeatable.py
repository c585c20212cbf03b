"""The same --seed on CPU gives the same leaderboard scores (two trials, run twice)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import archpick

from conftest import DATA

pytestmark = pytest.mark.slow


def test_same_seed_same_leaderboard(tmp_path: Path) -> None:
    data = tmp_path / "digits"
    for c in sorted(p.name for p in (DATA / "digits").iterdir()):
        shutil.copytree(DATA / "digits" / c, data / c, ignore=lambda d, files: sorted(files)[12:])
    runs = [
        archpick.fit(data, "5m", max_trials=2, max_epochs=4, families="recommended", seed=7, out=tmp_path / f"run{i}")
        for i in range(2)
    ]
    boards = [[(r["trial"], r["score"], r["epochs"]) for r in run.report["leaderboard"]] for run in runs]
    assert len(boards[0]) == 2 and all(b[1] is not None for b in boards[0])
    for (t1, s1, e1), (t2, s2, e2) in zip(*boards):
        assert t1 == t2 and e1 == e2
        assert s1 == pytest.approx(s2, abs=1e-6)
    assert runs[0].report["split"] == runs[1].report["split"]
    acc = [run.report["final"]["metrics"]["accuracy"] for run in runs]
    assert acc[0] == pytest.approx(acc[1], abs=1e-6)
