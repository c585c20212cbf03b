"""Export: a TensorFlow SavedModel that takes raw inputs, plus model.keras, labels and metadata (model.keras
only when Keras trained on JAX or torch)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from archpick import faults
from archpick.contract import describe
from archpick.contract import markdown as contract_markdown
from archpick.datasets.inputspec import InputSpec
from archpick.kinds import kind_of
from archpick.modelmeta import LABELS_FILE, META_FILE, ModelMeta, load_meta
from archpick.run import write_json


def as_array(x: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Raw inputs as a numpy batch of the dtype the model takes (str rows for a string table); see
    `Kind.to_array`."""
    return kind_of(spec).to_array(x, spec)


def as_tensor(x: np.ndarray, spec: InputSpec):
    """Raw inputs as the serving signature takes them (strings for text and string tables, else the array in
    the model's dtype); see `Kind.to_tensor`."""
    return kind_of(spec).to_tensor(x, spec)


def keras_only_note(backend: str) -> str:
    """What a run trained without the TensorFlow backend exported, and how to get a SavedModel."""
    return (
        f"Trained on the {backend} backend: exported model/model.keras only. A SavedModel needs "
        "TensorFlow: run `archpick export RUN_DIR` where TensorFlow is installed."
    )


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
    archive.add_endpoint(
        name="serve",
        fn=lambda *xs: model(xs[0] if len(xs) == 1 else list(xs), training=False),
        input_signature=signature,
    )
    archive.write_out(str(path), verbose=False)


def _saved_model_diff(path: Path, model, inputs) -> float:
    """Largest absolute difference between the SavedModel at `path` served on `inputs` and the Keras model."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # keep a reference: its variables die with it
    served = np.asarray(loaded.serve(inputs))
    return float(np.max(np.abs(served - np.asarray(model(inputs, training=False)))))


def export_model(
    model, model_dir: Path, meta: ModelMeta, class_names: list[str], sample: np.ndarray | None = None
) -> dict[str, Any]:
    """Write model/ atomically and check that the reloaded model reproduces the Keras predictions.

    On the TensorFlow backend: a SavedModel plus model.keras, checked through the SavedModel. On JAX
    or torch (TensorFlow may be absent): model.keras only, checked by reloading it, and a note says so.

    Args:
        model: The trained Keras model.
        model_dir: RUN_DIR/model (written via a temporary sibling, then renamed).
        meta: What `archpick predict` needs (its backend is set here).
        class_names: Index -> class name.
        sample: A few raw inputs for the reload check.

    Returns:
        Paths and the reload check's largest absolute difference.
    """
    import keras

    backend = keras.backend.backend()
    saved = backend == "tensorflow"
    tmp = model_dir.with_name(model_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    if saved:
        write_saved_model(model, tmp)
    else:
        tmp.mkdir(parents=True)
    keras_file = tmp / "model.keras"
    model.save(keras_file)
    write_json(tmp / LABELS_FILE, {str(i): name for i, name in enumerate(class_names)})
    meta = dataclasses.replace(meta, backend=backend)
    write_json(tmp / META_FILE, meta.to_json())
    contract = describe(model, meta, class_names)
    (tmp / "README.md").write_text(contract_markdown(contract, saved))
    info: dict[str, Any] = {
        "saved_model": str(model_dir) if saved else None,
        "backend": backend,
        "keras": str(model_dir / "model.keras"),
        "labels": str(model_dir / LABELS_FILE),
        "contract": contract.to_dict(),
    }
    if not saved:
        info["note"] = keras_only_note(backend)
    if sample is not None and len(sample):
        spec = meta.input_spec
        if saved:
            info["reload_max_abs_diff"] = _saved_model_diff(tmp, model, as_tensor(sample, spec))
        else:
            reloaded = keras.saving.load_model(keras_file)
            served = keras.ops.convert_to_numpy(reloaded(as_array(sample, spec), training=False))
            direct = keras.ops.convert_to_numpy(model(as_array(sample, spec), training=False))
            info["reload_max_abs_diff"] = float(np.max(np.abs(served - direct)))
        info["reload_checked_on"] = int(len(sample))
    faults.point("export")
    if model_dir.exists():
        shutil.rmtree(model_dir)
    tmp.rename(model_dir)
    return info


def add_saved_model(run_dir: str | Path) -> dict[str, Any]:
    """Write the SavedModel of a run that exported model.keras only (trained on JAX or torch).

    Loads model.keras on the TensorFlow backend, writes the `serve` endpoint next to it, checks it against
    the Keras model on inputs of the model's shape, and records it in report.json, .md and .html.

    Args:
        run_dir: A complete run directory.

    Returns:
        The report's updated "model" section ("already_there": True, and nothing written, when the run
        has a SavedModel already).
    """
    from archpick import backend
    from archpick.errors import DependencyError, RunError
    from archpick.run import load_run

    run = load_run(run_dir)
    model_dir = run.model_path
    if not run.complete or not (model_dir / "model.keras").exists():
        raise RunError("has no exported model.keras; was the run complete?", run.path)
    if (model_dir / "saved_model.pb").exists():
        return {**run.report.get("model", {}), "saved_model": "model", "already_there": True}
    if backend.select() != "tensorflow":
        raise DependencyError(
            "writing a SavedModel needs the TensorFlow backend; pip install tensorflow and "
            "set KERAS_BACKEND=tensorflow",
            run.path,
        )
    backend.start()
    import keras

    from archpick.hypermodels import register_layers

    register_layers()

    meta, class_names = load_meta(model_dir)
    try:
        model = keras.saving.load_model(model_dir / "model.keras")
    except Exception as exc:  # noqa: BLE001 - a damaged file in the user's run, not a bug
        from archpick.decoding import first_line

        raise RunError(
            f"holds a model.keras that cannot be loaded ({first_line(exc)}); fit again", model_dir / "model.keras"
        ) from exc
    from archpick.run import RunLock

    with RunLock(run.path):  # not while a fit (or another export) writes the run
        tmp = model_dir.with_name("saved_model.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        write_saved_model(model, tmp)
        info = dict(run.report.get("model", {}))
        spec = meta.input_spec
        if not kind_of(spec).takes_strings(spec):
            rng = np.random.default_rng(0)
            shape = [4] + [d or 8 for d in model.inputs[0].shape[1:]]
            sample = rng.uniform(0, 255 if spec.dtype == "uint8" else 1, shape)
            info["reload_max_abs_diff"] = _saved_model_diff(tmp, model, as_tensor(sample, spec))
        for item in tmp.iterdir():
            target = model_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            item.rename(target)
        tmp.rmdir()
        contract = describe(model, meta, class_names)
        (model_dir / "README.md").write_text(contract_markdown(contract, True))
        info["contract"] = contract.to_dict()
        info.update(
            saved_model="model",
            note=f"Trained on the {info.get('backend', 'jax')} backend; SavedModel "
            "added by `archpick export` from model.keras.",
        )
        report = {**run.report, "model": info}
        from archpick.report import write_report

        write_report(run.path, report)
        return info
