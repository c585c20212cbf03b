"""cached_fit: a model with a fixed front (MiniRocket) trains its head on features computed once, the full
model ends with the trained weights, and keras-tuner's best-epoch checkpoint holds the full model."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tensorflow as tf

keras = pytest.importorskip("keras")
keras_tuner = pytest.importorskip("keras_tuner")

from archpick import cached_fit, ridge  # noqa: E402
from archpick.datasets.sequences import pad_sequences, sequence_spec  # noqa: E402
from archpick.datasets.tsfile import parse_ts  # noqa: E402
from archpick.hypermodels import fit_stats  # noqa: E402
from archpick.hypermodels.base import ModelSpec  # noqa: E402
from archpick.hypermodels.cnn1d import SequenceCNNHyperModel  # noqa: E402
from archpick.search import TrialRecorder, stop_reason  # noqa: E402

from conftest import DATA  # noqa: E402

ROCKET = {
    "block": "rocket",
    "rocket_features": 2000,
    "rocket_head": "gradient",
    "learning_rate": 1e-3,
    "rocket_l2": 1e-2,
}
RIDGE = {"block": "rocket", "rocket_features": 2000, "rocket_head": "ridge"}


def _vowels(split: str) -> tuple[np.ndarray, np.ndarray]:
    data = parse_ts(DATA / "vowels" / f"JapaneseVowels_{split}.ts")
    return pad_sequences(data.series), np.array([int(label) - 1 for label in data.labels])


def _hypermodel(x: np.ndarray) -> SequenceCNNHyperModel:
    spec_in = sequence_spec(x.shape[2], x.shape[1], variable=True)
    return SequenceCNNHyperModel(
        ModelSpec(spec_in, "classification", 9, stats=fit_stats("sequence", x, spec_in), n_train=len(x))
    )


def _hp(values: dict) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


def _data(x: np.ndarray, y: np.ndarray):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32)


@pytest.fixture(scope="module")
def vowels():
    x, y = _vowels("TRAIN")
    x_test, y_test = _vowels("TEST")
    return x[::2], y[::2], x_test, y_test  # 135 series, 15 of each class


def test_the_head_trains_on_cached_features_and_the_full_model_holds_it(vowels, tmp_path) -> None:
    x, y, x_test, y_test = vowels
    hm = _hypermodel(x)
    keras.utils.set_random_seed(0)
    model = hm.build(_hp(ROCKET))
    before = model.get_layer("probabilities").get_weights()[0].copy()
    extractor, head = cached_fit.split_fixed(model)
    assert [layer.name for layer in head.layers[1:]] == ["rocket_scale", "probabilities"]
    objective = keras_tuner.Objective("val_accuracy", "max")
    checkpoint = keras_tuner.src.engine.tuner_utils.SaveBestEpoch(objective, str(tmp_path / "best.weights.h5"))
    history = hm.fit(
        _hp(ROCKET),
        model,
        _data(x, y),
        validation_data=_data(x_test, y_test),
        epochs=40,
        callbacks=[checkpoint],
        verbose=0,
    )
    assert len(history.history["val_accuracy"]) == 40
    after = model.get_layer("probabilities").get_weights()[0]
    assert not np.allclose(before, after)  # the full model's own output layer was trained
    scale = model.get_layer("rocket_scale")
    features = np.asarray(extractor.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(scale.mean).ravel(), features.mean(0), rtol=1e-3, atol=1e-4)
    full = np.asarray(model.predict(x_test, verbose=0))
    np.testing.assert_allclose(
        np.asarray(head.predict(extractor.predict(x_test, verbose=0), verbose=0)), full, atol=1e-5
    )
    assert np.mean(np.argmax(full, 1) == y_test) >= 0.8  # chance is 0.11
    # The checkpoint holds the full model at its best validation epoch: it loads into a fresh build.
    fresh = hm.build(_hp(ROCKET))
    fresh.load_weights(str(tmp_path / "best.weights.h5"))
    best = np.mean(np.argmax(np.asarray(fresh.predict(x_test, verbose=0)), 1) == y_test)
    assert best == pytest.approx(max(history.history["val_accuracy"]), abs=1e-6)


def test_the_ridge_head_is_solved_in_closed_form_and_scored_as_one_epoch(vowels, tmp_path) -> None:
    x, y, x_test, y_test = vowels
    hm = _hypermodel(x)
    model = hm.build(_hp(RIDGE))
    assert hm.solved(_hp(RIDGE)) and not hm.solved(_hp(ROCKET))
    objective = keras_tuner.Objective("val_accuracy", "max")
    checkpoint = keras_tuner.src.engine.tuner_utils.SaveBestEpoch(objective, str(tmp_path / "best.weights.h5"))
    recorder = TrialRecorder(stop_at=time.monotonic() + 600, hard_stop_at=time.monotonic() + 600)
    history = hm.fit(
        _hp(RIDGE),
        model,
        _data(x, y),
        validation_data=_data(x_test, y_test),
        epochs=40,
        callbacks=[checkpoint, recorder],
        verbose=0,
    )
    assert len(history.history["val_accuracy"]) == 1 and recorder.solved
    assert stop_reason(recorder, recorder, 40) == "solved"
    full = np.asarray(model.predict(x_test, verbose=0))
    accuracy = np.mean(np.argmax(full, 1) == y_test)
    assert accuracy == pytest.approx(history.history["val_accuracy"][0], abs=1e-6)
    # measured: 0.976 on the 370 test series, from 135 training series; chance 0.11
    assert accuracy >= 0.96
    np.testing.assert_allclose(full.sum(1), 1.0, atol=1e-5)  # probabilities from the fitted temperature
    fresh = hm.build(_hp(RIDGE))
    fresh.load_weights(str(tmp_path / "best.weights.h5"))
    np.testing.assert_allclose(np.asarray(fresh.predict(x_test, verbose=0)), full, atol=1e-5)


def test_ridge_matches_scikit_learn_on_a_real_table() -> None:
    from sklearn.datasets import load_wine
    from sklearn.linear_model import RidgeCV
    from sklearn.preprocessing import StandardScaler

    x, y = load_wine(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    ours = ridge.fit(x, y, classes=3)
    theirs = RidgeCV(alphas=ridge.ALPHAS).fit(x, np.eye(3)[y] * 2 - 1)  # its default: leave-one-out (GCV)
    assert ours.alpha == theirs.alpha_
    np.testing.assert_allclose(ours.kernel / ours.temperature, theirs.coef_.T, atol=1e-5)
    np.testing.assert_allclose(ours.bias / ours.temperature, theirs.intercept_, atol=1e-5)
    weighted = ridge.fit(x, y, weights=np.where(y == 2, 3.0, 1.0), classes=3)
    assert not np.allclose(weighted.kernel, ours.kernel)  # class weights change the solution


def test_ordinary_training_when_there_is_no_fixed_front_or_the_cache_is_too_big(vowels, monkeypatch) -> None:
    x, y, _, _ = vowels
    hm = _hypermodel(x)
    fcn = hm.build(_hp({"block": "fcn", "blocks": 1, "filters": 32, "dense_units": 0, "dropout": 0.0}))
    assert cached_fit.split_fixed(fcn) is None
    assert len(hm.fit(_hp({}), fcn, _data(x, y), epochs=2, verbose=0).history["loss"]) == 2
    monkeypatch.setattr(cached_fit, "CACHE_MAX_VALUES", 1000)
    model = hm.build(_hp(ROCKET))
    assert cached_fit._cacheable(model, _data(x, y)) is None
    history = hm.fit(_hp(ROCKET), model, _data(x, y), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.allclose(np.asarray(model.get_layer("rocket_scale").mean), 0.0)  # not adapted without a cache
