"""Predict on new raw files with an exported SavedModel (no Python objects from training are used), or with
model.keras when the run trained without TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archpick.errors import DataError, RunError


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
        from archpick.datasets.tsfile import read_sequences_for_predict

        return read_sequences_for_predict(file, spec)
    if kind == "window":
        from archpick.datasets.series import last_window_for_predict

        return last_window_for_predict(file, spec)
    if kind == "table":
        from archpick.datasets.tables import rows_for_predict

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
    from archpick.export import load_meta
    from archpick.run import load_run

    run = load_run(run_dir)
    model_dir = run.model_path
    if not (model_dir / "saved_model.pb").exists() and not (model_dir / "model.keras").exists():
        raise RunError("has no exported model (model/saved_model.pb or model.keras); was the run complete?",
                       run_dir)
    meta, labels = load_meta(model_dir)
    spec = meta["input_spec"]
    serve = _server(model_dir, spec)
    out: list[dict[str, Any]] = []
    for file in files:
        file = Path(file)
        if not file.exists():
            raise DataError("does not exist; check the path", file)
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
