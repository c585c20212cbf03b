"""Predict on new raw files with an exported SavedModel (no Python objects from training are used), or with
model.keras when the run trained without TensorFlow."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archpick.datasets.inputspec import InputSpec
from archpick.decoding import first_line
from archpick.errors import DataError, RunError
from archpick.kinds import Kind, kind_of
from archpick.modelmeta import ModelMeta, load_meta

MAX_INPUT_BYTES = 2 * 1024**3  # predict reads at most this much from one file


def check_input(file: Path) -> Path:
    """A readable regular file of bounded size, or a one-line DataError (a FIFO, device or folder would block
    or mislead the readers).

    Returns:
        The file.
    """
    try:
        info = file.stat()
    except FileNotFoundError as exc:
        raise DataError("does not exist; check the path", file) from exc
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror}); check the path and its permissions", file) from exc
    if stat.S_ISDIR(info.st_mode):
        raise DataError("is a folder; give the files inside it (for example FOLDER/*)", file)
    if not stat.S_ISREG(info.st_mode):
        raise DataError(
            "is not a regular file (a pipe, socket or device); save the input to a file and give that", file
        )
    if info.st_size > MAX_INPUT_BYTES:
        raise DataError(
            f"is {info.st_size / 1024**3:.1f} GiB, more than predict reads from one file "
            f"({MAX_INPUT_BYTES // 1024**3} GiB); split it into smaller files",
            file,
        )
    if not os.access(file, os.R_OK):
        raise DataError("cannot be read (permission denied); check its permissions", file)
    return file


def _server(model_dir: Path, spec: InputSpec) -> Callable[[Any], np.ndarray]:
    """batch -> predictions: the SavedModel where TensorFlow can load it, else model.keras on any backend."""
    from archpick import backend

    kind = kind_of(spec)
    if (model_dir / "saved_model.pb").exists() and backend.has_tensorflow():
        from archpick.hardware import import_tensorflow

        try:
            served = import_tensorflow().saved_model.load(str(model_dir))
        except Exception as exc:  # noqa: BLE001 - a corrupt or truncated export is the user's file, not a bug
            raise RunError(
                f"holds a SavedModel that cannot be loaded ({first_line(exc)}); rebuild it from "
                "model.keras with `archpick export RUN_DIR`, or fit again",
                model_dir,
            ) from exc
        return lambda batch: np.asarray(served.serve(kind.to_tensor(batch, spec)))
    if not (model_dir / "model.keras").exists():
        raise RunError("has a SavedModel only, which needs TensorFlow; pip install tensorflow", model_dir)
    backend.check_modality(backend.start(), spec.kind, model_dir)
    import keras

    import archpick.layers  # noqa: F401 - registers archpick's custom layers for load_model

    try:
        model = keras.saving.load_model(model_dir / "model.keras", compile=False)
    except Exception as exc:  # noqa: BLE001 - as above
        raise RunError(f"holds a model.keras that cannot be loaded ({first_line(exc)}); fit again", model_dir) from exc
    # Text and string tables run only on TensorFlow: the model takes a string tensor, not a numpy array.
    strings = kind.takes_strings(spec)
    if strings and keras.backend.backend() != "tensorflow":
        raise RunError(
            f"takes string inputs, which need the TensorFlow backend, but Keras runs on "
            f"{keras.backend.backend()}; pip install tensorflow and set KERAS_BACKEND=tensorflow",
            model_dir,
        )
    convert = kind.to_tensor if strings else kind.to_array
    return lambda batch: keras.ops.convert_to_numpy(model(convert(batch, spec), training=False))


@dataclass
class Prediction:
    """One prediction, or one input that could not be predicted.

    Attributes:
        path: The file (or frame folder) read.
        name: The input as the readers name it: the file, "file:row" or "file[i]" for rows and sequences,
            "file (after TIME)" for a forecast.
        row: The row, line or index inside the file, when the file holds several inputs.
        label: The top class (classification).
        probabilities: Class label -> probability, in labels.json order (classification).
        values: The predicted values (regression, forecasting).
        dates: The time of each forecast step, when the series has a time column.
        error: One line saying why this input was not predicted.
    """

    path: str
    name: str
    row: str | None = None
    label: str | None = None
    probabilities: dict[str, float] | None = None
    values: list[float] | None = None
    dates: list[str] | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON line of `archpick predict --json` (and the dicts `predict` returns)."""
        if self.error is not None:
            return {"input": self.name, "error": self.error}
        if self.label is not None and self.probabilities is not None:
            return {
                "input": self.name,
                "class": self.label,
                "probability": self.probabilities[self.label],
                "probabilities": self.probabilities,
            }
        out: dict[str, Any] = {"input": self.name, "prediction": self.values}
        if self.dates:
            out["dates"] = self.dates
        return out


