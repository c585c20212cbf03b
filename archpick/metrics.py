"""Test metrics: accuracy, per-class precision/recall/F1 and confusion matrix; MAE/RMSE/MASE/sMAPE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def classification(y_true: np.ndarray, proba: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """Accuracy, balanced accuracy (mean recall over the classes present), macro F1, per-class
    precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    y_pred = np.asarray(proba).argmax(axis=-1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(np.mean(y_pred == y_true)),
        "balanced_accuracy": float(np.mean(recall[support > 0])) if np.any(support > 0) else None,
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": [
            {"class": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(class_names, precision, recall, f1, support)
        ],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "n": int(len(y_true)),
    }


def regression(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """MAE, RMSE and R^2."""
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    err = y_pred - y_true
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2)) or 1.0
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": float(1 - np.sum(err**2) / ss_tot),
        "n": int(len(y_true)),
    }


def forecast(y_true: np.ndarray, y_pred: np.ndarray, train_series: np.ndarray, season: int) -> dict[str, Any]:
    """MAE, RMSE, MASE (scaled by the in-sample seasonal-naive MAE) and sMAPE (%), over all test windows."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    err = y_pred - y_true
    m = max(int(season), 1)
    train_series = np.asarray(train_series, float)
    scale = float(np.mean(np.abs(train_series[m:] - train_series[:-m]))) if len(train_series) > m else float("nan")
    denom = np.abs(y_true) + np.abs(y_pred)
    smape = float(np.mean(np.where(denom == 0, 0.0, 2 * np.abs(err) / np.where(denom == 0, 1, denom))) * 100)
    mae = float(np.mean(np.abs(err)))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mase": mae / scale if scale and np.isfinite(scale) else None,
        "smape": smape,
        "n_windows": int(len(y_true)),
    }


def bootstrap_interval(
    score: Callable[[np.ndarray], float], n: int, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of a test score: `score(indices)` on resamples of the n test samples.

    Args:
        score: The metric on a resample, given its sample indices (repeats allowed).
        n: Test samples.
        resamples: Bootstrap resamples.
        seed: Seed of the resampling.
        level: Coverage of the interval.

    Returns:
        (low, high).
    """
    rng = np.random.default_rng(seed)
    values = np.sort([score(rng.integers(0, n, n)) for _ in range(resamples)])
    tail = (1.0 - level) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1.0 - tail))


def test_interval(
    key: str,
    y_true: np.ndarray,
    preds: np.ndarray,
    train_series: np.ndarray | None = None,
    season: int = 1,
    seed: int = 0,
) -> dict[str, Any] | None:
    """The 95 % interval of the primary test metric `key` (see archpick/report/answer.py), or None.

    Accuracy: Wilson's score interval. Bootstrap resamples otherwise: balanced accuracy per-sample hits, RMSE
    squared errors, MASE whole forecast windows.
    """
    y_true, preds = np.asarray(y_true), np.asarray(preds)
    n = len(y_true)
    if n < 2:
        return None
    if key in ("accuracy", "balanced_accuracy"):
        labels = y_true.astype(int).ravel()
        hits = (np.argmax(preds, axis=1) == labels).astype(float)
        if key == "accuracy":  # Wilson's score interval: not degenerate at 0 or 100 % (a bootstrap would be)
            p, z = float(hits.mean()), 1.959964
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            return {
                "metric": key,
                "low": float(max(centre - half, 0.0)),
                "high": float(min(centre + half, 1.0)),
                "level": 0.95,
                "method": f"Wilson score interval over the {n} test samples",
            }
        else:

            def score(idx):
                sub, hit = labels[idx], hits[idx]
                return float(np.mean([hit[sub == c].mean() for c in np.unique(sub)]))
    elif key == "rmse":
        squared = (np.asarray(preds, float).ravel() - np.asarray(y_true, float).ravel()) ** 2
        squared = squared.reshape(n, -1).mean(axis=1)

        def score(idx):
            return float(np.sqrt(squared[idx].mean()))
    elif key == "mase" and train_series is not None:

        def score(idx):
            return float(forecast(y_true[idx], preds[idx], train_series, season)["mase"])
    else:
        return None
    low, high = bootstrap_interval(score, n, seed=seed)
    return {
        "metric": key,
        "low": low,
        "high": high,
        "level": 0.95,
        "method": f"percentile bootstrap over the {n} test samples (1,000 resamples)",
    }
