"""Run directories: a file input's run lands next to it, a run being written is locked against other processes,
a complete run is never retrained by --resume, a moved dataset can be resumed, predict reads only regular files,
and no traceback reaches a user without -v (issue 16, groups 1, 5, 6 and 8).

One tiny real fit (a 200-row table, `cd project && archpick fit sales.csv`) is shared by the module; every other
check copies its run directory or builds fakes, and costs no training.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import archpick
from archpick.cli import main
from archpick.errors import RunError
from archpick.run import LOCK_FILE, RunLock, create_run_dir, open_run_dir

TINY_FIT = ["--time", "30s", "--max-trials", "1", "--families", "recommended", "--seed", "0", "-q"]


def _write_sales(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    lines = ["price,stock,visits,bought"] + [
        f"{a:.4f},{b:.4f},{c:.4f},{'yes' if a + 0.5 * b > 0 else 'no'}" for a, b, c in x
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project folder holding sales.csv and, after `cd project && archpick fit sales.csv`, runs/sales-*."""
    root = tmp_path_factory.mktemp("project")
    _write_sales(root / "sales.csv")
    here = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["fit", "sales.csv", *TINY_FIT])
    finally:
        os.chdir(here)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return root


@pytest.fixture(scope="module")
def table_run(project: Path) -> Path:
    (run,) = (project / "runs").iterdir()
    return run


def _copy_run(run: Path, dst: Path, status: str | None = None) -> Path:
    shutil.copytree(run, dst)
    if status:
        (dst / "status.json").write_text(json.dumps({"status": status}))
    return dst


# Group 1: a single input file --------------------------------------------------------------------------------


def test_a_file_input_gets_a_run_directory_next_to_it(tmp_path: Path) -> None:
    data = _write_sales(tmp_path / "project" / "sales.csv")
    run = create_run_dir("sales", None, data, root=tmp_path / "project" / "runs")
    assert run.parent == tmp_path / "project" / "runs" and run.is_dir()
    beside = create_run_dir("sales", tmp_path / "project" / "out", data)
    assert beside.is_dir()
    with pytest.raises(RunError, match="input data file"):
        create_run_dir("sales", data, data, overwrite=True)
    with pytest.raises(RunError, match="contains the input data"):
        create_run_dir("sales", tmp_path / "project", data, overwrite=True)
    assert data.read_text().startswith("price,")


def test_a_folder_input_still_refuses_out_inside_it(tmp_path: Path) -> None:
    (tmp_path / "images" / "a").mkdir(parents=True)
    with pytest.raises(RunError, match="inside the input data"):
        create_run_dir("images", tmp_path / "images" / "runs", tmp_path / "images")


@pytest.mark.slow
def test_fit_of_a_file_in_the_working_folder(project: Path, table_run: Path) -> None:
    """`cd project && archpick fit sales.csv` (the fixture): the run sits in project/runs, the data untouched."""
    assert table_run.parent == project / "runs"
    assert json.loads((table_run / "status.json").read_text())["status"] == "complete"
    assert (table_run / "model").is_dir() and (table_run / "report.json").is_file()
    assert sorted(p.name for p in project.iterdir()) == ["runs", "sales.csv"]


# Group 5: run directories are protected ----------------------------------------------------------------------


@pytest.mark.slow
def test_resume_of_a_complete_run_trains_nothing(project: Path, table_run: Path) -> None:
    watched = [table_run / "report.json", table_run / "status.json", table_run / "model" / "archpick.json"]
    before = [f.stat().st_mtime_ns for f in watched]
    result = CliRunner().invoke(main, ["fit", str(project / "sales.csv"), "--resume", str(table_run), *TINY_FIT])
    assert result.exit_code == 2
    line = _one_line(result)
    assert str(table_run) in line and "complete already" in line and "--overwrite" in line
    assert [f.stat().st_mtime_ns for f in watched] == before


@pytest.mark.slow
def test_resume_takes_path_when_the_data_moved(project: Path, table_run: Path, tmp_path: Path) -> None:
    run = _copy_run(table_run, tmp_path / "run", status="running")  # interrupted after its only trial
    profile = json.loads((run / "profile.json").read_text())
    profile["resolved_path"] = str(tmp_path / "gone" / "sales.csv")  # where the data was
    (run / "profile.json").write_text(json.dumps(profile))
    moved = shutil.copy2(project / "sales.csv", tmp_path / "sales.csv")
    trials = sorted(p.name for p in (run / "tuner").rglob("trial_*"))

    result = CliRunner().invoke(main, ["fit", "--resume", str(run), *TINY_FIT])
    assert result.exit_code == 2
    line = _one_line(result)
    assert "gone/sales.csv" in line and "archpick fit PATH --resume" in line

    result = CliRunner().invoke(main, ["fit", str(moved), "--resume", str(run), *TINY_FIT])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert json.loads((run / "status.json").read_text())["status"] == "complete"
    assert sorted(p.name for p in (run / "tuner").rglob("trial_*")) == trials  # no trial trained again
    assert json.loads((run / "profile.json").read_text())["resolved_path"] == str(Path(moved).resolve())


