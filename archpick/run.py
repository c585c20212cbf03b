"""The run directory: paths, atomic writes, completion marker, and loading a finished run."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archpick.errors import RunError

try:
    import fcntl
except ImportError:  # Windows: runs are not locked there
    fcntl = None  # type: ignore[assignment]

STATUS_FILE = "status.json"
REPORT_FILE = "report.json"
SUMMARY_FILE = "summary.json"
PROFILE_FILE = "profile.json"
LOCK_FILE = ".archpick.lock"
SPENT_FILE = "archpick_spent.json"  # seconds of a family's budget spent, in tuner/<family>/ (search.py writes it)
STATUSES = ("running", "complete", "failed")
DAMAGED_HINT = "the run directory is damaged: fit the data again with --out RUN_DIR --overwrite"
RESUME_HINT = "this run cannot be resumed: fit the data again with --out RUN_DIR --overwrite"
COMPLETE_MESSAGE = (
    "is complete already, so there is nothing to resume (see `archpick report {run}`); to train "
    "again, use --out {run} --overwrite"
)


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


def as_written(data: Any) -> Any:
    """`data` as `write_json` would write it and json.loads read it back (numpy values and paths converted)."""
    return json.loads(json.dumps(data, default=_jsonable, allow_nan=False))


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


def existing_folder(run_dir: str | Path) -> Path:
    """`run_dir` as a Path when it is a folder, else a one-line RunError."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunError("is not a run directory; give a folder written by `archpick fit`", path)
    return path


def read_json(file: Path, hint: str = DAMAGED_HINT) -> dict[str, Any]:
    """A JSON object that archpick wrote into a run directory, or a one-line RunError naming the file.

    Args:
        file: The file to read back.
        hint: What the user should do when it is broken.

    Returns:
        The object.
    """
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunError(f"is missing; {hint}", file) from exc
    except OSError as exc:
        raise RunError(f"cannot be read ({exc.strerror}); check its permissions", file) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise RunError(f"is damaged (not valid JSON: {exc}); {hint}", file) from exc
    if not isinstance(data, dict):
        raise RunError(f"is damaged (a JSON {type(data).__name__}, not an object); {hint}", file)
    return data


def read_status(run_dir: Path) -> str:
    """The run's status from status.json ("running", "complete" or "failed"), validated."""
    file = run_dir / STATUS_FILE
    status = read_json(file).get("status")
    if status not in STATUSES:
        raise RunError(f"is damaged (status {status!r} is none of {', '.join(STATUSES)}); {DAMAGED_HINT}", file)
    return status


class RunLock:
    """An exclusive lock (flock) on a run directory's lock file, held while one process writes the run.

    The lock file stays in the directory; the operating system drops the lock when its holder exits, even on
    SIGKILL, so a stale lock never blocks a resume.

    Args:
        run_dir: The run directory (it must exist).
    """

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock without waiting; a one-line RunError when another process holds it."""
        try:
            fd = os.open(self.run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunError(f"cannot write here ({exc.strerror}); choose a writable --out", self.run_dir) from exc
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):  # a filesystem without locks: go on unlocked
                    return self
                pid = f" (pid {holder})" if holder.isdigit() else ""
                raise RunError(
                    f"another archpick process{pid} is writing this run directory; wait for it to "
                    "finish, or choose another --out",
                    self.run_dir,
                ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (closing the file releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _check_place(path: Path, data: Path) -> None:
    """Refuse an output folder that is, holds or lies inside the input data, or that is a file."""
    if data.is_dir() and _inside(path, data):
        raise RunError(f"the output folder is inside the input data ({data}); choose --out elsewhere", path)
    if path.resolve() == data.resolve():
        raise RunError("is the input data file; choose --out elsewhere", path)
    if data.exists() and _inside(data, path):
        raise RunError(f"the output folder contains the input data ({data}); choose --out elsewhere", path)
    if path.exists() and not path.is_dir():
        raise RunError("is a file, not a folder; choose another --out (archpick never writes over a file)", path)


def _new_default(name: str, root: Path) -> Path:
    """Reserve root/<name>-<yyyymmdd-hhmmss>[-n] atomically (two fits started in the same second differ)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = root / (f"{name}-{stamp}" if n == 1 else f"{name}-{stamp}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as exc:
        raise RunError(f"cannot write here ({exc.strerror}); choose a writable --out", root) from exc
    raise RunError("holds too many runs of this dataset started this second; choose --out", root)


def _is_run_dir(path: Path) -> bool:
    """A folder archpick wrote: a run, or a folder of runs (fit of a collection), perhaps only just started."""
    if (path / STATUS_FILE).exists() or (path / SUMMARY_FILE).exists():
        return True
    return any((p / STATUS_FILE).exists() or (p / LOCK_FILE).exists() for p in path.iterdir())


def _clear(path: Path) -> None:
    """Empty a run directory for --overwrite (its lock file stays: this process holds it).

    Refuses folders archpick did not write, and runs of a collection that another process is still writing.
    """
    if not _is_run_dir(path):
        raise RunError(
            "is not an archpick run directory (no status.json); --overwrite replaces only runs, so "
            "choose another --out",
            path,
        )
    with contextlib.ExitStack() as held:
        for child in sorted(p for p in path.iterdir() if (p / LOCK_FILE).is_file()):
            held.enter_context(RunLock(child))
        for item in path.iterdir():
            if item.name == LOCK_FILE:
                continue
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item)
            else:
                item.unlink()


