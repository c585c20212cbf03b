"""`archpick predict` in bulk: files, folders and globs in; one CSV with a header (or JSON lines) out.

A folder gives every file in it (recursively, sorted) of a type the run's model takes; for video, a folder
that holds video files is a folder of clips, and a folder of frame images without video files is one clip.
A file that cannot be predicted gets a row with its error and the others are predicted; a single file given
alone keeps the one-line error of `archpick predict FILE`.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from archpick.errors import ArchpickError, DataError, OptionError
from archpick.kinds import kind_of
from archpick.predict import (
    Prediction,
    ServedModel,
    check_input,
    input_kind,
    load_served,
    model_dir_of,
    predict_file,
)

GLOB_CHARS = frozenset("*?[")
RESERVED_COLUMNS = frozenset({"path", "row", "step", "date", "prediction", "error"})


@dataclass
class Target:
    """One thing to predict: a file, a video's frame folder, or a path that cannot be used (with why)."""

    path: Path
    error: str | None = None
    clip_folder: bool = False


@dataclass
class Expansion:
    """The targets that the given paths expand to, in order, and the files of other types left out."""

    targets: list[Target] = field(default_factory=list)
    ignored: int = 0


@dataclass
class BatchResult:
    """Every prediction of a batch, with a row for each file that could not be predicted.

    Attributes:
        rows: Predictions and error rows, in input order.
        kind: The model's input kind (a "window" model forecasts).
        labels: Class names in output order (classification), else empty.
        ignored: Files inside the given folders that this model does not take (other types).
        single: One file was given alone (no folder, no glob): no summary line is needed.
    """

    rows: list[Prediction]
    kind: str
    labels: list[str]
    ignored: int = 0
    single: bool = False

    @property
    def predicted_files(self) -> int:
        """Files (or clips) with at least one prediction."""
        return len({row.path for row in self.rows if row.error is None})

    @property
    def skipped(self) -> list[Prediction]:
        """The rows of files that could not be predicted."""
        return [row for row in self.rows if row.error is not None]

    def summary(self) -> str:
        """One line: files predicted and skipped (with the first reason), other files ignored."""
        done = self.predicted_files
        predictions = sum(row.error is None for row in self.rows)
        text = f"predicted {done} file{'s' * (done != 1)} ({predictions} prediction{'s' * (predictions != 1)})"
        if self.skipped:
            first = self.skipped[0]
            text += (
                f", skipped {len(self.skipped)} that could not be predicted (each has a row with its error; "
                f"first: {first.path}: {first.error})"
            )
        if self.ignored:
            text += f", ignored {self.ignored} file{'s' * (self.ignored != 1)} of other types in the folders"
        return text


def _walk(folder: Path) -> tuple[list[Path], list[Path]]:
    """Every visible non-folder entry and every visible subfolder under `folder`, sorted; symlinked folders
    are not followed (no loops)."""
    from archpick.datasets.base import is_hidden

    files: list[Path] = []
    dirs: list[Path] = []
    for root, subdirs, names in os.walk(folder, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if not is_hidden(d))
        dirs.extend(Path(root) / d for d in subdirs)
        files.extend(Path(root) / n for n in sorted(names) if not is_hidden(n))
    return files, dirs


def _files_in(folder: Path, suffixes: frozenset[str]) -> Expansion:
    """The files of a usable type in a folder, recursively (a pipe or device among them is listed, and
    refused without being read)."""
    files, _ = _walk(folder)
    usable = sorted((f for f in files if f.suffix.lower() in suffixes), key=lambda f: f.parts)
    return Expansion([Target(f) for f in usable], len(files) - len(usable))


def _clips_in(folder: Path) -> Expansion:
    """Clips in a folder: every video file, and every frame folder (frame images and no video file). A folder
    that is itself a frame folder, with no video anywhere below it, is one clip."""
    from archpick.datasets.frames import VIDEO_SUFFIXES, frame_files

    files, dirs = _walk(folder)
    videos = [f for f in files if f.suffix.lower() in VIDEO_SUFFIXES]
    with_video = {f.parent for f in videos}
    frame_dirs = [d for d in [folder, *dirs] if d not in with_video and frame_files(d)]
    if not videos and frame_dirs[:1] == [folder]:
        return Expansion([Target(folder, clip_folder=True)])
    frame_dirs = [d for d in frame_dirs if d != folder]
    used = len(videos) + sum(len(frame_files(d)) for d in frame_dirs)
    targets = [Target(f) for f in videos] + [Target(d, clip_folder=True) for d in frame_dirs]
    return Expansion(sorted(targets, key=lambda t: t.path.parts), max(len(files) - used, 0))


def _expand_one(path: Path, kind: str) -> Expansion:
    """A given path as targets: a file as itself, a folder as the usable files (or clips) inside it."""
    if not path.is_dir():
        return Expansion([Target(path)])
    model_kind = kind_of(kind)
    found = _clips_in(path) if model_kind.clip_folders else _files_in(path, model_kind.suffixes())
    if not found.targets:
        types = ", ".join(sorted(model_kind.suffixes()))
        words = model_kind.words
        found.targets = [Target(path, f"holds no {words} file this model takes ({types}); give a folder of such files")]
    return found