@pytest.mark.slow
def test_a_run_being_written_is_neither_replaced_nor_resumed(
    project: Path, table_run: Path, tmp_path: Path, holder
) -> None:
    run = _copy_run(table_run, tmp_path / "run", status="running")
    files = sorted(str(p.relative_to(run)) for p in run.rglob("*"))
    proc = holder(run)  # another process is writing this run
    data = str(project / "sales.csv")
    for args in (["--out", str(run), "--overwrite"], ["--out", str(run)], ["--resume", str(run)]):
        result = CliRunner().invoke(main, ["fit", data, *args, *TINY_FIT])
        assert result.exit_code == 2, result.output
        line = _one_line(result)
        assert str(run) in line and "another archpick process" in line and f"pid {proc.pid}" in line
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*")) == files
    proc.stdin.close()
    proc.wait(timeout=30)
    with RunLock(run):  # the holder is gone: its lock went with it, although the lock file names its pid
        assert (run / LOCK_FILE).read_text().strip() == str(os.getpid())


def test_overwrite_replaces_a_finished_run_only_when_asked(tmp_path: Path) -> None:
    data = _write_sales(tmp_path / "sales.csv")
    old = tmp_path / "old"
    old.mkdir()
    (old / "status.json").write_text(json.dumps({"status": "complete"}))
    (old / "report.json").write_text("{}")
    with pytest.raises(RunError, match="--overwrite"):
        create_run_dir("sales", old, data)
    assert (old / "report.json").exists()
    with open_run_dir("sales", old, data, overwrite=True) as run:
        assert [p.name for p in run.iterdir()] == [LOCK_FILE]
        with pytest.raises(RunError, match="another archpick process"):  # held by this very fit
            create_run_dir("sales", old, data, overwrite=True)


def test_overwrite_spares_a_collection_whose_member_is_being_written(tmp_path: Path, holder) -> None:
    data = _write_sales(tmp_path / "sales.csv")
    root = tmp_path / "collection"
    (root / "digits").mkdir(parents=True)
    (root / "digits" / "status.json").write_text(json.dumps({"status": "running"}))
    holder(root / "digits")
    with pytest.raises(RunError, match="another archpick process"):
        create_run_dir("data", root, data, overwrite=True)
    assert (root / "digits" / "status.json").exists()


def test_a_collection_folder_stays_locked_while_its_members_are_fitted(tmp_path: Path) -> None:
    from archpick.collection import fit_collection
    from archpick.options import FitOptions

    data = tmp_path / "tables"
    for name in ("north", "south"):
        _write_sales(data / name / "sales.csv")
    profile = archpick.inspect(data)
    root = tmp_path / "out"
    refused: list[str] = []

    class Stop(Exception):
        pass

    class Probe:  # the fit's progress receiver: tries to clear the collection as it starts a member
        def stage(self, text: str) -> None:
            try:
                create_run_dir("tables", root, data, overwrite=True)
            except RunError as exc:
                refused.append(str(exc))
            raise Stop

    with pytest.raises(Stop):
        fit_collection(profile, FitOptions(time_budget=60, out=root), Probe())
    assert refused and "another archpick process" in refused[0]
    assert create_run_dir("tables", root, data, overwrite=True) == root  # released when the fit ends


# Group 6: predict reads only regular files -------------------------------------------------------------------


@pytest.mark.slow
def test_predict_refuses_a_fifo_and_reads_a_file(project: Path, table_run: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "new.csv"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "archpick", "predict", str(table_run), str(fifo)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(fifo) in lines[0] and "not a regular file" in lines[0], proc.stderr
    result = CliRunner().invoke(main, ["predict", str(table_run), str(project / "sales.csv"), "--json"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(rows) == 200 and {r["class"] for r in rows} <= {"yes", "no"}


# Group 8: the last-resort handler ----------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_with_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero\nin a second line")

    monkeypatch.setattr(archpick, "inspect", broken)
    data = _write_sales(tmp_path / "sales.csv")
    result = CliRunner().invoke(main, ["inspect", str(data)])
    assert result.exit_code == 1
    line = _one_line(result)
    for needle in (str(data), "ZeroDivisionError", "division by zero in a second line", "-v", "report"):
        assert needle in line, line
    verbose = CliRunner().invoke(main, ["-v", "inspect", str(data)])
    assert isinstance(verbose.exception, ZeroDivisionError)  # -v lets the traceback through
    again = CliRunner().invoke(main, ["inspect", str(data), "-v"])
    assert isinstance(again.exception, ZeroDivisionError)


def test_bad_input_still_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "not a run directory" in _one_line(result)
