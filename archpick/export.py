"""Export: a TensorFlow SavedModel that takes raw inputs, plus model.keras, labels and metadata."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from archpick.run import write_json

META_FILE = "archpick.json"
LABELS_FILE = "labels.json"


def as_tensor(x: np.ndarray, spec: dict[str, Any]):
    """Raw inputs as the serving signature takes them."""
    import tensorflow as tf

    if spec.get("kind") == "text":
        return tf.constant([str(s) for s in x])
    return tf.constant(np.asarray(x, dtype={"uint8": np.uint8}.get(spec.get("dtype"), np.float32)))


def write_saved_model(model, path: Path) -> None:
    """A SavedModel whose `serve` endpoint runs the model in inference mode on raw inputs.

    The endpoint is traced with an explicit ``training=False``: traced with the default, Keras 3 layers
    such as BatchNormalization were seen to give slightly different outputs from `model.predict`, and the
    exported model must give exactly the predictions the report measured.
    """
    import keras
    import tensorflow as tf

    signature = [tf.TensorSpec(shape=t.shape, dtype=t.dtype, name=t.name.split(":")[0]) for t in model.inputs]
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serve", fn=lambda *xs: model(xs[0] if len(xs) == 1 else list(xs), training=False),
                         input_signature=signature)
    archive.write_out(str(path), verbose=False)


def export_model(model, model_dir: Path, meta: dict[str, Any], class_names: list[str],
                 sample: np.ndarray | None = None) -> dict[str, Any]:
    """Write model/ atomically and check that the reloaded SavedModel reproduces the Keras predictions.

    Args:
        model: The trained Keras model.
        model_dir: RUN_DIR/model (written via a temporary sibling, then renamed).
        meta: What `archpick predict` needs (input_spec, task, horizon...).
        class_names: Index -> class name.
        sample: A few raw inputs for the reload check.

    Returns:
        Paths and the reload check's largest absolute difference.
    """
    import tensorflow as tf

    tmp = model_dir.with_name(model_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    write_saved_model(model, tmp)
    keras_file = tmp / "model.keras"
    model.save(keras_file)
    write_json(tmp / LABELS_FILE, {str(i): name for i, name in enumerate(class_names)})
    write_json(tmp / META_FILE, meta)
    info: dict[str, Any] = {"saved_model": str(model_dir), "keras": str(model_dir / "model.keras"),
                            "labels": str(model_dir / LABELS_FILE)}
    if sample is not None and len(sample):
        loaded = tf.saved_model.load(str(tmp))
        served = np.asarray(loaded.serve(as_tensor(sample, meta["input_spec"])))
        direct = np.asarray(model(as_tensor(sample, meta["input_spec"]), training=False))
        info["reload_max_abs_diff"] = float(np.max(np.abs(served - direct)))
        info["reload_checked_on"] = int(len(sample))
    if model_dir.exists():
        shutil.rmtree(model_dir)
    tmp.rename(model_dir)
    return info


def load_meta(model_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """The metadata and class names written by `export_model`."""
    meta = json.loads((model_dir / META_FILE).read_text())
    labels = json.loads((model_dir / LABELS_FILE).read_text())
    return meta, [labels[str(i)] for i in range(len(labels))]
