"""Simple, honest baselines on the same test split: majority class, logistic regression, seasonal naive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from archpick import metrics

MAX_BASELINE_TRAIN = 5000  # samples decoded for the baseline at most (files are decoded for it)
MAX_BASELINE_CLIPS = 400  # clips decoded for the video baseline at most
MAX_BASELINE_TEXTS = 200_000  # TF-IDF is cheap: the text baseline sees the whole training split
BASELINE_SIDE = 32  # images are shrunk to at most this side for the pixel baseline


def _pixels(x: np.ndarray, decode: Callable[[str], np.ndarray] | None) -> np.ndarray:
    from PIL import Image

    rows = []
    for item in x:
        arr = decode(item) if decode is not None else np.asarray(item)
        if arr.ndim == 4:  # video: average frame
            arr = arr.mean(axis=0)
        arr = np.asarray(arr, dtype=np.float32)
        if max(arr.shape[:2]) > BASELINE_SIDE:
            img = Image.fromarray(arr.astype(np.uint8).squeeze())
            arr = np.asarray(img.resize((BASELINE_SIDE, BASELINE_SIDE)), dtype=np.float32)
        rows.append(arr.ravel() / 255.0)
    return np.stack(rows)


def _sequence_summary(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(all="ignore"):
        last_idx = np.maximum((~np.isnan(x).all(axis=2)).sum(axis=1) - 1, 0)
        last = x[np.arange(len(x)), last_idx]
        parts = [np.nanmean(x, 1), np.nanstd(x, 1), np.nanmin(x, 1), np.nanmax(x, 1), last]
    return np.nan_to_num(np.concatenate(parts, axis=1))


def _features(kind: str, x_train, x_test, decode):
    if kind == "text":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        return (
            vec.fit_transform([str(s) for s in x_train]),
            vec.transform([str(s) for s in x_test]),
            "logistic regression on TF-IDF word 1-2-grams",
        )
    if kind in ("image", "video"):
        what = "flattened pixels" if kind == "image" else "the mean frame's pixels"
        return _pixels(x_train, decode), _pixels(x_test, decode), f"logistic regression on {what}"
    if kind == "sequence":
        return (
            _sequence_summary(x_train),
            _sequence_summary(x_test),
            "logistic regression on per-channel mean/std/min/max/last",
        )
    if np.asarray(x_train).dtype == object:  # a table's string rows (archpick/datasets/encodings.py)
        from archpick.datasets.encodings import baseline_features

        return (*baseline_features(x_train, x_test), "linear model on the numbers and one-hot categories")
    xt, xs = np.asarray(x_train, np.float32), np.asarray(x_test, np.float32)
    xt, xs = xt.reshape(len(xt), -1), xs.reshape(len(xs), -1)
    med = np.nanmedian(np.where(np.isfinite(xt), xt, np.nan), axis=0)
    med = np.where(np.isnan(med), 0, med)
    fill = lambda a: np.where(np.isfinite(a), a, med)  # noqa: E731
    return fill(xt), fill(xs), "linear model on the raw features"


def classification(
    kind: str,
    x_train,
    y_train,
    x_test,
    y_test,
    class_names: list[str],
    decode: Callable[[str], np.ndarray] | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Majority class and logistic regression, scored on the test split.

    Args:
        kind: The input kind ("image", "video", "text", "sequence", "table").
        x_train: Training inputs (file paths when `decode` is given).
        y_train: Training labels.
        x_test: Test inputs.
        y_test: Test labels.
        class_names: Class names.
        decode: path -> array for file inputs.
        seed: Random seed for subsampling.

    Returns:
        One dict per baseline: name, accuracy, balanced_accuracy, macro_f1.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    majority = np.bincount(np.asarray(y_train)).argmax()
    guess = np.zeros((len(y_test), len(class_names)))
    guess[:, majority] = 1.0
    scores = metrics.classification(np.asarray(y_test), guess, class_names)
    out = [
        {
            "name": f"majority class ({class_names[majority]})",
            "accuracy": scores["accuracy"],
            "balanced_accuracy": scores["balanced_accuracy"],
            "macro_f1": scores["macro_f1"],
        }
    ]
    rng = np.random.default_rng(seed)
    idx = np.arange(len(x_train))
    cap = {"video": MAX_BASELINE_CLIPS, "text": MAX_BASELINE_TEXTS}.get(kind, MAX_BASELINE_TRAIN)
    if len(idx) > cap:
        idx = rng.choice(idx, cap, replace=False)
    try:
        f_train, f_test, name = _features(
            kind,
            np.asarray(x_train, dtype=object)[idx] if decode or kind == "text" else np.asarray(x_train)[idx],
            x_test,
            decode,
        )
        model = LogisticRegression(max_iter=2000, C=1.0 if kind != "text" else 4.0)
        if kind not in ("text",):
            model = make_pipeline(StandardScaler(), model)
        model.fit(f_train, np.asarray(y_train)[idx])
        proba = model.predict_proba(f_test)
        full = np.zeros((len(x_test), len(class_names)))
        classes = model.classes_ if hasattr(model, "classes_") else model[-1].classes_
        full[:, classes] = proba
        scores = metrics.classification(np.asarray(y_test), full, class_names)
        out.append(
            {
                "name": name,
                "accuracy": scores["accuracy"],
                "balanced_accuracy": scores["balanced_accuracy"],
                "macro_f1": scores["macro_f1"],
            }
        )
    except Exception as exc:  # noqa: BLE001 - a failed baseline is reported, never fatal
        out.append(
            {"name": "logistic regression", "accuracy": None, "macro_f1": None, "error": str(exc).splitlines()[0][:200]}
        )
    return out


def cross_validated(
    kind: str,
    x,
    y,
    folds: list[tuple[np.ndarray, np.ndarray]],
    class_names: list[str],
    decode: Callable[[str], np.ndarray] | None = None,
) -> dict[str, Any] | None:
    """The best of majority class and logistic regression, scored on the same folds as the models.

    The features are computed once on all of `x` (unsupervised, as the models' statistics are); each fold fits
    the classifier on its training part only.

    Returns:
        {"name", "mean", "folds"} of the better baseline, or None when the features cannot be computed.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(y)
    try:
        features, _, name = _features(
            kind, np.asarray(x, dtype=object) if decode or kind == "text" else x, x[:1], decode
        )
    except Exception:  # noqa: BLE001 - a failed baseline is reported by the test-split baselines
        return None
    majority, linear = [], []
    for tr, va in folds:
        majority.append(float(np.mean(y[va] == np.bincount(y[tr]).argmax())))
        model = LogisticRegression(max_iter=2000, C=1.0 if kind != "text" else 4.0)
        if kind != "text":
            model = make_pipeline(StandardScaler(), model)
        linear.append(float(np.mean(model.fit(features[tr], y[tr]).predict(features[va]) == y[va])))
    best = max([("majority class", majority), (name, linear)], key=lambda item: np.mean(item[1]))
    return {"name": best[0], "mean": float(np.mean(best[1])), "folds": best[1]}


def regression(x_train, y_train, x_test, y_test) -> list[dict[str, Any]]:
    """Mean predictor and ridge regression on the same features."""
    from sklearn.linear_model import Ridge

    mean = float(np.mean(y_train))
    out = [{"name": "training mean", **metrics.regression(y_test, np.full(len(y_test), mean))}]
    f_train, f_test, _ = _features("table", x_train, x_test, None)
    model = Ridge().fit(f_train, y_train)
    out.append({"name": "ridge regression", **metrics.regression(y_test, model.predict(f_test))})
    return out


def seasonal_naive(windows: np.ndarray, horizon: int, season: int, target_index: int = 0) -> np.ndarray:
    """Repeat the last observed season: y[t+h] = y[t+h-m*ceil(h/m)] for each window.

    Args:
        windows: (N, lookback, F) raw windows.
        horizon: Steps ahead.
        season: Seasonal period m (1 gives the naive forecast).
        target_index: Which feature is the target.

    Returns:
        (N, horizon) forecasts.
    """
    series = np.asarray(windows)[:, :, target_index]
    m = max(1, min(int(season), series.shape[1]))
    cols = [series.shape[1] - m + (h % m) for h in range(horizon)]
    return series[:, cols]
