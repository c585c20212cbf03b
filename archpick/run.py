"""The run directory: paths, atomic writes, completion marker, and loading a finished run."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archpick.errors import RunError

STATUS_FILE = "status.json"
REPORT_FILE = "report.json"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write to a temporary name in the same folder, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON write (numpy scalars and paths are converted)."""
    write_atomic(path, json.dumps(data, indent=2, default=_jsonable, allow_nan=False) + "\n")


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def create_run_dir(name: str, out: str | Path | None, data_path: str | Path, overwrite: bool = False,
                   root: str | Path = "runs") -> Path:
    """Make the run directory, refusing places inside the input data or over an existing run.

    Args:
        name: Dataset name (used when `out` is None).
        out: Explicit run directory, or None for `root/<name>-<yyyymmdd-hhmmss>`.
        data_path: The input data, which must never be written to.
        overwrite: Replace an existing run directory.
        root: Parent of default run directories.

    Returns:
        The created (empty) run directory.
    """
    data = Path(data_path)
    data_dir = data if data.is_dir() else data.parent
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(root) / f"{name}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path(root) / f"{name}-{stamp}-{n}"
    else:
        path = Path(out)
    if _inside(path, data_dir):
        raise RunError(f"the output folder is inside the input data ({data_dir}); choose --out elsewhere", path)
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise RunError("already exists and is not empty; pass --overwrite or choose another --out", path)
        shutil.rmtree(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"cannot write here ({exc.strerror}); choose a writable --out", path) from exc
    return path


def mark(run_dir: Path, status: str, **extra: Any) -> None:
    """Record the run's status ("running", "complete", "failed"); complete is written last."""
    write_json(run_dir / STATUS_FILE, {"status": status, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra})


@dataclass
class Run:
    """A run directory as the user sees it.

    Attributes:
        path: The run directory.
        report: report.json as a dict (empty if the run never got that far).
        status: "complete", "running" (or interrupted), or "failed".
    """

    path: Path
    report: dict[str, Any]
    status: str

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def model_path(self) -> Path:
        return self.path / "model"

    @property
    def leaderboard(self):
        """The trial leaderboard as a pandas DataFrame."""
        import pandas as pd

        csv = self.path / "leaderboard.csv"
        return pd.read_csv(csv) if csv.exists() else pd.DataFrame(self.report.get("leaderboard", []))

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status!r})"


def load_run(path: str | Path) -> Run:
    """Open a run directory (complete or not)."""
    path = Path(path)
    if not path.is_dir():
        raise RunError("is not a run directory; give a folder written by `archpick fit`", path)
    status_file = path / STATUS_FILE
    if not status_file.exists():
        if (path / "summary.json").exists():
            return Run(path, json.loads((path / "summary.json").read_text()), "complete")
        raise RunError("has no status.json, so it is not an archpick run directory", path)
    status = json.loads(status_file.read_text()).get("status", "running")
    report_file = path / REPORT_FILE
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return Run(path, report, status)


def latest_run(root: str | Path = "runs") -> Path:
    """The most recently started run directory under `root`."""
    root = Path(root)
    candidates = [p for p in root.glob("*") if (p / STATUS_FILE).exists() or (p / "summary.json").exists()]
    if not candidates:
        raise RunError("no runs found; run `archpick fit DATA` first or name a run directory", root)
    return max(candidates, key=lambda p: p.stat().st_mtime)