@contextlib.contextmanager
def open_run_dir(
    name: str, out: str | Path | None, data_path: str | Path, overwrite: bool = False, root: str | Path = "runs"
) -> Iterator[Path]:
    """Make (or, with `overwrite`, empty) a run directory and hold its lock until the block ends.

    Args:
        name: Dataset name (used when `out` is None).
        out: Explicit run directory, or None for `root/<name>-<yyyymmdd-hhmmss>`.
        data_path: The input data, which must never be written to: a folder input refuses any `out` inside
            it; a file input refuses only `out` equal to the file (a run directory next to it is fine).
        overwrite: Replace an existing run directory (never one that another process is writing).
        root: Parent of default run directories.

    Yields:
        The empty run directory, locked.
    """
    _check_place(Path(root) / name if out is None else Path(out), Path(data_path))
    path = _new_default(name, Path(root)) if out is None else Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot write here ({exc.strerror}); choose a writable --out", path) from exc
    with RunLock(path):
        if any(p.name != LOCK_FILE for p in path.iterdir()):
            if not overwrite:
                raise RunError("already exists and is not empty; pass --overwrite or choose another --out", path)
            _clear(path)
        yield path


def create_run_dir(
    name: str, out: str | Path | None, data_path: str | Path, overwrite: bool = False, root: str | Path = "runs"
) -> Path:
    """Make the run directory as `open_run_dir` does, and release its lock at once.

    Returns:
        The created (empty) run directory.
    """
    with open_run_dir(name, out, data_path, overwrite, root) as path:
        return path


@contextlib.contextmanager
def resume_run_dir(run_dir: str | Path) -> Iterator[Path]:
    """Lock an interrupted run for --resume; refuse a complete one (it is never trained again).

    Yields:
        The run directory, locked.
    """
    path = existing_folder(run_dir)
    with RunLock(path):
        if read_status(path) == "complete":
            raise RunError(COMPLETE_MESSAGE.format(run=path), path)
        yield path


def claim(
    name: str,
    out: str | Path | None,
    data_path: str | Path,
    overwrite: bool = False,
    root: str | Path = "runs",
    resume: str | Path | None = None,
) -> contextlib.AbstractContextManager[Path]:
    """The run directory of one fit, locked for the fit's whole length: `resume`'s, or a new one."""
    if resume is not None:
        return resume_run_dir(resume)
    return open_run_dir(name, out, data_path, overwrite, root)


