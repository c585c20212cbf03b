"""Regression on a real table (scikit-learn's diabetes data, written to CSV): the network trains on standardised
targets and the exported model answers in the target's units; the report's headline compares the model with the
best baseline of each metric, not with the training mean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from archpick.cli import main
from archpick.report.render import headline

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def diabetes_run(tmp_path_factory) -> tuple[Path, Path]:
    from sklearn.datasets import load_diabetes

    root = tmp_path_factory.mktemp("diabetes")
    csv = root / "diabetes.csv"
    load_diabetes(as_frame=True, scaled=False).frame.to_csv(csv, index=False)
    run = root / "run"
    res = CliRunner().invoke(
        main,
        [
            "fit",
            str(csv),
            "--time",
            "25s",
            "--families",
            "recommended",
            "--max-trials",
            "1",
            "--seed",
            "0",
            "--out",
            str(run),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    return csv, run


def test_the_model_trains_on_standardised_targets_and_answers_in_units(diabetes_run) -> None:
    csv, run = diabetes_run
    report = json.loads((run / "report.json").read_text())
    y = np.loadtxt(csv, delimiter=",", skiprows=1)[:, -1]
    row = report["leaderboard"][0]
    # The loss is in target standard deviations (a mean guess scores 1), not in squared units (~5,900 here).
    assert 0.2 < row["val_loss"] < 2.0
    code = (
        "import sys, json, keras\nimport archpick.layers\n"
        "m = keras.saving.load_model(sys.argv[1], compile=False)\n"
        "last = m.layers[-1]\nprint(json.dumps([last.name, float(last.scale[0]), float(last.offset[0])]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(run / "model" / "model.keras")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    name, scale, offset = json.loads(out.stdout.strip().splitlines()[-1])
    # Fitted on the training split only: near, not equal to, the whole table's mean and spread.
    assert name == "target_units" and abs(offset - y.mean()) < 0.1 * y.std() and abs(scale / y.std() - 1) < 0.1
    pred = subprocess.run(
        [sys.executable, "-m", "archpick", "predict", str(run), str(csv), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert pred.returncode == 0, pred.stderr[-2000:]
    values = [json.loads(line)["prediction"][0] for line in pred.stdout.splitlines() if line.startswith("{")]
    assert len(values) == len(y)
    # In the target's units (a standardised output would centre on 0 with spread 1), and not constant.
    assert abs(np.mean(values) - y.mean()) < 0.25 * y.std() and np.std(values) > 1.0
    assert y.min() - y.std() < min(values) and max(values) < y.max() + y.std()


def test_the_headline_compares_with_the_best_baseline_of_each_metric(diabetes_run) -> None:
    _, run = diabetes_run
    report = json.loads((run / "report.json").read_text())
    rows = {r[0]: r for r in headline(report)}
    bases = report["baselines"]
    assert {b["name"] for b in bases} >= {"training mean", "ridge regression"}
    for key, best in (("MAE", min), ("RMSE", min), ("R2", max)):
        chosen = best(bases, key=lambda b: b[key.lower()])
        assert rows[f"test {key}"][2].endswith(f"({chosen['name']})")
    r2_gain = (report["final"]["metrics"]["r2"] - max(b["r2"] for b in bases)) * 100
    assert rows["test R2"][3] == f"{r2_gain:+.1f} points"


def test_the_answer_card_says_lower_is_better_and_what_to_do(diabetes_run) -> None:
    _, run = diabetes_run
    report = json.loads((run / "report.json").read_text())
    rmse = report["final"]["metrics"]["rmse"]
    band = report["final"]["interval"]
    assert band["metric"] == "rmse" and band["low"] <= rmse <= band["high"]
    best = min(report["baselines"], key=lambda b: b["rmse"])
    card = (run / "report.md").read_text().split("\n\n")[1]
    assert "test RMSE" in card and "lower is better" in card and f"best baseline {best['name']}" in card
    if rmse > best["rmse"]:
        assert "does NOT beat" in card and f"use the baseline ({best['name']})" in card
    elif band["low"] <= best["rmse"] <= band["high"]:
        assert "within noise" in card
    else:
        assert "beats the best baseline" in card
