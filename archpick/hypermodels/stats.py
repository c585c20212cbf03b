"""Statistics fitted on the training split only, per input kind, handed to the HyperModels as constants.

Each hook takes the training inputs and the Bundle's input_spec and returns plain JSON-able values (lists,
floats, ints), so a model built from them is deterministic and its config serialises. Nothing here calls
``adapt()``; nothing here looks at validation or test rows, which never reach these functions.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import warnings
from collections import Counter
from typing import Any

import numpy as np

from archpick.datasets import encodings
from archpick.datasets.inputspec import InputSpec

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


def sequence_stats(x_train: np.ndarray, input_spec: InputSpec) -> dict[str, Any]:
    """Per-channel mean and std over the valid (finite) steps of NaN-padded (N, T, F) training sequences.

    Also fits the MiniRocket biases (see `rocket_fit`) on at most ROCKET_MAX_SERIES training series,
    standardised with these means and stds as the model's MaskedStandardize does.

    Returns:
        {"mean": [F], "std": [F], "max_length": longest training sequence, "rocket": rocket_fit(...)}.
    """
    x = _finite(x_train)
    flat = x.reshape(-1, x.shape[-1])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(flat, axis=0) if len(flat) else np.zeros(x.shape[-1])
        std = np.nanstd(flat, axis=0) if len(flat) else np.ones(x.shape[-1])
    mean = np.where(np.isfinite(mean), mean, 0.0)
    std = _safe_std(std)
    valid = np.isfinite(x).any(axis=2)
    lengths = np.where(valid.any(axis=1), x.shape[1] - np.argmax(valid[:, ::-1], axis=1), 0)
    longest = int(lengths.max(initial=0))
    out = {
        "mean": mean.tolist(),
        "std": std.tolist(),
        "max_length": int(max(longest, input_spec.max_length or 0, 1)),
    }
    out["rocket"] = rocket_fit(x, lengths, mean, std, max(longest, 1))
    return out


# --- MiniRocket (Dempster, Schmidt & Webb 2021): fixed kernels, dilations and training-fitted biases -----

ROCKET_BUDGETS = (2000, 5000, 10000)  # the `rocket_features` choices; biases are fitted for each
ROCKET_SEED = 0
ROCKET_KERNEL_LENGTH = 9
ROCKET_MAX_DILATIONS = 32  # per kernel, as MiniRocket
ROCKET_MAX_SERIES = 256  # training series sampled for the biases
ROCKET_FIT_STEPS = 1024  # convolution outputs per bias fit (a window of a longer series)
ROCKET_MAX_CHANNELS = 9  # at most this many channels are summed into one kernel (multivariate MiniRocket)
BIAS_DIGITS = 7  # significant digits kept in the JSON-able biases


def rocket_kernels() -> np.ndarray:
    """The 84 MiniRocket kernels, (84, 9): weight 2 at each choice of 3 of the 9 positions, -1 elsewhere."""
    weights = -np.ones((84, ROCKET_KERNEL_LENGTH), dtype=np.float64)
    for k, chosen in enumerate(itertools.combinations(range(ROCKET_KERNEL_LENGTH), 3)):
        weights[k, list(chosen)] = 2.0
    return weights


def rocket_dilations(max_length: int, n_features: int) -> tuple[list[int], list[int]]:
    """MiniRocket's dilations and features per kernel at each, for a feature budget.

    Dilations are exponentially spaced from 1 to (max_length - 1) / 8 (at most 32 per kernel); the
    budget's n_features // 84 features per kernel are shared among them in proportion to how often each
    (rounded-down) dilation occurs, as `fit_dilations` in the reference implementation.

    Returns:
        (dilations, features per kernel at each dilation); the model has 84 * sum(second) features.
    """
    per_kernel = max(int(n_features) // 84, 1)
    slots = min(per_kernel, ROCKET_MAX_DILATIONS)
    multiplier = per_kernel / slots
    max_exponent = math.log2(max((max_length - 1) / (ROCKET_KERNEL_LENGTH - 1), 1.0))
    dilations, counts = np.unique(
        np.floor(np.logspace(0, max_exponent, slots, base=2)).astype(np.int64), return_counts=True
    )
    features = (counts * multiplier).astype(np.int64)
    remainder, i = per_kernel - int(features.sum()), 0
    while remainder > 0:
        features[i] += 1
        remainder -= 1
        i = (i + 1) % len(features)
    return [int(d) for d in dilations], [int(n) for n in features]


def rocket_channel_sets(channels: int, n_dilations: int, seed: int = ROCKET_SEED) -> list[list[int]]:
    """Which input channels each (dilation, kernel) combination sums, as multivariate MiniRocket picks them.

    Each combination takes 2 ** U(0, log2(min(channels, 9) + 1)) (rounded down) distinct random channels.
    Only `random.Random(seed).random()` is used, whose stream Python guarantees across versions, so a
    reloaded model rebuilds exactly the same sets from (channels, n_dilations, seed).

    Returns:
        n_dilations * 84 sorted channel lists, dilation-major.
    """
    rng = random.Random(seed)
    exponent = math.log2(min(channels, ROCKET_MAX_CHANNELS) + 1)
    sets = []
    for _ in range(n_dilations * 84):
        count = min(max(int(2 ** (rng.random() * exponent)), 1), channels)
        pool = list(range(channels))
        for i in range(count):  # partial Fisher-Yates shuffle
            j = i + min(int(rng.random() * (channels - i)), channels - i - 1)
            pool[i], pool[j] = pool[j], pool[i]
        sets.append(sorted(pool[:count]))
    return sets


def rocket_quantile_levels(n: int) -> np.ndarray:
    """MiniRocket's low-discrepancy quantile levels ((i * golden ratio) mod 1, i = 1..n)."""
    return (np.arange(1, n + 1) * ((math.sqrt(5) + 1) / 2)) % 1


