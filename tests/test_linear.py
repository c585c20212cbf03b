"""The linear family for tables (archpick/hypermodels/linear.py): its ridge solver is scikit-learn's closed form
on the same standardised features, the exported SavedModel serves raw rows in a fresh process, and on the
diabetes table the race against the dense network reaches what ridge regression reaches."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
keras_tuner = pytest.importorskip("keras_tuner")
tf = pytest.importorskip("tensorflow")
sklearn_datasets = pytest.importorskip("sklearn.datasets")

from click.testing import CliRunner  # noqa: E402
from sklearn.linear_model import RidgeClassifierCV, RidgeCV  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from archpick import cached_fit, ridge  # noqa: E402
from archpick.cli import main  # noqa: E402
from archpick.datasets.inputspec import InputSpec  # noqa: E402
from archpick.export import export_model  # noqa: E402
from archpick.hypermodels import fit_stats, heads, make  # noqa: E402
from archpick.hypermodels.base import ModelSpec  # noqa: E402
from archpick.hypermodels.linear import LinearHyperModel  # noqa: E402
from archpick.modelmeta import ModelMeta  # noqa: E402
from archpick.search import TrialRecorder, stop_reason  # noqa: E402

RIDGE = {"structure": "linear", "solver": "ridge"}


def _hp(values: dict) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


def _linear(x: np.ndarray, y: np.ndarray, task: str, n_outputs: int) -> LinearHyperModel:
    spec_in = InputSpec.from_json(
        {
            "kind": "table",
            "shape": [x.shape[1]],
            "dtype": "float32",
            "columns": [f"c{i}" for i in range(x.shape[1])],
        }
    )
    stats = fit_stats("table", x, spec_in)
    if task == heads.REGRESSION:
        stats[heads.TARGET_STATS] = heads.target_stats(y)
    hm = make("table", "linear", ModelSpec(spec_in, task, n_outputs, stats=stats, n_train=len(x)))
    assert isinstance(hm, LinearHyperModel)
    return hm


def _data(x: np.ndarray, y: np.ndarray):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32)


def _solve(hm: LinearHyperModel, x, y, x_val, y_val) -> tuple[keras.Model, TrialRecorder]:
    """Build the ridge configuration and fit it as a trial does (cached features, closed form, one epoch)."""
    model = hm.build(_hp(RIDGE))
    recorder = TrialRecorder(stop_at=time.monotonic() + 600, hard_stop_at=time.monotonic() + 600)
    history = hm.fit(
        _hp(RIDGE), model, _data(x, y), validation_data=_data(x_val, y_val), epochs=50, callbacks=[recorder], verbose=0
    )
    assert len(history.history["loss"]) == 1 and recorder.solved
    assert stop_reason(recorder, recorder, 50) == "solved"
    return model, recorder


def _split(x: np.ndarray, y: np.ndarray, seed: int = 0):
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.75 * len(x))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def test_ridge_regression_is_scikit_learns_and_serves_raw_rows_in_a_fresh_process(tmp_path: Path) -> None:
    x, y = sklearn_datasets.load_diabetes(return_X_y=True, scaled=False)
    x_train, y_train, x_test, y_test = _split(x.astype(np.float32), y.astype(np.float32))
    hm = _linear(x_train, y_train, heads.REGRESSION, 1)
    assert hm.solved(_hp(RIDGE)) and not hm.solved(_hp({"structure": "linear", "solver": "gradient"}))
    assert not hm.solved(_hp({"structure": "wide_deep"}))
    model, _ = _solve(hm, x_train, y_train, x_test, y_test)
    extractor, head = cached_fit.split_fixed(model)
    assert [layer.name for layer in head.layers[1:]] == ["prediction", "target_units"]
    scaler = StandardScaler().fit(x_train)
    np.testing.assert_allclose(np.asarray(extractor.predict(x_test, verbose=0)), scaler.transform(x_test), atol=1e-4)
    theirs = RidgeCV(alphas=ridge.ALPHAS).fit(scaler.transform(x_train), y_train)  # leave-one-out by default
    ours = np.asarray(model.predict(x_test, verbose=0)).ravel()
    np.testing.assert_allclose(ours, theirs.predict(scaler.transform(x_test)), rtol=1e-4, atol=1e-2)

    raw = x_test[:6].copy()
    raw[0, 2] = np.nan  # a missing value: imputed inside the model by the training median
    expected = np.asarray(model.predict(raw, verbose=0))
    export_model(model, tmp_path / "model", ModelMeta(hm.spec.input_spec, hm.spec.task), [], raw)
    np.save(tmp_path / "raw.npy", raw)
    script = (
        "import sys, numpy as np, tensorflow as tf; m = tf.saved_model.load(sys.argv[1]); "
        "np.save(sys.argv[3], np.asarray(m.serve(tf.constant(np.load(sys.argv[2])))))"
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "model"),
            str(tmp_path / "raw.npy"),
            str(tmp_path / "served.npy"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    np.testing.assert_allclose(np.load(tmp_path / "served.npy"), expected, rtol=1e-5, atol=1e-3)


def test_ridge_classification_is_scikit_learns_ridge_classifier() -> None:
    x, y = sklearn_datasets.load_wine(return_X_y=True)
    x_train, y_train, x_test, y_test = _split(x.astype(np.float32), y)
    model, _ = _solve(_linear(x_train, y_train, heads.CLASSIFICATION, 3), x_train, y_train, x_test, y_test)
    scaler = StandardScaler().fit(x_train)
    theirs = RidgeClassifierCV(alphas=ridge.ALPHAS).fit(scaler.transform(x_train), y_train)
    probabilities = np.asarray(model.predict(x_test, verbose=0))
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)
    scores = theirs.decision_function(scaler.transform(x_test))
    # Softmax of temperature x scores: the log-probabilities are the scores, centred and scaled by one factor.
    logs = np.log(np.clip(probabilities, 1e-30, None))
    logs, scores = logs - logs.mean(1, keepdims=True), scores - scores.mean(1, keepdims=True)
    temperature = float((logs * scores).sum() / (scores * scores).sum())
    assert temperature > 0
    np.testing.assert_allclose(logs, temperature * scores, atol=1e-3 * max(1.0, temperature))
    assert np.array_equal(probabilities.argmax(1), theirs.predict(scaler.transform(x_test)))


def test_the_diabetes_race_reaches_ridge_regression(tmp_path: Path) -> None:
    frame = sklearn_datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame.to_csv(tmp_path / "diabetes.csv", index=False)
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main,
        [
            "fit",
            str(tmp_path / "diabetes.csv"),
            "--time",
            "90s",
            "--seed",
            "0",
            "--max-trials",
            "2",
            "--max-epochs",
            "40",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    rep = json.loads((out / "report.json").read_text())
    assert rep["recommendation"]["family"] == "dense" and rep["recommendation"]["runner_up"] == "linear"
    rows = [row for row in rep["leaderboard"] if row["family"] == "linear"]
    assert rows and rows[0]["stop_reason"] == "solved" and rows[0]["epochs"] == 1
    assert rep["race"]["winner"] == "linear"  # measured validation loss: ridge 0.561, the dense network's 0.73-0.76
    best = max(b["r2"] for b in rep["baselines"] if b.get("r2") is not None)
    # Bounded by trials and epochs (the budget only caps it), so a busy machine gives the same race; at 40 s a
    # loaded machine skipped the refit on train + validation and scored 0.285. Measured (seed 0, this command):
    # test R² 0.3363 against ridge regression's 0.3289 (both fitted on train + validation); the dense network
    # alone, before the linear family, reached 0.0515.
    assert rep["final"]["metrics"]["r2"] >= best - 0.02
    # a collection's summary leads with the answer card's metric (RMSE for regression), as the report does
    from archpick import inspect
    from archpick.collection import summary_row
    from archpick.report.answer import answer
    from archpick.run import load_run

    row = summary_row(inspect(tmp_path / "diabetes.csv"), load_run(out), 1.0)
    card = answer(rep)
    assert row["metric"] == "rmse" and card.metric == "RMSE" and row["test_metric"] == card.value
    assert row["baseline"] == card.baseline_value == min(b["rmse"] for b in rep["baselines"])
