"""Faults as a matrix: a fit on a real table (scikit-learn's wine data, written to CSV) stops itself with SIGKILL
at each named point (archpick/faults.py: during load, inside a trial, between the two families, during export,
during the report), is resumed, and must complete without retraining a finished trial and export exactly what an
uninterrupted run exports. SIGINT inside a trial exits 130 with one line that says how to continue.

Bounded by trials and epochs with a budget that never binds, so the uninterrupted run is the reference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archpick.faults import ENV, POINTS, SIGNAL_ENV

from conftest import REPO

pytestmark = pytest.mark.slow

ARGS = ["--time", "10m", "--families", "dense,linear", "--max-trials", "1", "--max-epochs", "4", "--seed", "0", "-q"]


@pytest.fixture(scope="module")
def wine(tmp_path_factory) -> Path:
    from sklearn.datasets import load_wine

    path = tmp_path_factory.mktemp("wine") / "wine.csv"
    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    frame.to_csv(path, index=False)
    return path


def _fit(*args: str, fault: str | None = None, sig: str = "KILL") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (ENV, SIGNAL_ENV)}
    if fault:
        env.update({ENV: fault, SIGNAL_ENV: sig})
    return subprocess.run(
        [sys.executable, "-m", "archpick", "fit", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=600
    )


def _trials(run_dir: Path) -> dict[str, str]:
    """Finished trials: their keras-tuner record and archpick's sidecar, as written."""
    out = {}
    for trial in sorted((run_dir / "tuner").glob("*/trial_*/trial.json")):
        if json.loads(trial.read_text())["status"] == "COMPLETED":
            sidecar = trial.parent / "archpick_trial.json"
            out[str(trial.parent.relative_to(run_dir))] = trial.read_text() + (
                sidecar.read_text() if sidecar.exists() else ""
            )
    return out


def _served(run_dir: Path, rows: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    model = tf.saved_model.load(str(run_dir / "model"))
    return np.asarray(model.serve(tf.constant(rows)))


@pytest.fixture(scope="module")
def reference(wine: Path, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    out = _fit(str(wine), "--out", str(run_dir), *ARGS)
    assert out.returncode == 0, out.stderr[-2000:]
    return run_dir


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_each_point_then_resumed_exports_the_same_model(
    point: str, wine: Path, reference: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    killed = _fit(str(wine), "--out", str(run_dir), *ARGS, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    status = json.loads((run_dir / "status.json").read_text())["status"]
    assert status == "running"  # as a crash leaves it: the lock is gone with the process
    before = _trials(run_dir)
    resumed = _fit(str(wine), "--resume", str(run_dir), *ARGS)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((run_dir / "status.json").read_text())["status"] == "complete"
    after = _trials(run_dir)
    assert {k: after[k] for k in before} == before  # no finished trial was trained again
    assert set(after) == set(_trials(reference))
    rows = np.loadtxt(wine, delimiter=",", skiprows=1, usecols=range(13), dtype="float32")[:20]
    np.testing.assert_allclose(_served(run_dir, rows), _served(reference, rows), atol=1e-5)
    assert not list(run_dir.glob("model.partial*")) and (run_dir / "report.html").exists()


def test_sigint_inside_a_trial_exits_130_with_how_to_continue(wine: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    out = _fit(str(wine), "--out", str(run_dir), *ARGS, fault="trial", sig="INT")
    assert out.returncode == 130
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("interrupted:") and "--resume" in lines[-1] and "Traceback" not in out.stderr
    assert json.loads((run_dir / "status.json").read_text())["status"] != "complete"
