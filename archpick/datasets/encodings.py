"""How each column of a feature table enters the model, and the raw rows the model takes.

A table whose used columns are all numbers keeps its float32 input ("features", one value per column, NaN for
a gap). A table with a string column (a category, free text, a date) takes one string input instead:

    "row": string (batch, F), one field per column of input_spec.columns, in that order, as written in
    the CSV: numbers as decimal text (blank = missing), categories and text as they are, dates as ISO 8601
    (YYYY-MM-DD, a time after it is ignored).

Why one string tensor rather than one named input per column: every stage that moves samples (splits, folds,
tf.data, ensembles, predict's batching) handles a 2-D array of rows, and a CSV row is exactly a row of
strings, so the model parses its numbers itself and nothing outside it has to know the columns' types.
`archpick predict` reads the CSV with the same reader as training (`raw_rows`): decimal commas, other
encodings and other date formats are normalised there.

Standard library, numpy and pandas only (no TensorFlow): `inspect` and the baselines use it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets.columns import as_datetime, as_numeric, label_text
from archpick.datasets.inputspec import ColumnEncoding, parse_encodings

ONE_HOT_MAX = 50
"""A string column with at most this many distinct values is one-hot encoded; more take an embedding."""

CODES_MAX = 10
"""A whole-number column with 3 to this many distinct values is also one-hot encoded (integer codes)."""

CODES_MIN = 3
"""Fewest distinct whole numbers for a column to count as integer codes (two values are one number anyway)."""

EMBEDDING_MAX_VALUES = 10_000
"""An embedded column keeps at most this many of its most frequent training values."""

TEXT_VOCABULARY = 1000
"""A free-text column's bag of words keeps at most this many training words."""

BASELINE_MAX_CATEGORIES = 1000
"""The linear baselines one-hot encode at most this many of a string column's most frequent values."""

STRING_ENCODINGS = frozenset({"one_hot", "embedding", "text", "date"})
"""Encodings that read a string: a table with one of them takes the string "row" input."""

NUMBER_PATTERN = r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*"
"""A number as the model parses it (RE2 and Python `re` alike); anything else is missing."""

DATE_PATTERN = r"\s*\d{4}-\d{2}-\d{2}([T ].*)?\s*"
"""A date as the model reads it: ISO 8601, an optional time after it."""

_NUMBER = re.compile(NUMBER_PATTERN)


def describe(enc: ColumnEncoding) -> str:
    """How a column enters the model, in words (the profile's column_uses)."""
    if enc.how == "codes":
        return f"numeric, and one-hot of its {enc.n_values} whole-number codes"
    if enc.how == "one_hot":
        return f"one-hot, {enc.n_values} values (an unseen value takes an extra slot)"
    if enc.how == "embedding":
        return f"embedding, {enc.n_values} values (rare and unseen values share one vector)"
    if enc.how == "text":
        return f"bag of words (TF-IDF over at most {TEXT_VOCABULARY} training words)"
    if enc.how == "date":
        return "calendar features (year, month, day of week, day of year)"
    return "numeric"


def facts_encodings(facts: dict[str, Any]) -> list[ColumnEncoding]:
    """The encodings a table profile's facts name, one per used column (all numeric when it names none)."""
    if facts.get("encodings"):
        return parse_encodings(facts["encodings"])
    return [ColumnEncoding(str(c), "numeric") for c in facts.get("columns") or []]


def integer_codes(values: pd.Series) -> int:
    """The number of distinct whole-number codes of a numeric column when it looks like integer codes, else 0."""
    finite = values[np.isfinite(values)]
    if finite.empty or not bool(np.all(np.floor(finite) == finite)):
        return 0
    n = int(finite.nunique())
    return n if CODES_MIN <= n <= CODES_MAX and len(finite) >= 5 * n else 0


