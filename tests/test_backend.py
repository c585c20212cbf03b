"""Keras backends: archpick trains on JAX where TensorFlow is absent, exports model.keras only and says so,
and `archpick predict` serves that file. TensorFlow is hidden from those processes by an import hook that
fails `import tensorflow` as on a machine without it; JAX, keras-tuner and the data are real.
Also the PyDataset batches the non-TensorFlow backends train on, exercised here on real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archpick.datasets.inputspec import InputSpec

from conftest import DATA, REPO

# Runs the CLI (or a snippet) with TensorFlow unimportable and no KERAS_BACKEND set.
NO_TF = (
    "import sys\n"
    "class NoTensorFlow:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] == 'tensorflow':\n"
    "            raise ModuleNotFoundError(\"No module named 'tensorflow'\", name=name)\n"
    "sys.meta_path.insert(0, NoTensorFlow())\n"
)


def run_without_tf(code: str, *args: str, env_extra: dict[str, str] | None = None, timeout: int = 300):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-c", NO_TF + code, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout
    )


CLI = "from archpick.cli import main\nsys.argv[0] = 'archpick'\nmain()"


def test_backend_falls_back_to_jax_without_tensorflow() -> None:
    out = run_without_tf("from archpick import backend\nprint(backend.select(), backend.has_tensorflow())")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["jax", "False"]


def test_backend_named_but_missing_is_one_line_error(digits_small: Path) -> None:
    out = run_without_tf(CLI, "fit", str(digits_small), "--time", "10s", env_extra={"KERAS_BACKEND": "tensorflow"})
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "KERAS_BACKEND=tensorflow, but tensorflow is not installed" in lines[0]


def test_text_without_tensorflow_is_one_line_error(tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("\n".join((DATA / "reviews" / "reviews.csv").read_text().splitlines()[:400]) + "\n")
    out = run_without_tf(CLI, "fit", str(reviews), "--time", "10s", "--out", str(tmp_path / "run"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert str(reviews) in out.stderr and "text models need the TensorFlow backend" in out.stderr


@pytest.mark.slow
def test_fit_and_predict_on_jax_without_tensorflow(digits_small: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # Bounded by epochs, not by the clock: the budget only caps it, so a busy machine gives the same model.
    out = run_without_tf(
        CLI,
        "fit",
        str(digits_small),
        "--time",
        "2m",
        "--max-trials",
        "1",
        "--max-epochs",
        "12",
        "--families",
        "recommended",
        "--seed",
        "1",
        "--out",
        str(run_dir),
        "-q",
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rep = json.loads((run_dir / "report.json").read_text())
    assert rep["hardware"]["backend"] == "jax"
    assert rep["model"]["saved_model"] is None and "model.keras only" in rep["model"]["note"]
    assert rep["model"]["reload_max_abs_diff"] < 1e-5
    assert not (run_dir / "model" / "saved_model.pb").exists() and (run_dir / "model" / "model.keras").exists()
    assert rep["final"]["metrics"]["accuracy"] > 0.8  # 400 real digits, one trial
    assert "No SavedModel" in (run_dir / "report.md").read_text()
    assert not list((run_dir / "tuner").rglob("events.out.tfevents.*"))  # TensorBoard needs TensorFlow

    image = sorted((digits_small / "7").iterdir())[0]
    pred = run_without_tf(CLI, "predict", str(run_dir), str(image), "--json")
    assert pred.returncode == 0, pred.stderr[-2000:]
    jax_probs = json.loads(pred.stdout.strip().splitlines()[-1])["probabilities"]

    # The note's route to a SavedModel: `archpick export` where TensorFlow is installed; then the SavedModel
    # (served by `archpick predict`) agrees with the JAX-trained model.keras.
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    cli = [sys.executable, "-m", "archpick"]
    exported = subprocess.run(
        cli + ["export", str(run_dir)], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert (run_dir / "model" / "saved_model.pb").exists() and "SavedModel:" in exported.stdout
    rep = json.loads((run_dir / "report.json").read_text())
    assert rep["model"]["saved_model"] == "model" and rep["model"]["reload_max_abs_diff"] < 1e-4
    again = subprocess.run(
        cli + ["export", str(run_dir)], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert again.returncode == 0 and "already there" in again.stdout
    served = subprocess.run(
        cli + ["predict", str(run_dir), str(image), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert served.returncode == 0, served.stderr[-2000:]
    tf_probs = json.loads(served.stdout.strip().splitlines()[-1])["probabilities"]
    assert tf_probs.keys() == jax_probs.keys()
    np.testing.assert_allclose(list(tf_probs.values()), list(jax_probs.values()), atol=1e-4)


def _image_batches(paths: list[str], labels: np.ndarray, **kwargs):
    from archpick.batches import Batches
    from archpick.datasets.images import decode_image
    from archpick.decoding import DecodeFailures

    failures = DecodeFailures()
    spec = InputSpec.from_json({"kind": "image", "shape": [8, 8, 1], "dtype": "uint8"})
    data = Batches(
        np.asarray(paths), labels, spec, batch_size=16, decode=lambda p: decode_image(p, 1), failures=failures, **kwargs
    )
    return data, failures


def test_batches_stream_files_skip_broken_ones_and_reshuffle(digits_small: Path, tmp_path: Path) -> None:
    files = sorted(str(p) for p in digits_small.rglob("*.png"))[:60]
    broken = tmp_path / "broken.png"
    shutil.copy(files[0], broken)
    broken.write_bytes(broken.read_bytes()[:40])  # truncated PNG
    paths = files + [str(broken)]
    labels = np.arange(len(paths)) % 10
    data, failures = _image_batches(paths, labels, training=True, seed=5)
    assert len(data) == 4
    seen = [data[i] for i in range(len(data))]
    assert sum(len(x) for x, _ in seen) == 60 and list(failures.files) == [str(broken)]
    assert seen[0][0].dtype == np.uint8 and seen[0][0].shape[1:] == (8, 8, 1)
    first = data.order.copy()
    data.on_epoch_end()
    assert sorted(data.order) == list(range(61)) and not np.array_equal(first, data.order)
    again, _ = _image_batches(paths, labels, training=True, seed=5)
    assert np.array_equal(again.order, first)  # the seed fixes the order
    evaluation, _ = _image_batches(paths, labels, training=False, seed=5)
    assert np.array_equal(evaluation.order, np.arange(61)) and evaluation.cache is not None
    evaluation[0]
    assert len(evaluation.cache) == 16  # small decoded sets are kept after the first pass


def test_batches_train_a_keras_model(digits_small: Path) -> None:
    import keras

    files = sorted(digits_small.rglob("*.png"))
    labels = np.asarray([int(p.parent.name) for p in files])
    data, failures = _image_batches([str(p) for p in files], labels, training=True, seed=0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(data, epochs=5, verbose=0)
    assert history.history["accuracy"][-1] > 0.8 and not failures.files


def test_jax_hard_stop_inside_an_epoch_leaves_validation_working() -> None:
    """The budget's hard stop lands inside the first epoch; the epoch's validation still runs (on JAX a stop
    set from a timer thread there once ended in "Buffer has been deleted or donated")."""
    code = (
        "import os, time\nos.environ['KERAS_BACKEND'] = 'jax'\nimport keras, numpy as np\n"
        "from sklearn.datasets import load_digits\n"
        "from archpick.search import StepDeadlineRecorder, trial_recorder\n"
        "x, y = load_digits(return_X_y=True)\nx = np.repeat(x.astype('float32') / 16, 40, axis=0)\n"
        "y = np.repeat(y, 40)\n"
        "model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(512, activation='relu'),"
        " keras.layers.Dense(10, activation='softmax')])\n"
        "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "now = time.monotonic()\nrec = trial_recorder(stop_at=now + 600, hard_stop_at=now + 1.0)\n"
        "assert isinstance(rec, StepDeadlineRecorder)\n"
        "model.fit(x, y, batch_size=8, epochs=3, validation_data=(x[:500], y[:500]), callbacks=[rec], verbose=0)\n"
        "print(rec.stopped_by_budget, len(rec.epoch_seconds), 'val_accuracy' in rec.history)\n"
    )
    out = run_without_tf(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "1", "True"]
