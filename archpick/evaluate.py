"""The evaluate stage: the chosen model on the test split, beside its task's baselines fitted on the data the
model saw, with a 95 % interval; forecasting also keeps the series and the forecast of the steps after it.

Each task's evaluation is one function here, named by `Task.evaluate` (archpick/tasks.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archpick import baselines, metrics
from archpick.errors import DataError
from archpick.tasks import task_of


@dataclass
class Evaluation:
    """The evaluate stage's result: report.json's "final", "baselines" and (forecasting) "series".

    Attributes:
        final: The exported model: family, trial, hyperparameters, learning curves, test metrics and interval.
        baselines: Each baseline's name and test metrics, fitted on the data the model saw.
        series: Forecasting: the whole target series, its times and where training ended; else None.
    """

    final: dict[str, Any]
    baselines: list[dict[str, Any]] = field(default_factory=list)
    series: dict[str, Any] | None = None


@dataclass
class _Scored:
    """What every task's evaluation starts from: the model's and the single model's test predictions."""

    model: Any
    prep: Any
    preds: np.ndarray
    y_true: np.ndarray
    single: np.ndarray | None
    x_fit: np.ndarray
    y_fit: np.ndarray
    seed: int
    files: Any


def predict_batches(model, dataset) -> tuple[np.ndarray, np.ndarray]:
    """The model's predictions and the targets over a batched dataset."""
    preds, ys = [], []
    for xb, yb in dataset:  # predict_on_batch runs a compiled function (eager calls of an RNN are slow)
        preds.append(np.asarray(model.predict_on_batch(xb)))
        ys.append(np.asarray(yb))
    return np.concatenate(preds), np.concatenate(ys)


def headline_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """The scalar metrics of a metrics dict (no per-class rows, no confusion matrix)."""
    return {k: v for k, v in scores.items() if isinstance(v, (int, float)) or v is None}


def evaluate(choice, best, prep, task: str, seed: int, files: Any = None) -> Evaluation:
    """The exported model (and the single model, for an ensemble) on the test split, beside the baselines.

    Args:
        choice: The choose stage's result (archpick/choice.py): the model, its trial, how it was made.
        best: The winning family's search result (its leaderboard rows).
        prep: The prepare stage's result (runner.Prepared).
        task: The task's name.
        seed: The run's seed (baselines, bootstrap).
        files: The profile's "files" fact (a series' {"train", "test"}), where a forecast reads the last window.
    """
    refit = bool(choice.selection.get("folds"))  # the model saw train + validation: so do the baselines
    preds, y_true = predict_batches(choice.model, prep.test_ds)
    single = predict_batches(choice.single, prep.test_ds)[0] if choice.single is not None else None
    scored = _Scored(
        choice.model,
        prep,
        preds,
        y_true,
        single,
        np.concatenate([prep.x_train, prep.x_val]) if refit else prep.x_train,
        np.concatenate([prep.y_train, prep.y_val]) if refit else prep.y_train,
        seed,
        files,
    )
    out: Evaluation = globals()[task_of(task).evaluate](scored)
    best_row = next((row for row in best.rows if row["trial"] == choice.trial), None) or {}
    out.final = {
        "family": best.family,
        "variant": best.variant,
        "trial": choice.trial,
        "hyperparameters": best_row.get("hyperparameters", {}),
        "params": int(choice.model.count_params()),
        "history": best_row.get("history", {}),
        "epoch_seconds": best_row.get("epoch_seconds", []),
        "exported": choice.how,
        "members": choice.members,
        **out.final,
    }
    if "single" in out.final:
        out.final["ensemble"] = headline_metrics(out.final["metrics"])
    weighted = bool(prep.balance and prep.balance.class_weight)
    spec = prep.bundle.input_spec
    train_period = np.asarray(out.series["values"][: out.series["train_end"]], float) if out.series else None
    out.final["interval"] = metrics.test_interval(
        task_of(task).headline_metric(weighted), y_true, preds, train_period, int(spec.season or 1), seed
    )
    return out


def evaluate_classification(s: _Scored) -> Evaluation:
    """Accuracy, balanced accuracy, per-class scores and the confusion matrix; the classifier baselines."""
    bundle = s.prep.bundle
    final: dict[str, Any] = {"metrics": metrics.classification(s.y_true, s.preds, bundle.class_names)}
    if s.single is not None:
        final["single"] = headline_metrics(metrics.classification(s.y_true, s.single, bundle.class_names))
    found = baselines.classification(
        bundle.input_spec.kind,
        s.x_fit,
        s.y_fit,
        s.prep.x_test,
        s.prep.y_test,
        bundle.class_names,
        bundle.decode,
        s.seed,
    )
    return Evaluation(final, found)


def evaluate_regression(s: _Scored) -> Evaluation:
    """RMSE, MAE and R²; the regression baselines."""
    final: dict[str, Any] = {"metrics": metrics.regression(s.y_true, s.preds)}
    if s.single is not None:
        final["single"] = metrics.regression(s.y_true, s.single)
    return Evaluation(final, baselines.regression(s.x_fit, s.y_fit, s.prep.x_test, s.prep.y_test))


def evaluate_forecast(s: _Scored) -> Evaluation:
    """MASE (scaled on the training period only) and sMAPE; the seasonal naive forecast; the next horizon."""
    prep = s.prep
    spec, history = prep.bundle.input_spec, prep.bundle.history
    season = int(spec.season or 1)
    train_series = np.asarray(history.values, float)
    cutoff = history.train_end
    if not prep.has_test:  # scale MASE on the training period only: up to the last training target
        cutoff = int(prep.split.train[-1]) + int(spec.lookback) + int(spec.horizon)
    train_period = train_series[:cutoff]
    naive = baselines.seasonal_naive(np.asarray(prep.x_test), s.y_true.shape[1], season, spec.target_index or 0)
    final: dict[str, Any] = {
        "metrics": metrics.forecast(s.y_true, s.preds, train_period, season),
        "forecast": {
            "actual": s.y_true.tolist(),
            "predicted": s.preds.tolist(),
            "naive": naive.tolist(),
            "future": future_forecast(s.model, prep, s.files),
        },
    }
    if s.single is not None:
        final["single"] = metrics.forecast(s.y_true, s.single, train_period, season)
    found = [{"name": f"seasonal naive (period {season})", **metrics.forecast(s.y_true, naive, train_period, season)}]
    series = {"values": train_series.tolist(), "times": history.times, "target": history.target, "train_end": cutoff}
    return Evaluation(final, found, series)


def future_forecast(model, prep, files: Any) -> dict[str, Any] | None:
    """The model's forecast of the `horizon` steps after the end of the data, with their times
    ({"times", "values"}), or None when the last window cannot be read."""
    from archpick.datasets.series.timeline import future_times

    spec, history = prep.bundle.input_spec, prep.bundle.history
    lookback = int(spec.lookback)
    if len(spec.columns or [None]) == 1:  # the whole series (train and test files) is in the history
        window = np.asarray(history.values, np.float32)[-lookback:].reshape(1, -1, 1)
    else:
        from archpick.datasets.series import last_window_for_predict

        try:
            window = last_window_for_predict(files.get("test") or files["train"], spec)[0][1][None]
        except (AttributeError, DataError, KeyError, OSError):  # no {"train", "test"} files, or unreadable
            return None
    if window.shape[1] != lookback:
        return None
    values = np.ravel(np.asarray(model.predict_on_batch(window)))
    return {"times": future_times(list(history.times), len(values)), "values": [float(v) for v in values]}