@dataclass
class RecordedData:
    """What a run's profile.json says about the data it was fitted on.

    Attributes:
        run_dir: The run directory.
        path: The data's resolved path when the run started (None if never recorded).
        modality: Its modality.
        n_samples: Its number of samples.
    """

    run_dir: Path
    path: str | None = None
    modality: str | None = None
    n_samples: int | None = None

    def data_path(self, given: str | Path | None) -> str | Path:
        """The data to resume on: `given` when there is one, else the recorded path while it exists."""
        if given is not None:
            return given
        if self.path is None:
            raise RunError("records no data path; give the data: archpick fit PATH --resume RUN_DIR", self.run_dir)
        if not Path(self.path).exists():
            raise RunError(
                f"was fitted on {self.path}, which is gone; give its new place: archpick fit PATH --resume RUN_DIR",
                self.run_dir,
            )
        return self.path

    def check_same(self, modality: str, n_samples: int, path: str | Path) -> None:
        """Refuse data other than the run's (a resumed search must see the same samples)."""
        if self.modality is None or (modality, n_samples) == (self.modality, self.n_samples):
            return
        raise RunError(
            f"was fitted on {self.modality} data with {self.n_samples} samples, but {path} is "
            f"{modality} data with {n_samples} samples; give the same data, or start a new run without "
            "--resume",
            self.run_dir,
        )


def check_resumable(run_dir: str | Path) -> RecordedData:
    """Validate an interrupted run before --resume: status, profile and every state file read back.

    Returns:
        The data the run was fitted on, as recorded.
    """
    path = existing_folder(run_dir)
    if not (path / STATUS_FILE).exists():
        raise RunError("has no status.json, so it is not a run that --resume can continue", path)
    if read_status(path) == "complete":
        raise RunError(COMPLETE_MESSAGE.format(run=path), path)
    tuner = path / "tuner"
    for file in sorted(tuner.glob("*/*.json")) + sorted(tuner.glob("*/trial_*/*.json")):
        data = read_json(file, RESUME_HINT)
        if file.name == SPENT_FILE and not _non_negative(data.get("seconds")):
            raise RunError(f"is damaged (no seconds spent); {RESUME_HINT}", file)
    if not (path / PROFILE_FILE).exists():
        return RecordedData(path)
    profile = read_json(path / PROFILE_FILE, RESUME_HINT)
    recorded = profile.get("resolved_path") or profile.get("path")
    modality, n_samples = profile.get("modality"), profile.get("n_samples")
    if not isinstance(recorded, str) or not isinstance(modality, str) or not isinstance(n_samples, int):
        raise RunError(f"is damaged (no data path, modality or sample count); {RESUME_HINT}", path / PROFILE_FILE)
    return RecordedData(path, recorded, modality, n_samples)


def _non_negative(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


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

    def read_form(self, fmt: str) -> str:
        """The report (or a collection's summary) as "md", "html" or "json", with a one-line error when absent."""
        stem = "summary" if "datasets" in self.report else "report"
        file = self.path / f"{stem}.{fmt}"
        try:
            return file.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            if not self.complete:
                raise RunError(
                    f"has no {file.name} (status: {self.status}); the run did not finish: continue it "
                    f"with archpick fit --resume {self.path}",
                    self.path,
                ) from exc
            others = [f"--format {f}" for f in ("json", "md", "html") if (self.path / f"{stem}.{f}").exists()]
            where = f"the other forms are there: {', '.join(others)}" if others else DAMAGED_HINT
            raise RunError(
                f"has no {file.name} although the run is complete (it was removed); {where}", self.path
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"cannot be read ({exc}); check the file and its permissions", file) from exc

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status!r})"


def load_run(path: str | Path) -> Run:
    """Open a run directory (complete or not); its status.json and report.json are validated."""
    path = existing_folder(path)
    if not (path / STATUS_FILE).exists():
        if (path / SUMMARY_FILE).exists():
            return Run(path, read_json(path / SUMMARY_FILE), "complete")
        raise RunError("has no status.json, so it is not an archpick run directory", path)
    status = read_status(path)
    report_file = path / REPORT_FILE
    report = read_json(report_file) if report_file.exists() else {}
    return Run(path, report, status)


def latest_run(root: str | Path = "runs") -> Path:
    """The most recently started run directory under `root`."""
    root = Path(root)
    candidates = [p for p in root.glob("*") if (p / STATUS_FILE).exists() or (p / SUMMARY_FILE).exists()]
    if not candidates:
        raise RunError("no runs found; run `archpick fit DATA` first or name a run directory", root)
    return max(candidates, key=lambda p: p.stat().st_mtime)