def rocket_convolve(
    z: np.ndarray, kernel: np.ndarray, dilation: int, start: int = 0, steps: int | None = None
) -> np.ndarray:
    """One dilated kernel over a standardised series with zero padding ("same"), as the Keras layer does.

    Args:
        z: (L,) standardised series, already summed over the combination's channels, 0 at missing steps.
        kernel: (9,) weights.
        dilation: The dilation.
        start: First output step.
        steps: Output steps (to the end of the series when None).

    Returns:
        out[t] = sum_j kernel[j] * z[start + t + (j - 4) * dilation], with z = 0 outside [0, L).
    """
    length = len(z)
    steps = length - start if steps is None else steps
    t = start + np.arange(steps)
    out = np.zeros(steps, dtype=np.float64)
    half = ROCKET_KERNEL_LENGTH // 2
    for j in range(ROCKET_KERNEL_LENGTH):
        pos = t + (j - half) * dilation
        inside = (pos >= 0) & (pos < length)
        out[inside] += kernel[j] * z[pos[inside]]
    return out


def _snap(sample: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """Move each bias to the midpoint between the sampled values either side of it.

    The count of sampled values above a bias is unchanged, and no bias sits on a value (flat stretches give
    exact zeros) that a float32 convolution could round to either side of it.
    """
    values = np.unique(sample)
    if len(values) == 1:
        return np.full_like(biases, values[0] + 0.5)
    idx = np.searchsorted(values, biases, side="right")
    low = np.where(idx > 0, values[np.maximum(idx - 1, 0)], values[0] - (values[1] - values[0]))
    high = np.where(idx < len(values), values[np.minimum(idx, len(values) - 1)], values[-1] + (values[-1] - values[-2]))
    return (low + high) / 2


def rocket_fit(
    x: np.ndarray, lengths: np.ndarray, mean: np.ndarray, std: np.ndarray, max_length: int
) -> dict[str, Any]:
    """MiniRocket biases for each feature budget, from training series only.

    For every (dilation, kernel) combination one training series, drawn from a sample of at most
    ROCKET_MAX_SERIES, is standardised ((x - mean) / std, 0 where missing), summed over the combination's
    channels and convolved (`rocket_convolve`) over a random window of at most ROCKET_FIT_STEPS steps, so
    the cost is bounded whatever the data's size; the biases are that output's quantiles at the combination's
    low-discrepancy levels, over the valid steps only. Deterministic (fixed seed).

    Args:
        x: (N, T, C) training sequences, NaN-padded.
        lengths: Each sequence's length (0: no valid step).
        mean: Per-channel training mean.
        std: Per-channel training std.
        max_length: Longest training sequence (sets the dilations).

    Returns:
        {"seed", "channels", "fits": {str(budget): {"dilations", "features_per_dilation", "biases"}}}, the
        biases flat in (dilation, kernel, feature) order; {} when no training sequence has a valid step.
    """
    usable = np.flatnonzero(lengths > 0)
    if not len(usable):
        return {}
    channels = x.shape[-1]
    rng = np.random.default_rng(ROCKET_SEED)
    pool = np.sort(rng.choice(usable, min(len(usable), ROCKET_MAX_SERIES), replace=False))
    kernels = rocket_kernels()
    half = ROCKET_KERNEL_LENGTH // 2
    fits = {}
    for budget in ROCKET_BUDGETS:
        dilations, per_dilation = rocket_dilations(max_length, budget)
        sets = rocket_channel_sets(channels, len(dilations))
        levels = rocket_quantile_levels(84 * sum(per_dilation))
        biases, used = [], 0
        for di, (dilation, n) in enumerate(zip(dilations, per_dilation)):
            picks = rng.integers(0, len(pool), 84)
            starts = rng.random(84)
            for k in range(84):
                row = pool[picks[k]]
                length = int(lengths[row])
                steps = min(length, ROCKET_FIT_STEPS)
                start = int(starts[k] * (length - steps + 1))
                # Only the steps this window's outputs read: [start - 4d, start + steps + 4d) within the series.
                low = max(0, start - half * dilation)
                high = min(length, start + steps + half * dilation)
                chosen = sets[di * 84 + k]
                raw = x[row, low:high][:, chosen]
                summed = np.where(np.isfinite(raw), (raw - mean[chosen]) / std[chosen], 0.0).sum(axis=1)
                out = rocket_convolve(summed, kernels[k], dilation, start - low, steps)
                valid = np.isfinite(x[row, start : start + steps]).any(axis=1)
                out = out[valid] if valid.any() else np.zeros(1)
                fitted = np.quantile(out, levels[used : used + n])
                biases.append(_snap(out, fitted))
                used += n
        flat = np.concatenate(biases)
        fits[str(budget)] = {
            "dilations": dilations,
            "features_per_dilation": per_dilation,
            "biases": [float(f"{b:.{BIAS_DIGITS}g}") for b in flat],
        }
    return {"seed": ROCKET_SEED, "channels": int(channels), "fits": fits}


def tokenize(text: str) -> list[str]:
    """Tokens as TextVectorization makes them: ASCII lowercasing, punctuation stripped, whitespace split.

    ``tf.strings.lower`` lowercases ASCII only and ``tf.strings.split`` splits on ASCII whitespace, so the
    work is done on UTF-8 bytes to match the layer inside the model token for token.
    """
    raw = STRIP_PUNCTUATION.sub(b"", str(text).encode("utf-8").lower())
    return [t.decode("utf-8", errors="replace") for t in raw.split()]


def text_stats(x_train: np.ndarray, input_spec: InputSpec) -> dict[str, Any]:
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
    limit = min(int(input_spec.vocabulary_size or MAX_VOCABULARY), MAX_VOCABULARY)
    words = sorted((w for w in counts if w), key=lambda w: (-counts[w], w))[: max(limit, 1)]
    lengths = np.array([len(t) for t in docs] or [0])
    p95 = float(np.percentile(lengths, 95))
    length = int(min(max(math.ceil(p95), MIN_SEQUENCE_LENGTH), MAX_SEQUENCE_LENGTH))
    ngrams, idf = ngram_stats(docs)
    return {
        "vocabulary": words,
        "output_sequence_length": length,
        "n_documents": len(docs),
        "ngram_vocabulary": ngrams,
        "ngram_idf": idf,
    }


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


def target_index(input_spec: InputSpec) -> int:
    """Which feature of a forecasting window is the target (0 when the spec does not say)."""
    if input_spec.target_index is not None:
        return input_spec.target_index
    columns, target = list(input_spec.columns or []), input_spec.target
    return columns.index(target) if target in columns else 0


def window_stats(x_train: np.ndarray, input_spec: InputSpec) -> dict[str, Any]:
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
    season = input_spec.season
    return {
        "target_index": target_index(input_spec),
        "season": int(season) if season else None,
        "log_ok": log_ok,
        "scale": _safe_std(scale).tolist(),
        "scale_log": _safe_std(scale_log).tolist(),
        "std": _safe_std(std).tolist(),
    }


def _numeric_stats(x: np.ndarray) -> dict[str, Any]:
    """Per-column median, mean and std ignoring NaN, and the columns with missing values, of (N, F) floats."""
    x = _finite(x)
    x = x if x.ndim == 2 else x.reshape(len(x), -1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        median = np.nanmedian(x, axis=0) if len(x) else np.zeros(x.shape[1])
        mean = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
        std = np.nanstd(x, axis=0) if len(x) else np.ones(x.shape[1])
    median = np.where(np.isfinite(median), median, 0.0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    missing = np.flatnonzero(np.isnan(x).any(axis=0)).tolist()
    return {
        "median": median.tolist(),
        "mean": mean.tolist(),
        "std": _safe_std(std).tolist(),
        "missing_columns": [int(i) for i in missing],
    }


def _codes(values: np.ndarray) -> list[float]:
    """The distinct finite training values of an integer-codes column, sorted."""
    return sorted(float(v) for v in np.unique(values[np.isfinite(values)]))


def _category_vocabulary(values: np.ndarray, how: str) -> list[str]:
    """Training values of a category column, most frequent first (ties alphabetical), for StringLookup.

    One-hot keeps every value; an embedding keeps values seen at least twice (all when none is), at most
    EMBEDDING_MAX_VALUES. Blanks and the lookup's own OOV token are left to the OOV slot.
    """
    counts = Counter(str(v).strip() for v in values)
    counts.pop("", None)
    counts.pop("[UNK]", None)
    kept = list(counts)
    if how == "embedding":
        kept = [v for v in kept if counts[v] >= 2] or kept
    kept = sorted(kept, key=lambda v: (-counts[v], v))
    return kept[: encodings.EMBEDDING_MAX_VALUES] if how == "embedding" else kept


def _words(values: np.ndarray) -> tuple[list[str], list[float]]:
    """A free-text column's bag of words: at most TEXT_VOCABULARY words by document frequency, with their IDF.

    Words must occur in two training texts (one, when that leaves none); idf = ln((1 + N) / (1 + df)) + 1.
    (["[empty]"], [1.0]) when the texts hold no word.
    """
    docs = [set(tokenize(v)) for v in values]
    df: Counter[str] = Counter()
    for words in docs:
        df.update(w for w in words if w)
    kept = [w for w in df if df[w] >= 2] or list(df)
    kept = sorted(kept, key=lambda w: (-df[w], w))[: encodings.TEXT_VOCABULARY]
    if not kept:
        return ["[empty]"], [1.0]
    n = len(docs)
    return kept, [round(math.log((1 + n) / (1 + df[w])) + 1.0, 6) for w in kept]


def _years(values: np.ndarray) -> tuple[float, float]:
    """Mean and std of the years of ISO date fields (2000 and 1 when none is a date)."""
    pattern = re.compile(encodings.DATE_PATTERN)
    years = np.array([int(str(v).strip()[:4]) for v in values if pattern.fullmatch(str(v))], dtype=np.float64)
    if not len(years):
        return 2000.0, 1.0
    return float(years.mean()), float(_safe_std(np.array([years.std()]))[0])


def table_stats(x_train: np.ndarray, input_spec: InputSpec) -> dict[str, Any]:
    """Training statistics of a table, for the model's input layers.

    Numbers (all columns of a float table, the numeric fields of a string table): per-column median, mean
    and std ignoring NaN and the columns with missing training values. Integer codes: their values. String
    tables also get each category column's vocabulary, each text column's words and IDF, each date column's
    year mean and std.

    Returns:
        {"median", "mean", "std": [numeric columns], "missing_columns": [indices among them with a NaN in
        training], "codes": {column: [values]}, "vocabularies": {column: [values]}, "words": {column: [words]},
        "idf": {column: [weights]}, "years": {column: [mean, std]}}. A column missing throughout has median
        0, mean 0 and std 1.
    """
    encs = input_spec.column_encodings()
    strings = input_spec.takes_strings
    numeric = [i for i, e in enumerate(encs) if e.how in ("numeric", "codes")]
    rows = np.asarray(x_train, dtype=object if strings else np.float64).reshape(len(x_train), -1)
    numbers = encodings.parse_numbers(rows, numeric) if strings else rows
    out = _numeric_stats(numbers)
    out["codes"] = {encs[c].name: _codes(numbers[:, j]) for j, c in enumerate(numeric) if encs[c].how == "codes"}
    if not strings:
        return out
    out["vocabularies"], out["words"], out["idf"], out["years"] = {}, {}, {}, {}
    for i, enc in enumerate(encs):
        if enc.how in ("one_hot", "embedding"):
            out["vocabularies"][enc.name] = _category_vocabulary(rows[:, i], enc.how)
        elif enc.how == "text":
            out["words"][enc.name], out["idf"][enc.name] = _words(rows[:, i])
        elif enc.how == "date":
            out["years"][enc.name] = list(_years(rows[:, i]))
    return out


def image_stats(x_train: np.ndarray, input_spec: InputSpec) -> dict[str, Any]:
    """Images are rescaled by 1/255 inside the model; nothing to fit (file paths are never decoded here)."""
    return {}


def video_stats(x_train: np.ndarray, input_spec: InputSpec) -> dict[str, Any]:
    """Frames are resized and rescaled inside the model; nothing to fit."""
    return {}
