"""Predict on new raw files with an exported SavedModel (no Python objects from training are used), or with
model.keras when the run trained without TensorFlow."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from archpick.errors import DataError, RunError

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
        raise DataError("is not a regular file (a pipe, socket or device); save the input to a file and give "
                        "that", file)
    if info.st_size > MAX_INPUT_BYTES:
        raise DataError(f"is {info.st_size / 1024**3:.1f} GiB, more than predict reads from one file "
                        f"({MAX_INPUT_BYTES // 1024**3} GiB); split it into smaller files", file)
    if not os.access(file, os.R_OK):
        raise DataError("cannot be read (permission denied); check its permissions", file)
    return file


def _model_meta(model_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """The exported model's metadata and class names, validated (one-line RunError when damaged)."""
    from archpick.export import LABELS_FILE, META_FILE, load_meta
    from archpick.run import read_json

    hint = "the exported model is damaged: fit the data again with --out RUN_DIR --overwrite"
    read_json(model_dir / META_FILE, hint)
    read_json(model_dir / LABELS_FILE, hint)
    try:
        meta, labels = load_meta(model_dir)
        spec = meta["input_spec"]
        if not isinstance(spec, dict) or not isinstance(spec["kind"], str) or not isinstance(meta["task"], str):
            raise TypeError("input_spec.kind and task must be strings")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunError(f"is damaged ({type(exc).__name__}: {exc}); {hint}", model_dir / META_FILE) from exc
    return meta, labels


def _raw_inputs(file: Path, spec: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    """(name, raw input) pairs read from one file, as the serving signature takes them."""
    kind = spec["kind"]
    if kind == "image":
        from archpick.datasets.images import decode_image

        try:
            return [(str(file), decode_image(file, spec["channels"]))]
        except Exception as exc:  # noqa: BLE001
            raise DataError(f"cannot read this image ({exc}); give a png/jpg/bmp/gif/webp file", file) from exc
    if kind == "video":
        from archpick.datasets.video import decode_clip

        return [(str(file), decode_clip(file, spec["frames"], spec["size"]))]
    if kind == "text":
        from archpick.datasets.text import read_texts_for_predict

        return read_texts_for_predict(file, spec)
    if kind == "sequence":
        from archpick.datasets.readers import read_sequences_for_predict

        return read_sequences_for_predict(file, spec)
    if kind == "window":
        from archpick.datasets.series import last_window_for_predict

        return last_window_for_predict(file, spec)
    if kind == "table":
        from archpick.datasets.readers import rows_for_predict

        return rows_for_predict(file, spec)
    raise RunError(f"unknown input kind {kind!r} in the model metadata", file)


def _server(model_dir: Path, spec: dict[str, Any]):
    """batch -> predictions: the SavedModel where TensorFlow can load it, else model.keras on any backend."""
    from archpick import backend
    from archpick.export import as_array, as_tensor

    if (model_dir / "saved_model.pb").exists() and backend.has_tensorflow():
        from archpick.hardware import import_tensorflow

        served = import_tensorflow().saved_model.load(str(model_dir))
        return lambda batch: np.asarray(served.serve(as_tensor(batch, spec)))
    if not (model_dir / "model.keras").exists():
        raise RunError("has a SavedModel only, which needs TensorFlow; pip install tensorflow", model_dir)
    backend.check_modality(backend.start(), spec["kind"], model_dir)
    import keras

    from archpick.hypermodels import register_layers

    register_layers()

    model = keras.saving.load_model(model_dir / "model.keras")
    return lambda batch: keras.ops.convert_to_numpy(model(as_array(batch, spec), training=False))


def predict(run_dir: str | Path, files: list[str | Path]) -> list[dict[str, Any]]:
    """Run the exported SavedModel on raw files.

    Args:
        run_dir: A complete run directory.
        files: Inputs of the kind the model was trained on.

    Returns:
        One dict per input: input, and class + probability (classification) or values.
    """
    from archpick.run import load_run

    run = load_run(run_dir)
    model_dir = run.model_path
    if not (model_dir / "saved_model.pb").exists() and not (model_dir / "model.keras").exists():
        raise RunError("has no exported model (model/saved_model.pb or model.keras); was the run complete?",
                       run_dir)
    inputs = [check_input(Path(file)) for file in files]  # before the model loads: a bad file fails fast
    meta, labels = _model_meta(model_dir)
    spec = meta["input_spec"]
    serve = _server(model_dir, spec)
    out: list[dict[str, Any]] = []
    for file in inputs:
        for name, raw in _raw_inputs(file, spec):
            batch = np.asarray(raw)[None] if spec["kind"] != "text" else [raw]
            pred = serve(batch)[0]
            if meta["task"] == "classification":
                top = int(np.argmax(pred))
                out.append({"input": name, "class": labels[top], "probability": float(pred[top]),
                            "probabilities": {labels[i]: float(p) for i, p in enumerate(pred)}})
            else:
                out.append({"input": name, "prediction": [float(v) for v in np.ravel(pred)]})
    return out
