"""keras-tuner's chief/worker mode on loopback (127.0.0.1): local workers share a search, a worker killed
mid-trial does not stop it, and a chief or worker that cannot connect fails with one line, not a hang."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import archpick
from archpick.cli import main
from archpick.distributed import free_port

pytestmark = pytest.mark.slow


def test_local_workers_run_the_trials(digits_small: Path, tmp_path: Path) -> None:
    run = archpick.fit(digits_small, "50s", families="recommended", workers=2, out=tmp_path / "run", seed=2)
    assert run.complete
    rows = run.report["leaderboard"]
    workers = {r["worker"] for r in rows if r["status"] == "COMPLETED"}
    assert workers <= {"worker-0", "worker-1"} and len(workers) == 2, rows
    assert (tmp_path / "run" / "model" / "saved_model.pb").exists()


def _trial_files(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "tuner" / "cnn").glob("trial_*/trial.json"))


def test_killed_worker_does_not_stop_the_search(digits_small: Path, tmp_path: Path) -> None:
    run_dir, port = tmp_path / "run", free_port()
    common = ["--time", "45s", "--families", "recommended", "--seed", "4"]
    chief = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archpick",
            "fit",
            str(digits_small),
            "--chief-port",
            str(port),
            "--out",
            str(run_dir),
            "-q",
            *common,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archpick",
                "worker",
                str(digits_small),
                "--chief",
                f"127.0.0.1:{port}",
                "--run-dir",
                str(run_dir),
                "--tuner-id",
                f"w{i}",
                "-q",
                *common,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_trial_files(run_dir)) < 2:
        time.sleep(0.5)
    assert len(_trial_files(run_dir)) >= 2, "both workers should have started a trial"
    os.kill(workers[1].pid, signal.SIGKILL)
    try:
        output, _ = chief.communicate(timeout=240)
    finally:
        for w in workers:
            w.kill()
    assert chief.returncode == 0, output.decode(errors="replace")[-2000:]
    report = json.loads((run_dir / "report.json").read_text())
    rows = report["leaderboard"]
    assert any(r["worker"] == "w0" and r["status"] == "COMPLETED" for r in rows)
    # The killed worker's trial was reaped, not left running until the chief's own time limit.
    lost = [r for r in rows if r["worker"] == "w1" and r["status"] == "FAILED"]
    assert lost and all("worker lost" in r["message"] for r in lost), rows
    assert not [r for r in rows if r["status"] == "RUNNING"]
    assert report["final"]["metrics"]["accuracy"] > 0.3


def test_chief_port_in_use_is_a_clear_error(digits_small: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        port = sock.getsockname()[1]
        res = CliRunner().invoke(
            main,
            [
                "fit",
                str(digits_small),
                "--chief-port",
                str(port),
                "--time",
                "30s",
                "--families",
                "recommended",
                "--out",
                str(tmp_path / "run"),
                "-q",
            ],
        )
    assert res.exit_code == 2, res.output
    assert "cannot listen" in res.output and "Traceback" not in res.output


def test_worker_without_chief_times_out_with_one_line(digits_small: Path) -> None:
    env = {**os.environ, "ARCHPICK_CONNECT_TIMEOUT": "3"}
    out = subprocess.run(
        [sys.executable, "-m", "archpick", "worker", str(digits_small), "--chief", f"127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2
    assert "no archpick chief answered" in out.stderr and "Traceback" not in out.stderr