@dataclass
class ServedModel:
    """A run's exported model, loaded once for many files.

    Attributes:
        path: RUN_DIR/model.
        meta: archpick.json (input_spec, task...).
        labels: Class names in output order (labels.json).
        serve: Raw batch -> model outputs.
    """

    path: Path
    meta: ModelMeta
    labels: list[str]
    serve: Callable[[Any], np.ndarray]

    @property
    def spec(self) -> InputSpec:
        """The input spec (kind, shape, dtype, ...)."""
        return self.meta.input_spec

    @property
    def kind(self) -> Kind:
        """The input kind (archpick/kinds.py)."""
        return kind_of(self.spec)

    @property
    def classification(self) -> bool:
        """True when the model outputs class probabilities."""
        return self.meta.task == "classification"


def model_dir_of(run_dir: str | Path) -> Path:
    """RUN_DIR/model of a run that exported a model (one-line RunError otherwise)."""
    from archpick.run import STATUS_FILE, SUMMARY_FILE, load_run

    run = load_run(run_dir)
    if not (run.path / STATUS_FILE).exists() and (run.path / SUMMARY_FILE).exists():
        members = sorted(p.name for p in run.path.iterdir() if (p / "model").is_dir())
        example = members[0] if members else "DATASET"
        raise RunError(
            f"is a folder of runs, one per dataset ({', '.join(members) or 'none exported'}); name one, "
            f"e.g. archpick predict {run.path / example} FILES",
            run_dir,
        )
    model_dir = run.model_path
    if not (model_dir / "saved_model.pb").exists() and not (model_dir / "model.keras").exists():
        raise RunError("has no exported model (model/saved_model.pb or model.keras); was the run complete?", run_dir)
    return model_dir


def input_kind(model_dir: Path) -> str:
    """The kind of input the exported model takes (image, video, text, sequence, window, table)."""
    return load_meta(model_dir)[0].input_spec.kind


def load_served(model_dir: Path) -> ServedModel:
    """The exported model of RUN_DIR/model, ready to serve raw inputs."""
    meta, labels = load_meta(model_dir)
    return ServedModel(model_dir, meta, labels, _server(model_dir, meta.input_spec))


def _row_of(name: str, file: Path) -> str | None:
    """The row, line or index a reader's input name adds to its file's name ("f.csv:3" -> "3")."""
    rest = name[len(str(file)) :] if name.startswith(str(file)) else ""
    if rest.startswith(":"):
        return rest[1:]
    if rest.startswith("[") and rest.endswith("]"):
        return rest[1:-1]
    return None


def _forecast_dates(file: Path, spec: InputSpec) -> list[str] | None:
    """The time of each forecast step after the series in `file` (its own time column, continued at its own
    frequency), or None when the file has no time column."""
    from archpick.datasets import columns as cols
    from archpick.datasets.series import detect_time_column, prepare
    from archpick.datasets.series.timeline import future_times

    frame = cols.read_frame(file)
    time_column, _ = detect_time_column(frame, cols.classify_columns(frame))
    if time_column is None:
        return None
    times = prepare(frame, time_column, spec.target, file).times
    return future_times(times, int(spec.horizon)) if len(times) >= 2 else None


def _batches(raw: list[tuple[str, Any]], text: bool, size: int = 256):
    """(names, batch) chunks of at most `size` inputs: a list of strings for text (`Kind.one_string`), else a
    stacked array."""
    for start in range(0, len(raw), size):
        chunk = raw[start : start + size]
        names = [name for name, _ in chunk]
        yield names, ([x for _, x in chunk] if text else np.stack([np.asarray(x) for _, x in chunk]))


def predict_file(model: ServedModel, file: Path) -> list[Prediction]:
    """Every input in one file (one image, clip or document; each row, sequence or the last window).

    Raises:
        DataError: The file cannot be read as the model's input, or holds no input.
    """
    spec, kind = model.spec, model.kind
    raw = kind.read(file, spec)
    if not raw:
        raise DataError("holds nothing to predict (no rows or sequences); give a file like the training data", file)
    dates = _forecast_dates(file, spec) if kind.forecasts else None
    out: list[Prediction] = []
    for names, batch in _batches(raw, kind.one_string):
        for name, pred in zip(names, model.serve(batch), strict=True):
            item = Prediction(path=str(file), name=name, row=_row_of(name, file))
            if model.classification:
                item.probabilities = {label: float(p) for label, p in zip(model.labels, pred, strict=True)}
                item.label = model.labels[int(np.argmax(pred))]
            else:
                item.values = [float(v) for v in np.ravel(pred)]
                item.dates = dates
            out.append(item)
    return out


def predict(run_dir: str | Path, files: list[str | Path]) -> list[dict[str, Any]]:
    """Run the exported model on raw files; the first file that cannot be read raises.

    (`archpick predict` goes through `archpick.batchpredict`, which also takes folders and skips bad files.)

    Args:
        run_dir: A complete run directory.
        files: Inputs of the kind the model was trained on.

    Returns:
        One dict per input: input, and class + probability + probabilities (classification) or prediction
        (the values; a forecast also has dates when its series has a time column).
    """
    model_dir = model_dir_of(run_dir)
    inputs = [check_input(Path(file)) for file in files]  # before the model loads: a bad file fails fast
    model = load_served(model_dir)
    return [item.as_json() for file in inputs for item in predict_file(model, file)]