def choose_encoding(name: str, kind: str, n_unique: int, numbers: pd.Series | None = None) -> ColumnEncoding:
    """The encoding of a usable feature column of kind numeric, categorical, text or datetime.

    Args:
        name: The column.
        kind: Its ColumnInfo kind.
        n_unique: Its distinct values.
        numbers: Its values as float64 (numeric columns), to find integer codes.
    """
    if kind == "numeric":
        codes = integer_codes(numbers) if numbers is not None else 0
        return ColumnEncoding(name, "codes" if codes else "numeric", codes)
    if kind == "text":
        return ColumnEncoding(name, "text", n_unique)
    if kind == "datetime":
        return ColumnEncoding(name, "date", n_unique)
    return ColumnEncoding(name, "one_hot" if n_unique <= ONE_HOT_MAX else "embedding", n_unique)


def _number_text(values: pd.Series) -> list[str]:
    numbers = as_numeric(values).to_numpy(np.float64)
    return [repr(float(v)) if np.isfinite(v) else "" for v in numbers]


def category_text(value: object) -> str:
    """A category as the model sees it: stripped text, whole floats without ".0", blank when missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return label_text(value)


def _date_text(values: pd.Series) -> list[str]:
    dates = as_datetime(values)
    return ["" if pd.isna(d) else f"{d.year:04d}-{d.month:02d}-{d.day:02d}" for d in dates]


def raw_rows(frame: pd.DataFrame, encodings: list[ColumnEncoding]) -> np.ndarray:
    """The string "row" input of a table: (rows, columns) object array of str, as the model takes it.

    Numbers are written as decimal text (blank when missing), categories as `category_text`, free text as it
    is, dates as YYYY-MM-DD (blank when unreadable).
    """
    out = np.empty((len(frame), len(encodings)), dtype=object)
    for j, enc in enumerate(encodings):
        values = frame[enc.name]
        if enc.how in ("numeric", "codes"):
            column = _number_text(values)
        elif enc.how == "date":
            column = _date_text(values)
        elif enc.how == "text":
            column = ["" if pd.isna(v) else str(v) for v in values]
        else:
            column = [category_text(v) for v in values]
        out[:, j] = column
    return out


def parse_number(text: str) -> float:
    """A field as the model parses it: a number, or NaN for anything else (see NUMBER_PATTERN)."""
    text = str(text)
    return float(text) if _NUMBER.fullmatch(text) else float("nan")


def parse_numbers(rows: np.ndarray, columns: list[int]) -> np.ndarray:
    """Selected fields of string rows as a float64 (rows, len(columns)) matrix, NaN where not a number."""
    out = np.full((len(rows), len(columns)), np.nan)
    for j, c in enumerate(columns):
        out[:, j] = [parse_number(v) for v in rows[:, c]]
    return out


def baseline_features(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """String rows as numbers for the linear baselines: numeric fields (median-imputed) and one-hot categories.

    A field is numeric when every non-blank training value is a number; other fields are one-hot encoded
    (at most BASELINE_MAX_CATEGORIES most frequent training values, the rest in one slot), so the baseline is what
    one-hot + logistic/ridge regression reach.
    """
    from sklearn.preprocessing import OneHotEncoder

    x_train, x_test = np.asarray(x_train, dtype=object), np.asarray(x_test, dtype=object)
    numeric, other = [], []
    for c in range(x_train.shape[1]):
        present = [v for v in x_train[:, c] if str(v).strip()]
        (numeric if present and all(_NUMBER.fullmatch(str(v)) for v in present) else other).append(c)
    parts_train, parts_test = [], []
    if numeric:
        tr, te = parse_numbers(x_train, numeric), parse_numbers(x_test, numeric)
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(np.isnan(tr), np.nan, tr), axis=0) if len(tr) else np.zeros(len(numeric))
        med = np.where(np.isfinite(med), med, 0.0)
        parts_train.append(np.where(np.isnan(tr), med, tr))
        parts_test.append(np.where(np.isnan(te), med, te))
    if other:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=BASELINE_MAX_CATEGORIES, sparse_output=False
        )
        parts_train.append(encoder.fit_transform(x_train[:, other].astype(str)))
        parts_test.append(encoder.transform(x_test[:, other].astype(str)))
    return np.concatenate(parts_train, axis=1), np.concatenate(parts_test, axis=1)
