"""Predict with an exported SavedModel on new raw files (no Python objects from training are used)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archpick.errors import DataError, RunError


def _raw_inputs(file: Path, spec: dict[str, Any], facts: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
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


def predict(run_dir: str | Path, files: list[str | Path]) -> list[dict[str, Any]]:
    """Run the exported SavedModel on raw files.

    Args:
        run_dir: A complete run directory.
        files: Inputs of the kind the model was trained on.

    Returns:
        One dict per input: input, and class + probability (classification) or values.
    """
    from archpick.export import as_tensor, load_meta
    from archpick.run import load_run

    run = load_run(run_dir)
    model_dir = run.model_path
    if not (model_dir / "saved_model.pb").exists():
        raise RunError("has no exported model (model/saved_model.pb); was the run complete?", run_dir)
    meta, labels = load_meta(model_dir)
    spec = meta["input_spec"]
    from archpick.hardware import import_tensorflow

    tf = import_tensorflow()
    served = tf.saved_model.load(str(model_dir))
    out: list[dict[str, Any]] = []
    for file in files:
        file = Path(file)
        if not file.exists():
            raise DataError("does not exist; check the path", file)
        for name, raw in _raw_inputs(file, spec, meta.get("profile_facts", {})):
            batch = np.asarray(raw)[None] if spec["kind"] != "text" else [raw]
            pred = np.asarray(served.serve(as_tensor(batch, spec)))[0]
            if meta["task"] == "classification":
                top = int(np.argmax(pred))
                out.append({"input": name, "class": labels[top], "probability": float(pred[top]),
                            "probabilities": {labels[i]: float(p) for i, p in enumerate(pred)}})
            else:
                out.append({"input": name, "prediction": [float(v) for v in np.ravel(pred)]})
    return out
