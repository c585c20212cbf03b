"""Quality, not just that a fit ran: on data/vowels and the UCR Coffee development set, the exported model
beats the best baseline on the same test split. Bounded by trials and epochs (--max-trials, --max-epochs) with a
time budget large enough never to bind, so the result does not depend on the machine's speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archpick.cli import main

from conftest import DATA

pytestmark = pytest.mark.slow


def _fit(path: Path, out: Path, *args: str) -> dict:
    res = CliRunner().invoke(main, ["fit", str(path), "--time", "30m", "--seed", "0", "--out", str(out), "-q", *args])
    assert res.exit_code == 0, res.output
    return json.loads((out / "report.json").read_text())


def _best_baseline(rep: dict) -> float:
    return max(b["accuracy"] for b in rep["baselines"] if b.get("accuracy") is not None)


def test_vowels_beats_its_best_baseline(tmp_path: Path) -> None:
    rep = _fit(DATA / "vowels", tmp_path / "run", "--families", "cnn", "--max-trials", "2", "--max-epochs", "80")
    sel = rep["race"]["selection"]
    assert rep["regime"]["small"] and sel["folds"] == 5
    acc = rep["final"]["metrics"]["accuracy"]
    # measured (seed 0, commit after 9b2f66f): MiniRocket with its ridge head 0.975 on validation and the FCN 0.95;
    # MiniRocket's 5 folds 0.9815 ± 0.013 against the baseline's 0.9741; test: ensemble (5 fold models and the
    # refit) 0.9865, single refit 0.9865; baseline (logistic regression) 0.9811. Before the ridge head the same
    # test measured 0.9784 (a trained linear head and three refits), below the baseline.
    assert acc > _best_baseline(rep) and acc >= 0.984
    assert sel["baseline_check"]["beats"] and not rep["verdict"].startswith("Does not beat")
    rows = {row["stop_reason"]: row for row in rep["leaderboard"]}
    assert rows["solved"]["epochs"] == 1  # the ridge head: one closed-form solution, scored as one epoch
    assert rows["max epochs"]["epochs"] == 80  # the FCN trained to the bound, not stopped by patience
    assert rep["final"]["members"] == 6  # a solved head: refits with other seeds would be copies
    assert set(rep["final"]["single"]) >= {"accuracy", "macro_f1"}


def test_coffee_race_overturns_the_rnn_beyond_noise_and_beats_the_baseline(coffee: Path, tmp_path: Path) -> None:
    rep = _fit(coffee, tmp_path / "run", "--families", "rnn,cnn", "--max-trials", "1", "--max-epochs", "10")
    sel = rep["race"]["selection"]
    scores = {s["family"]: s for s in sel["scores"]}
    assert sel["folds"] == 5 and set(scores) == {"rnn", "cnn"}
    assert rep["race"]["winner"] == "cnn" and scores["cnn"]["mean"] - scores["rnn"]["mean"] > sel["noise_margin"]
    assert "Evidence overturned it" in rep["verdict"] and "5-fold cross-validation" in rep["verdict"]
    acc = rep["final"]["metrics"]["accuracy"]
    # measured (seed 0; MiniRocket with its ridge head, solved): folds 1.0 x 5 against the RNN's 0.46 (at 40 epochs;
    # 10 here keep the RNN's folds cheap); test 1.0
    # (28 of 28), single refit 1.0; baseline 0.6786; published FCN/ResNet/InceptionTime/MiniRocket 1.0. With a
    # trained linear head (before the ridge head) this test measured 0.893.
    assert acc > _best_baseline(rep) and acc >= 0.95