def expand_paths(paths: list[str | Path], kind: str) -> Expansion:
    """Files, folders and (quoted) globs as the targets to predict, in the order given.

    Args:
        paths: What the user gave.
        kind: The model's input kind (image, video, text, sequence, window, table).

    Returns:
        The targets (a path that matches nothing carries its error) and the count of other files ignored.
    """
    out = Expansion()
    for given in paths:
        path = Path(given)
        if not os.path.lexists(path) and GLOB_CHARS & set(str(given)):
            matches = sorted(glob.glob(str(given), recursive=True))
            if not matches:
                out.targets.append(Target(path, "matches no file; check the pattern"))
            expanded = [_expand_one(Path(m), kind) for m in matches]
        else:
            expanded = [_expand_one(path, kind)]
        for part in expanded:
            out.targets.extend(part.targets)
            out.ignored += part.ignored
    return out


def _reason(exc: BaseException, path: Path) -> str:
    """An error as one line, without the path prefix that the row already shows."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    prefix = f"{path}: "
    text = text[len(prefix) :] if text.startswith(prefix) else text
    if not isinstance(exc, ArchpickError):
        text = f"cannot be predicted ({type(exc).__name__}: {text[:300]}); check that it is like the training data"
    return text


def _predict_target(model: ServedModel, target: Target, strict: bool) -> list[Prediction]:
    """One target's predictions, or its error row (raised instead when `strict`)."""
    if target.error is None:
        try:
            return predict_file(model, target.path)
        except Exception as exc:  # noqa: BLE001 - one bad file never ends the batch
            if strict:
                raise
            target.error = _reason(exc, target.path)
    return [Prediction(path=str(target.path), name=str(target.path), error=target.error)]


def predict_paths(run_dir: str | Path, paths: list[str | Path]) -> BatchResult:
    """Predict every usable file under `paths` with the run's exported model.

    Args:
        run_dir: A complete run directory.
        paths: Files, folders or globs.

    Returns:
        The predictions and the error rows, in order.

    Raises:
        ArchpickError: The run has no usable model, or a single file given alone cannot be predicted.
    """
    model_dir = model_dir_of(run_dir)
    kind = input_kind(model_dir)
    expansion = expand_paths(paths, kind)
    targets = expansion.targets
    strict = len(paths) == 1 and len(targets) == 1 and targets[0].path == Path(paths[0])
    for target in targets:  # before the model loads: bad files are known at once
        if target.error is None and not target.clip_folder:
            try:
                check_input(target.path)
            except DataError as exc:
                if strict:
                    raise
                target.error = _reason(exc, target.path)
    if strict and targets[0].error is not None:
        raise DataError(targets[0].error, targets[0].path)
    if all(target.error is not None for target in targets):
        rows = [Prediction(path=str(t.path), name=str(t.path), error=t.error) for t in targets]
        return BatchResult(rows, kind, [], expansion.ignored)
    model = load_served(model_dir)
    rows = [row for target in targets for row in _predict_target(model, target, strict)]
    return BatchResult(rows, kind, model.labels if model.classification else [], expansion.ignored, strict)


def _number(value: float) -> str:
    return f"{value:.6g}"


def _label_columns(labels: list[str]) -> list[str]:
    """A probability column per class, named by its label (prefixed only where it would clash)."""
    return [f"probability_{label}" if label in RESERVED_COLUMNS else label for label in labels]


def csv_table(result: BatchResult) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the CSV: path, row (when any file holds several inputs), prediction, one
    probability column per class; forecasts get one row per step with its date (or step number)."""
    if kind_of(result.kind).forecasts:
        dated = any(row.dates for row in result.rows)
        header = ["path", "step"] + ["date"] * dated + ["prediction", "error"]
        table = []
        for row in result.rows:
            if row.error is not None:
                table.append([row.path, ""] + [""] * dated + ["", row.error])
                continue
            for step, value in enumerate(row.values or [], start=1):
                date = [row.dates[step - 1] if row.dates else ""] * dated
                table.append([row.path, str(step), *date, _number(value), ""])
        return header, table
    with_row = any(row.row is not None for row in result.rows)
    header = ["path"] + ["row"] * with_row + ["prediction"] + _label_columns(result.labels) + ["error"]
    table = []
    for row in result.rows:
        cells = [row.path] + [row.row or ""] * with_row
        if row.error is not None:
            table.append(cells + [""] * (1 + len(result.labels)) + [row.error])
        elif row.probabilities is not None:
            probs = [_number(row.probabilities[label]) for label in result.labels]
            table.append(cells + [str(row.label)] + probs + [""])
        else:
            table.append(cells + [" ".join(_number(v) for v in row.values or [])] + [""])
    return header, table


def format_output(result: BatchResult, as_json: bool) -> str:
    """The whole output: a CSV with a header, or one JSON line per prediction or skipped file."""
    import json

    if as_json:
        return "".join(json.dumps(row.as_json()) + "\n" for row in result.rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header, table = csv_table(result)
    writer.writerow(header)
    writer.writerows(table)
    return buffer.getvalue()


def check_out(out: Path) -> None:
    """Refuse, before anything is predicted, an output path that cannot be written."""
    if out.is_dir():
        raise OptionError("is a folder; give a file name for the CSV, e.g. predictions.csv", out)
    if not out.parent.is_dir():
        raise OptionError("cannot be written: its folder does not exist; create it or give another path", out)


def write_output(text: str, out: Path | None, stream: TextIO | None = None) -> None:
    """Write the output to `out` (whole, through a temporary file) or to stdout (a closed pipe, as in
    `| head`, ends the output quietly)."""
    if out is None:
        stream = stream or sys.stdout
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    tmp = out.with_name(f".{out.name}.partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OptionError(f"cannot be written ({exc.strerror}); check the path and its permissions", out) from exc
