"""Statistics fitted on the training split only, per input kind, handed to the HyperModels as constants.

Each hook takes the training inputs and the Bundle's input_spec and returns plain JSON-able values (lists,
floats, ints), so a model built from them is deterministic and its config serialises. Nothing here calls
``adapt()``; nothing here looks at validation or test rows, which never reach these functions.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_VOCABULARY = 20_000
MAX_NGRAMS = 30_000  # word 1-2-grams kept for the text models' linear "wide" branch
NGRAM_MIN_DF = 2  # an n-gram must occur in this many training texts (1 when that leaves none)
MAX_SEQUENCE_LENGTH = 400
MIN_SEQUENCE_LENGTH = 8
MIN_STD = 1e-6
# The punctuation TextVectorization's "lower_and_strip_punctuation" removes (keras/src, same regex).
STRIP_PUNCTUATION = re.compile(rb'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')


def _safe_std(std: np.ndarray) -> np.ndarray:
    std = np.where(np.isfinite(std), std, 1.0)
    return np.where(std < MIN_STD, 1.0, std)


def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.isfinite(x), x, np.nan)


def sequence_stats(x_train: np.ndarray, input_spec: dict[str, Any]) -> dict[str, Any]:
    """Per-channel mean and std over the valid (finite) steps of NaN-padded (N, T, F) training sequences.

    Returns:
        {"mean": [F], "std": [F], "max_length": longest training sequence}.
    """
    x = _finite(x_train)
    flat = x.reshape(-1, x.shape[-1])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(flat, axis=0) if len(flat) else np.zeros(x.shape[-1])
        std = np.nanstd(flat, axis=0) if len(flat) else np.ones(x.shape[-1])
    mean = np.where(np.isfinite(mean), mean, 0.0)
    valid = np.isfinite(x).any(axis=2)
    lengths = np.where(valid.any(axis=1), x.shape[1] - np.argmax(valid[:, ::-1], axis=1), 0)
    return {"mean": mean.tolist(), "std": _safe_std(std).tolist(),
            "max_length": int(max(lengths.max(initial=0), input_spec.get("max_length") or 0, 1))}


def tokenize(text: str) -> list[str]:
    """Tokens as TextVectorization makes them: ASCII lowercasing, punctuation stripped, whitespace split.

    ``tf.strings.lower`` lowercases ASCII only and ``tf.strings.split`` splits on ASCII whitespace, so the
    work is done on UTF-8 bytes to match the layer inside the model token for token.
    """
    raw = STRIP_PUNCTUATION.sub(b"", str(text).encode("utf-8").lower())
    return [t.decode("utf-8", errors="replace") for t in raw.split()]


def text_stats(x_train: np.ndarray, input_spec: dict[str, Any]) -> dict[str, Any]:
    """Vocabulary (most frequent training words first) and sequence length, from training texts only.

    Returns:
        {"vocabulary": [words], "output_sequence_length": int, "n_documents": int}. The vocabulary holds
        at most min(vocabulary_size, 20000) words; ties are broken alphabetically so the order is
        deterministic. The length is the 95th percentile of training token counts, within [8, 400].
    """
    docs = [tokenize(t) for t in x_train]
    counts: Counter[str] = Counter()
    for tokens in docs:
        counts.update(tokens)
    limit = min(int(input_spec.get("vocabulary_size") or MAX_VOCABULARY), MAX_VOCABULARY)
    words = sorted((w for w in counts if w), key=lambda w: (-counts[w], w))[:max(limit, 1)]
    lengths = np.array([len(t) for t in docs] or [0])
    p95 = float(np.percentile(lengths, 95))
    length = int(min(max(math.ceil(p95), MIN_SEQUENCE_LENGTH), MAX_SEQUENCE_LENGTH))
    ngrams, idf = ngram_stats(docs)
    return {"vocabulary": words, "output_sequence_length": length, "n_documents": len(docs),
            "ngram_vocabulary": ngrams, "ngram_idf": idf}


def ngram_stats(docs: list[list[str]]) -> tuple[list[str], list[float]]:
    """Word 1-2-grams by document frequency and their smoothed IDF, as TextVectorization(ngrams=2) makes them.

    Args:
        docs: Tokenised training texts (see `tokenize`).

    Returns:
        (n-grams, idf): at most MAX_NGRAMS n-grams (bigrams joined by a space) seen in at least NGRAM_MIN_DF
        texts (or in one, when none is), most frequent first, ties alphabetical; idf = ln((1 + N) / (1 + df))
        + 1 as scikit-learn's TfidfVectorizer. (["[empty]"], [1.0]) when the texts hold no token.
    """
    df: Counter[str] = Counter()
    for tokens in docs:
        grams = set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}
        df.update(g for g in grams if g)
    kept = [g for g in df if df[g] >= NGRAM_MIN_DF] or list(df)
    kept = sorted(kept, key=lambda g: (-df[g], g))[:MAX_NGRAMS]
    if not kept:
        return ["[empty]"], [1.0]
    n = len(docs)
    return kept, [round(math.log((1 + n) / (1 + df[g])) + 1.0, 6) for g in kept]


def target_index(input_spec: dict[str, Any]) -> int:
    """Which feature of a forecasting window is the target (0 when the spec does not say)."""
    if "target_index" in input_spec:
        return int(input_spec["target_index"])
    columns, target = list(input_spec.get("columns") or []), input_spec.get("target")
    return columns.index(target) if target in columns else 0


def window_stats(x_train: np.ndarray, input_spec: dict[str, Any]) -> dict[str, Any]:
    """Scales of raw (N, lookback, F) training windows, for per-window normalisation inside the model.

    Only the training windows' inputs are used (their targets are never looked at), so nothing from the
    validation or test period leaks in.

    Returns:
        {"target_index", "season", "log_ok" (every training value positive), "scale" and "scale_log": per
        feature, the std of values around their own window's mean (raw and log), "std": the global std}.
    """
    x = _finite(x_train)
    features = x.shape[-1]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        centred = x - np.nanmean(x, axis=1, keepdims=True)
        scale = np.nanstd(centred.reshape(-1, features), axis=0)
        std = np.nanstd(x.reshape(-1, features), axis=0)
        log_ok = bool(np.all(x[np.isfinite(x)] > 0)) and bool(np.isfinite(x).any())
        if log_ok:
            logs = np.log(x)
            scale_log = np.nanstd((logs - np.nanmean(logs, axis=1, keepdims=True)).reshape(-1, features), axis=0)
        else:
            scale_log = np.ones(features)
    season = input_spec.get("season")
    return {"target_index": target_index(input_spec), "season": int(season) if season else None,
            "log_ok": log_ok, "scale": _safe_std(scale).tolist(), "scale_log": _safe_std(scale_log).tolist(),
            "std": _safe_std(std).tolist()}


def table_stats(x_train: np.ndarray, input_spec: dict[str, Any]) -> dict[str, Any]:
    """Per-column median, mean and std ignoring NaN, and the columns with missing training values.

    Returns:
        {"median", "mean", "std": [F], "missing_columns": [column indices with a NaN in training]}.
        A column missing throughout has median 0, mean 0 and std 1.
    """
    x = _finite(x_train).reshape(len(x_train), -1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        median = np.nanmedian(x, axis=0) if len(x) else np.zeros(x.shape[1])
        mean = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
        std = np.nanstd(x, axis=0) if len(x) else np.ones(x.shape[1])
    median = np.where(np.isfinite(median), median, 0.0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    missing = np.flatnonzero(np.isnan(x).any(axis=0)).tolist()
    return {"median": median.tolist(), "mean": mean.tolist(), "std": _safe_std(std).tolist(),
            "missing_columns": [int(i) for i in missing]}


def image_stats(x_train: np.ndarray, input_spec: dict[str, Any]) -> dict[str, Any]:
    """Images are rescaled by 1/255 inside the model; nothing to fit (file paths are never decoded here)."""
    return {}


STATS_HOOKS: dict[str, Callable[[np.ndarray, dict[str, Any]], dict[str, Any]]] = {
    "sequence": sequence_stats,
    "text": text_stats,
    "window": window_stats,
    "table": table_stats,
    "image": image_stats,
}
