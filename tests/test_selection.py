"""The small-data regime on real data: the training-loss schedule, a trial stopped at its time cap,
fold-based selection, the noise rule in the verdict, and the ensemble SavedModel in a fresh process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.datasets import load_iris

import archpick
from archpick.flowchart import Recommendation
from archpick.hypermodels import make
from archpick.options import FitOptions
from archpick.race import cv_verdict, pick_winner
from archpick.regime import MIN_EPOCHS, choose_regime, plateau_patience
from archpick.runner import prepare
from archpick.schedule import WARMUP_EPOCHS, TrainingLossSchedule
from archpick.search import TrialRecorder, stop_reason
from archpick.selection import (
    Candidate,
    CVScore,
    _more_refits,
    average_models,
    cross_validate,
    fold_indices,
    paired_noise_margin,
    plan_folds,
)

from conftest import serve_in_fresh_process

pytestmark = pytest.mark.slow


def _iris_model(hidden: int = 16) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    x, y = load_iris(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")
    layers = [keras.layers.Dense(hidden, activation="relu")] if hidden else []
    l2 = None if hidden else keras.regularizers.L2(1e-2)  # without a hidden layer: a finite minimum
    model = keras.Sequential(
        [keras.Input((4,)), *layers, keras.layers.Dense(3, activation="softmax", kernel_regularizer=l2)]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_regime_follows_the_validation_size() -> None:
    small = choose_regime(22, 6, "classification")
    assert small.small and small.cross_validate and small.max_epochs >= 1500
    assert not choose_regime(9000, 1900, "classification").small
    assert not choose_regime(100, 20, "forecasting", chronological=True).cross_validate
    assert plateau_patience(30) == (10, 30) and plateau_patience(10_000) == (50, 150)


def test_trial_recorder_stops_a_real_model_at_its_time_cap() -> None:
    keras.utils.set_random_seed(0)
    model, x, y = _iris_model()
    now = time.monotonic()
    recorder = TrialRecorder(stop_at=now + 1.5, hard_stop_at=now + 30)
    schedule = TrainingLossSchedule(min_epochs=100_000, trial_seconds=1.5)
    model.fit(x, y, batch_size=16, epochs=100_000, callbacks=[schedule, recorder], verbose=0)
    assert recorder.stopped_by_budget and 1 <= len(recorder.epoch_seconds) < 100_000
    assert stop_reason(recorder, schedule, 100_000) == "budget"


def test_training_loss_schedule_halves_the_rate_converges_and_keeps_the_best_weights() -> None:
    keras.utils.set_random_seed(0)
    model, x, y = _iris_model(hidden=0)  # logistic regression: the training loss flattens out
    model.optimizer.learning_rate = 0.1
    schedule = TrainingLossSchedule(min_epochs=MIN_EPOCHS, trial_seconds=0.5)  # short trial: short patience
    recorder = TrialRecorder(stop_at=time.monotonic() + 120, hard_stop_at=time.monotonic() + 120)
    history = model.fit(x, y, batch_size=150, epochs=2000, callbacks=[schedule, recorder], verbose=0)
    losses = history.history["loss"]
    assert schedule.converged and MIN_EPOCHS <= len(losses) < 2000
    assert schedule.lr_reductions >= 1 and float(model.optimizer.learning_rate) < 0.1
    assert stop_reason(recorder, schedule, 2000) == "converged"
    # the weights kept are those of the lowest training loss, not the last epoch's
    after = model.evaluate(x, y, batch_size=150, verbose=0)[0]
    assert after == pytest.approx(min(losses[WARMUP_EPOCHS:]), rel=0.05)


def test_an_early_low_loss_is_not_kept_or_counted_from() -> None:
    """A cached-features head's loss (measured on Coffee): lowest at epoch 1, then up as the weights grow,
    then slowly down. The warm-up epochs are never the best, so 30 epochs after epoch 1 is not convergence."""
    model, _, _ = _iris_model(hidden=0)
    schedule = TrainingLossSchedule(min_epochs=MIN_EPOCHS, trial_seconds=0.0)  # short patience: 10 / 30
    schedule.set_model(model)
    schedule.on_train_begin()
    curve = [0.53, 0.0431, 0.0449, 0.0461, 0.0468, 0.0472] + [0.0472 * 0.995**i for i in range(1, 60)]
    for epoch, loss in enumerate(curve):
        schedule.on_epoch_end(epoch, {"loss": loss})
    assert schedule.best_epoch == len(curve) - 1 and not schedule.converged


def test_plan_folds_fits_the_budget() -> None:
    assert plan_folds([10.0, 10.0], 100.0) == (5, 2)  # 4 + 4 trainings of 10 s, and the refit
    assert plan_folds([10.0, 10.0], 50.0) == (3, 2)
    assert plan_folds([10.0, 40.0], 50.0) == (5, 1)  # only the first finalist, with 4 folds and the refit
    assert plan_folds([20.0, 40.0], 50.0) == (0, 0) or plan_folds([20.0, 40.0], 50.0) == (3, 1)
    assert plan_folds([30.0], 50.0) == (0, 0)


def test_folds_are_stratified_when_every_class_can_be() -> None:
    y = np.array([0] * 10 + [1] * 5)
    for train, held in fold_indices(y, 5, 0, classification=True):
        assert set(y[held]) == {0, 1} and len(set(train) & set(held)) == 0
    assert len(fold_indices(np.array([0] * 10 + [1] * 2), 3, 0, True)) == 3  # falls back to plain folds


REC = Recommendation(family="rnn", runner_up="cnn", reason="RNN (LSTM/GRU) (ordered)")


def _score(family: str, folds: list[float]) -> CVScore:
    return CVScore(family, {"rnn": "LSTM/GRU", "cnn": "1-D CNN"}[family], f"{family}-000", "accuracy", folds, 1.0)


@pytest.mark.parametrize(
    ("cnn_folds", "winner", "phrase"),
    [
        ([0.9, 0.7, 0.8], "rnn", "Within noise"),  # +0.03 on a spread of 0.1: the prior stands
        ([1.0, 1.0, 1.0], "cnn", "Evidence overturned it"),  # +0.23 with a consistent paired gap
    ],
)
def test_the_noise_rule_decides_winner_and_verdict(cnn_folds, winner, phrase) -> None:
    rnn, cnn = _score("rnn", [0.8, 0.75, 0.76]), _score("cnn", cnn_folds)
    margin = paired_noise_margin(rnn.folds, cnn.folds, floor=1 / 40)
    picked = pick_winner([{"family": s.family, "best_score": s.mean} for s in (rnn, cnn)], "max", margin, prefer="rnn")[
        "family"
    ]
    assert picked == winner
    line = cv_verdict(REC, [rnn, cnn], picked, "val_accuracy", "max", margin, 3)
    assert phrase in line and "3-fold cross-validation" in line and f"{cnn.mean:.4f} ± {cnn.std:.4f}" in line


@pytest.fixture(scope="module")
def coffee_prepared(coffee):
    profile = archpick.inspect(coffee)
    keras.utils.set_random_seed(0)
    return prepare(profile, FitOptions(seed=0))


def test_fold_selection_refit_and_ensemble_on_a_small_real_set(coffee_prepared, tmp_path: Path) -> None:
    prep = coffee_prepared
    assert prep.regime.small and prep.regime.cross_validate and len(prep.x_val) < 10
    import keras_tuner

    hm = make("sequence", "cnn", prep.spec)
    hp = keras_tuner.HyperParameters()
    hm.build(hp)  # registers the space with the defaults
    hp.values["block"] = "rocket"
    hm.build(hp)  # registers the rocket's conditional hyperparameters
    hp.values["rocket_features"] = 2000
    hp.values["rocket_head"] = "gradient"
    hm.build(hp)  # registers the trained head's L2
    hp.values["learning_rate"] = 1e-3  # the search's MiniRocket trial with a trained head
    cand = Candidate("cnn", hm.variant, "cnn-000", hm, hp, epochs=40, seconds=3.0)
    x_all = np.concatenate([prep.x_train, prep.x_val])
    y_all = np.concatenate([prep.y_train, prep.y_val])
    sel = cross_validate(
        [cand],
        x_all,
        y_all,
        prep.make,
        budget=600.0,
        seed=0,
        classification=True,
        n_train=len(prep.x_train),
        choose=lambda scores: scores[0].family,
    )
    # Time for more refits: the ensemble is three refits on all the data (seeds differ), not the fold models.
    assert sel.folds == 5 and sel.winner == "cnn" and len(sel.members) == 3 and sel.refit is sel.members[0]
    assert sel.ensemble_of.startswith("3 refits")
    data = prep.make(x_all, y_all, True)
    assert _more_refits(cand, data, sel.refit, 100.0, time.monotonic() + 10, 6, 0) == [sel.refit]  # no time
    score = sel.scores[0]
    assert len(score.folds) == 5 and all(0.0 <= v <= 1.0 for v in score.folds)
    held = np.concatenate([h for _, h in sel.fold_indices])
    assert sorted(held.tolist()) == list(range(len(y_all)))  # every sample held out exactly once
    # measured: fold mean 0.86-0.93 with seed 0 (rocket, 2,000 features, 60 epochs; 1.0 at the 40 here); chance is 0.5
    assert score.mean >= 0.75

    # The ridge head is solved, not trained: refits with other seeds would be copies, so the ensemble is the
    # fold models (bagging) and the refit.
    ridge_hp = keras_tuner.HyperParameters()
    ridge_hp.values.update({**hp.values, "rocket_head": "ridge"})
    solved = Candidate("cnn", hm.variant, "cnn-001", hm, ridge_hp, epochs=1, seconds=1.0)
    by_ridge = cross_validate(
        [solved],
        x_all,
        y_all,
        prep.make,
        budget=600.0,
        seed=0,
        classification=True,
        n_train=len(prep.x_train),
        choose=lambda scores: scores[0].family,
    )
    assert by_ridge.ensemble_of == "the 5 fold models and the refit" and len(by_ridge.members) == 6
    assert by_ridge.scores[0].stop_reasons == ["solved"] * 5
    assert by_ridge.scores[0].mean >= 0.9  # measured: 1.0 on each of the 5 folds
    shared = average_models(by_ridge.members)
    # One MiniRocket transform for the six members (their fixed fronts are identical), six heads on it.
    assert [layer.name for layer in shared.layers].count("member_0") == 1
    assert (
        sum(
            isinstance(layer, keras.Model) and layer.get_layer("fixed_features") is not None
            for layer in shared.layers
            if "fixed" in layer.name
        )
        == 1
    )
    probe = np.asarray(prep.x_test[:6], dtype="float32")
    np.testing.assert_allclose(
        np.asarray(shared(probe, training=False)),
        np.mean([np.asarray(m(probe, training=False)) for m in by_ridge.members], axis=0),
        atol=1e-5,
    )

    ensemble = average_models(sel.members)
    x = np.asarray(prep.x_test[:6], dtype="float32")
    mean = np.mean([np.asarray(m(x, training=False)) for m in sel.members], axis=0)
    np.testing.assert_allclose(np.asarray(ensemble(x, training=False)), mean, atol=1e-6)
    acc = float(
        np.mean(np.asarray(ensemble.predict(np.asarray(prep.x_test, "float32"), verbose=0)).argmax(1) == prep.y_test)
    )
    assert acc >= 0.85  # measured 0.93-1.0 on the 28 test series; published FCN/ResNet/InceptionTime: 1.0

    from archpick.export import export_model
    from archpick.modelmeta import ModelMeta

    meta = ModelMeta(prep.bundle.input_spec, "classification", "cnn", "x", "Coffee", "ts", "test")
    export_model(ensemble, tmp_path / "model", meta, prep.bundle.class_names, x)
    raw = np.array(prep.x_test[:3], dtype="float32")
    raw[1, 200:] = np.nan  # a shorter series, NaN-padded as archpick reads it
    rows = json.dumps(json.dumps(np.where(np.isnan(raw), None, raw).tolist()))
    served = serve_in_fresh_process(tmp_path / "model", f"np.array(json.loads({rows}), dtype='float32')")
    np.testing.assert_allclose(served, np.asarray(ensemble(raw, training=False)), atol=1e-5)
    reloaded = keras.saving.load_model(tmp_path / "model" / "model.keras")
    np.testing.assert_allclose(np.asarray(reloaded(raw, training=False)), served, atol=1e-5)


def test_greedy_ensemble_selection_adds_only_what_lowers_the_validation_loss() -> None:
    from archpick.selection import greedy_ensemble

    y = np.array([0, 1, 0, 1, 1, 0])
    good = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.45, 0.55], [0.2, 0.8], [0.9, 0.1]])
    complementary = np.array([[0.6, 0.4], [0.1, 0.9], [0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.55, 0.45]])
    useless = np.full((6, 2), 0.5)
    picked = greedy_ensemble([useless, good, complementary], y, classification=True)
    assert picked[0] == 1 and 2 in picked and 0 not in picked
    assert greedy_ensemble([good, useless], y, classification=True) == [0]  # nothing helps: the best alone
