"""Resume: a fit killed with SIGKILL after a finished trial continues from keras-tuner's state; finished trials
keep their results, the interrupted run says so, and the resumed run completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archpick.cli import main

pytestmark = pytest.mark.slow


def _finished_trials(run_dir: Path) -> dict[str, float]:
    out = {}
    for file in (run_dir / "tuner" / "cnn").glob("trial_*/trial.json"):
        trial = json.loads(file.read_text())
        if trial["status"] == "COMPLETED":
            out[trial["trial_id"]] = trial["score"]
    return out


def test_sigkill_then_resume(digits_small: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "archpick",
        "fit",
        str(digits_small),
        "--time",
        "50s",
        "--families",
        "recommended",
        "--seed",
        "1",
        "--out",
        str(run_dir),
        "-q",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not _finished_trials(run_dir) and proc.poll() is None:
        time.sleep(0.5)
    assert proc.poll() is None, "the fit ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _finished_trials(run_dir)
    assert before
    res = CliRunner().invoke(main, ["report", str(run_dir)])
    assert res.exit_code == 0 and "INCOMPLETE" in res.output
    assert json.loads((run_dir / "status.json").read_text())["status"] == "running"
    assert not (run_dir / "report.json").exists()
    spent_first = json.loads((run_dir / "tuner" / "cnn" / "archpick_spent.json").read_text())["seconds"]
    assert spent_first > 0

    res = CliRunner().invoke(
        main,
        [
            "fit",
            str(digits_small),
            "--resume",
            str(run_dir),
            "--time",
            "50s",
            "--families",
            "recommended",
            "--seed",
            "1",
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    after = _finished_trials(run_dir)
    assert {k: after[k] for k in before} == before  # finished trials are kept, unchanged
    assert json.loads((run_dir / "status.json").read_text())["status"] == "complete"
    report = json.loads((run_dir / "report.json").read_text())
    assert report["final"]["metrics"]["accuracy"] > 0.5
    family = report["race"]["families"][0]
    assert family["seconds"] >= spent_first  # the budget counts the earlier session's time
