"""Video families: the HyperModel contract on real clips, an end-to-end fit through the public API, the
SavedModel in a fresh process agreeing with `archpick predict`, and clips streamed from disk."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pytest
from click.testing import CliRunner

from archpick.datasets.inputspec import InputSpec
from archpick.datasets.video import ClipDecoder, decode_clip
from archpick.hypermodels.base import ModelSpec
from archpick.hypermodels.video import FrameCNNHyperModel, VideoHybridHyperModel

from conftest import DATA, REPO, copy_class_subset

CLIPS = DATA / "clips"
CLASSES = ["down", "left", "right", "up"]
FRAMES, SIZE = 8, 64  # data/clips as archpick reads it
SMALL_T, SMALL_S = 4, 32  # the contract checks decode the same clips smaller (T and S come from input_spec)
SPEC_IN = InputSpec.from_json(
    {"kind": "video", "shape": [FRAMES, SIZE, SIZE, 3], "dtype": "uint8", "frames": FRAMES, "size": SIZE}
)
SMALL_IN = InputSpec.from_json(
    {
        "kind": "video",
        "shape": [SMALL_T, SMALL_S, SMALL_S, 3],
        "dtype": "uint8",
        "frames": SMALL_T,
        "size": SMALL_S,
    }
)


def clip_paths(per_class: int) -> tuple[list[str], np.ndarray]:
    """The first `per_class` clips of every class of data/clips, and their labels."""
    paths, labels = [], []
    for i, name in enumerate(CLASSES):
        for clip in sorted((CLIPS / name).glob("*.mp4"))[:per_class]:
            paths.append(str(clip))
            labels.append(i)
    return paths, np.asarray(labels, dtype=np.int64)


@pytest.fixture(scope="module")
def tiny_batch() -> tuple[np.ndarray, np.ndarray]:
    """Two real clips per class, decoded as the pipeline decodes them."""
    paths, labels = clip_paths(2)
    return np.stack([decode_clip(p, SMALL_T, SMALL_S) for p in paths]), labels


def spec() -> ModelSpec:
    return ModelSpec(SMALL_IN, "classification", len(CLASSES), n_train=8)


def hp_with(values: dict) -> keras_tuner.HyperParameters:
    """Hyperparameters pre-set to `values` (the rest take their defaults when build registers them)."""
    hp = keras_tuner.HyperParameters()
    hp.values.update(values)
    return hp


CASES = [
    (cls, i) for cls in (VideoHybridHyperModel, FrameCNNHyperModel) for i in range(-1, len(cls(spec()).initial_hps()))
]


@pytest.mark.parametrize(
    ("cls", "which"), CASES, ids=[f"{c.family}-{'default' if i < 0 else f'initial{i}'}" for c, i in CASES]
)
def test_hypermodel_contract(cls, which: int, tiny_batch, tmp_path: Path) -> None:
    """Builds (deterministically) with default and hand-picked hps, fits a step, outputs probabilities."""
    hm = cls(spec())
    values = {} if which < 0 else hm.initial_hps()[which]
    hp = hp_with(values)
    keras.utils.set_random_seed(0)
    model = hm.build(hp)
    for key, value in values.items():
        assert hp.get(key) == value, f"initial_hps value {key}={value} is not a searched hyperparameter"
    again = hm.build(hp_with(dict(hp.values)))  # what get_best_models does: build again, load weights
    assert [w.shape for w in again.weights] == [w.shape for w in model.weights]
    assert model.inputs[0].shape[1:] == (SMALL_T, SMALL_S, SMALL_S, 3) and model.inputs[0].dtype == "uint8"
    x, y = tiny_batch
    history = model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    probs = np.asarray(model.predict(x, verbose=0))
    assert probs.shape == (len(x), len(CLASSES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    if which != 0 or cls is not VideoHybridHyperModel:  # exporting costs seconds: check the hybrid's first
        return
    keras_file = tmp_path / "model.keras"
    model.save(keras_file)
    restored = keras.models.load_model(keras_file)
    np.testing.assert_allclose(np.asarray(restored.predict(x, verbose=0)), probs, atol=1e-5)
    import tensorflow as tf

    model.export(str(tmp_path / "saved"), format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "saved"))  # keep a reference: its variables die with it
    served = np.asarray(loaded.serve(tf.constant(x)))
    np.testing.assert_allclose(served, probs, atol=1e-5)


def test_families_and_order_sensitivity(tiny_batch) -> None:
    """The hybrid sees frame order (reversing a clip changes its output); the frame CNN does not."""
    x, _ = tiny_batch
    assert VideoHybridHyperModel.family == "hybrid" and FrameCNNHyperModel.family == "cnn"
    for cls, order_free in ((VideoHybridHyperModel, False), (FrameCNNHyperModel, True)):
        hm = cls(spec())
        keras.utils.set_random_seed(0)
        model = hm.build(hp_with(hm.initial_hps()[0]))
        forward = np.asarray(model(x[:2], training=False))
        backward = np.asarray(model(x[:2, ::-1], training=False))
        assert np.allclose(forward, backward, atol=1e-5) == order_free, cls.__name__


def test_streaming_decodes_about_one_batch() -> None:
    """make_dataset holds paths only; taking one batch decodes about one batch, not the whole folder."""
    import tensorflow as tf

    from archpick.pipeline import make_dataset

    paths, labels = clip_paths(100)
    assert len(paths) == 400
    decoder = ClipDecoder(FRAMES, SIZE)
    calls = {"n": 0}
    lock = threading.Lock()

    def counting(path, rng=None):
        with lock:
            calls["n"] += 1
        return decoder(path, rng)

    x = np.asarray(paths, dtype=object)
    for training in (False, True):
        calls["n"] = 0
        ds = make_dataset(
            x, labels, SPEC_IN, training=training, batch_size=16, seed=0, decode=counting, decode_train=counting
        )
        batch, target = next(iter(ds))
        assert batch.shape == (16, FRAMES, SIZE, SIZE, 3) and batch.dtype == tf.uint8
        assert target.shape == (16,)
        assert calls["n"] < 100, f"one batch of 16 decoded {calls['n']} of 400 clips"


@pytest.fixture(scope="module")
def video_run(tmp_path_factory) -> Path:
    """A short fit of the recommended family on 12 real clips per class."""
    import archpick

    subset = copy_class_subset(CLIPS, tmp_path_factory.mktemp("clips") / "clips", 12)
    out = tmp_path_factory.mktemp("runs") / "clips-run"
    archpick.fit(subset, "30s", max_trials=1, out=out, families="recommended", seed=0)
    return out


@pytest.mark.slow
def test_fit_run_directory(video_run: Path) -> None:
    for rel in ("report.json", "model/saved_model.pb", "model/model.keras", "model/labels.json"):
        assert (video_run / rel).exists(), rel
    rep = json.loads((video_run / "report.json").read_text())
    assert rep["recommendation"]["family"] == "hybrid"
    assert rep["final"]["family"] == "hybrid"
    assert rep["final"]["hyperparameters"]["motion"] == "diff"  # the hand-picked first trial
    metrics = rep["final"]["metrics"]
    assert 0.0 <= metrics["accuracy"] <= 1.0 and len(metrics["per_class"]) == len(CLASSES)
    assert np.asarray(metrics["confusion_matrix"]).sum() == rep["split"]["test"]
    assert rep["model"]["reload_max_abs_diff"] < 1e-4
    assert json.loads((video_run / "model/labels.json").read_text()) == {str(i): c for i, c in enumerate(CLASSES)}


@pytest.mark.slow
def test_saved_model_in_fresh_process_matches_predict(video_run: Path) -> None:
    """A new Python process loads the SavedModel and predicts a raw decoded clip like `archpick predict`."""
    from archpick.cli import main

    clip = sorted((CLIPS / "left").glob("*.mp4"))[-1]  # not in the 12-clip training subset
    code = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        "from archpick.datasets.video import decode_clip\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "x = decode_clip(sys.argv[2], 8, 64)[None]\n"
        "print(json.dumps(np.asarray(m.serve(tf.constant(x)))[0].tolist()))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(video_run / "model"), str(clip)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh = np.asarray(json.loads(proc.stdout.strip().splitlines()[-1]))

    result = CliRunner().invoke(main, ["predict", str(video_run), str(clip), "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.strip().splitlines()[-1])
    cli_probs = np.asarray([row["probabilities"][c] for c in CLASSES])
    np.testing.assert_allclose(fresh, cli_probs, atol=1e-5)
    assert row["class"] == CLASSES[int(np.argmax(fresh))]

    model = keras.models.load_model(video_run / "model" / "model.keras")
    direct = np.asarray(model(decode_clip(clip, FRAMES, SIZE)[None], training=False))[0]
    np.testing.assert_allclose(fresh, direct, atol=1e-5)
