"""The CLI through click's CliRunner: inspect output, JSON, one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archpick.cli import main

from conftest import DATA


def test_inspect_digits_shows_profile_and_flowchart() -> None:
    res = CliRunner().invoke(main, ["inspect", str(DATA / "digits")])
    assert res.exit_code == 0, res.output
    assert "1797" in res.output and "Grid-like samples" in res.output
    assert "recommend 2-D CNN" in res.output


def test_inspect_json() -> None:
    res = CliRunner().invoke(main, ["inspect", str(DATA / "digits"), "--json"])
    payload = json.loads(res.output)
    assert payload["profile"]["n_classes"] == 10
    assert payload["recommendation"]["family"] == "cnn"
    assert payload["recommendation"]["steps"][1]["answer"] == "yes"


@pytest.mark.parametrize(
    "args, needle",
    [
        (["inspect", "no/such/folder"], "does not exist"),
        (["fit", str(DATA / "digits"), "--time", "0"], "must be positive"),
        (["fit", str(DATA / "digits"), "--time", "soon"], "cannot read the budget"),
        (["fit", str(DATA / "digits"), "--time", "5m", "--out", str(DATA / "digits" / "run")], "inside the input"),
        (["report", "no/such/run"], "not a run directory"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert len([line for line in res.output.splitlines() if line.strip()]) == 1


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["inspect", str(tmp_path / "missing"), "-v"])
    assert res.exit_code != 0 and res.exception is not None


def test_python_m_archpick_help() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "archpick", "--help"], capture_output=True, text=True, check=True)
    assert "inspect" in out.stdout and "fit" in out.stdout
