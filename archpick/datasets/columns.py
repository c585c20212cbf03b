"""Reading CSV/Parquet files robustly and telling what each column is.

Shared by the table, text and series detectors. Standard library, numpy and pandas only.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets.base import Bundle, tokens, words  # noqa: F401 - words is read as cols.words
from archpick.datasets.inputspec import InputSpec
from archpick.decoding import decode_text
from archpick.errors import DataError, OptionError

TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".parquet", ".pq"})
"""File suffixes read as tables."""

LABEL_NAMES = frozenset({"label", "labels", "target", "class", "y", "category"})
"""Column names taken as the label when no --target is given."""

TIME_WORDS = frozenset("date time timestamp datetime ds dt month year week day hour minute period quarter".split())
"""Words that make a column name a time name (month, order_date, ds...)."""

ID_WORDS = frozenset("id series sample instance case subject sequence seq group key uid uuid recording session".split())
"""Words that make a column name an id name (id, series_id, sample...)."""

ORDER_WORDS = frozenset("t step order index idx position pos frame tick".split()) | TIME_WORDS
"""Words that make a column name an order name (t, step, frame, and the time words)."""

TEXT_MIN_WORDS = 5
"""A string column whose mean length is at least this many words is free text."""

CLASSIFY_SAMPLE = 2000
"""String columns are classified from their first this many non-blank values."""

MIN_SAMPLES = 5
"""Fewest usable samples (rows, documents, series) a dataset needs for train, validation and test."""

MAX_CLASSES = 20
"""Integer targets with at most this many distinct values (and < half the rows) are classes."""

_DELIMITERS = (",", ";", "\t", "|")
_DATE_HINT = re.compile(r"\d{1,4}[-/.:T ]\d{1,2}|\d{4}$|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", re.IGNORECASE)


@dataclass
class ColumnInfo:
    """What one column holds.

    Attributes:
        name: Column name as in the file.
        kind: One of "numeric", "datetime", "categorical", "text", "id", "empty".
        n_unique: Distinct non-missing values.
        n_missing: Missing (or unparseable) values.
        detail: Human-readable reason for the kind.
    """

    name: str
    kind: str
    n_unique: int
    n_missing: int
    detail: str


def dataset_name(path: Path | str) -> str:
    """A short dataset name: a file's stem or a folder's name ("." resolved to the real folder)."""
    path = Path(path)
    return path.stem if path.is_file() else path.resolve().name


def _ends_with(name: str, vocabulary: frozenset[str]) -> bool:
    parts = tokens(name)
    return bool(parts) and parts[-1] in vocabulary


def is_time_name(name: str) -> bool:
    """True for names ending in a time word: date, Month, order_time, ds (not time_spent)."""
    return _ends_with(name, TIME_WORDS)


def is_id_name(name: str) -> bool:
    """True for names ending in an id word: id, series_id, SampleID (not case_count)."""
    return _ends_with(name, ID_WORDS)


def is_order_name(name: str) -> bool:
    """True for names ending in an order word: t, step, frame_index, timestamp."""
    return _ends_with(name, ORDER_WORDS)


@dataclass
class TableRead:
    """A table as read from a file, and what reading it took.

    Attributes:
        frame: The table, with stripped, unique column names.
        encoding: The codec the text was decoded with ("utf-8", "cp1252", "utf-16-le"...; "parquet").
        delimiter: The field separator ("," ";" tab "|"; "" for Parquet).
        decimal_comma: Columns whose numbers were written with a decimal comma (150,5) and read as numbers.
        notes: What a user should know about the reading (the encoding, decimal commas).
    """

    frame: pd.DataFrame
    encoding: str = "utf-8"
    delimiter: str = ","
    decimal_comma: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?(?:[eE][+-]?\d+)?")
_SNIFF_CHARS = 65536
_SNIFF_ROWS = 50


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(
            f"cannot read the file ({exc.strerror}); check that it exists and is readable", path=path
        ) from exc


def _delimiter(text: str, suffix: str) -> str:
    """The delimiter (, ; tab |) that splits the header into most fields and the next rows into as many.

    A candidate counts when at least 90% of the first rows have the header's number of fields; among those
    the most fields wins, then the order , ; tab |. Comma when none splits the header.
    """
    if suffix == ".tsv":
        return "\t"
    head = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in head:
        head = head[: head.rindex("\n")]
    best, best_score = ",", (False, 1)
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in itertools.islice(csv.reader(io.StringIO(head), delimiter=delimiter), _SNIFF_ROWS) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        steady = sum(len(r) == len(rows[0]) for r in rows) >= 0.9 * len(rows)
        score = (steady, len(rows[0]))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _decimal_comma_column(series: pd.Series) -> pd.Series | None:
    """A string column of decimal-comma numbers (150,5 or 1.234,5) as float64, or None when it is not one.

    At least 95% of the non-blank values must be such numbers and one must hold a comma; the rest (a stray
    "n/a") become NaN, as in any numeric column.
    """
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    text = series.astype("string").str.strip()
    present = text[text.notna() & (text != "")]
    if present.empty or not present.str.contains(",", regex=False).any():
        return None
    matches = present.str.fullmatch(_DECIMAL_COMMA)
    if matches.mean() < 0.95:
        return None
    normal = text.where(text.str.fullmatch(_DECIMAL_COMMA).fillna(False).astype(bool))
    normal = normal.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(normal, errors="coerce").astype("float64")


def _fix_decimal_commas(frame: pd.DataFrame) -> list[str]:
    """Turn decimal-comma columns of `frame` into numbers in place; their names."""
    fixed = []
    for name in frame.columns:
        values = _decimal_comma_column(frame[name])
        if values is not None:
            frame[name] = values
            fixed.append(str(name).strip())
    return fixed


def _parse_csv(text: str, delimiter: str, path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, skipinitialspace=True, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError("the file is empty; write a header row and data rows", path=path) from exc
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "parse error"
        raise DataError(f"cannot parse the table ({first}); check the delimiter and quoting", path=path) from exc
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read the table ({first}); save it as UTF-8 CSV or Parquet", path=path) from exc


def _read_text_table(path: Path) -> TableRead:
    """A CSV/TSV with its encoding, delimiter and decimal commas detected (see `read_table`)."""
    decoded = decode_text(
        _read_bytes(path), path, what="a text table", fix="re-save it as UTF-8 CSV, or export it as Parquet"
    )
    if not decoded.text.strip():
        raise DataError("the file is empty; write a header row and data rows", path=path)
    delimiter = _delimiter(decoded.text, path.suffix.lower())
    frame = _parse_csv(decoded.text, delimiter, path)
    notes = [decoded.note] if decoded.note else []
    fixed = _fix_decimal_commas(frame) if delimiter != "," else []
    if fixed:
        notes.append(
            f"decimal commas (150,5) read as numbers in the {_DELIMITER_NAMES[delimiter]}-separated file: "
            + ", ".join(fixed[:10])
            + (f" and {len(fixed) - 10} more" if len(fixed) > 10 else "")
        )
    return TableRead(frame, decoded.encoding, delimiter, fixed, notes)


def read_table(path: Path) -> TableRead:
    """Read a whole CSV/TSV/Parquet file, with what the reading took.

    Text is decoded without replacing a character (archpick.decoding.decode_text: a byte-order mark, UTF-8,
    else Windows-1252 with a note, else a refusal); the delimiter is detected (, ; tab |); with a delimiter
    other than a comma, columns of decimal-comma numbers are read as numbers, with a note. Whole files are
    read: counts must be exact, and pandas reads a few MB in milliseconds.

    Args:
        path: The file.

    Returns:
        The frame (at least one row and one column; column names are stripped, unique strings) and notes.

    Raises:
        DataError: When the file is empty, binary, in an encoding no safe decoding explains, has no data
            rows or cannot be parsed.
    """
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            read = TableRead(pd.read_parquet(path), "parquet", "")
        except (OSError, ValueError, ImportError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"cannot read the table ({first}); save it as UTF-8 CSV or Parquet", path=path) from exc
    else:
        read = _read_text_table(path)
    frame = read.frame
    frame.columns = [str(c).strip() or f"column_{i}" for i, c in enumerate(frame.columns)]
    if frame.columns.duplicated().any():
        seen: dict[str, int] = {}
        names = []
        for c in frame.columns:
            seen[c] = seen.get(c, -1) + 1
            names.append(c if seen[c] == 0 else f"{c}.{seen[c]}")
        frame.columns = names
    if frame.shape[1] == 0:
        raise DataError("the table has no columns; write a header row", path=path)
    if len(frame) == 0:
        raise DataError("the table has a header but no data rows; add rows", path=path)
    return read


def read_frame(path: Path) -> pd.DataFrame:
    """Read a whole CSV/TSV/Parquet file into a DataFrame with clean column names (see `read_table`).

    Raises:
        DataError: When the file cannot be used as a table (see `read_table`).
    """
    return read_table(path).frame


def as_numeric(series: pd.Series) -> pd.Series:
    """The column as float64, unparseable values as NaN (booleans become 0/1)."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    return pd.to_numeric(series.astype("string").str.strip(), errors="coerce").astype("float64")


def numeric_matrix(frame: pd.DataFrame, names: list[str] | None = None, dtype: type = np.float64) -> np.ndarray:
    """Columns as a writable (rows, columns) float array; unparseable and infinite values become NaN."""
    part = frame if names is None else frame[list(names)]
    out = np.empty((len(frame), part.shape[1]), dtype=dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float32 range -> inf -> NaN below
        for j in range(part.shape[1]):
            out[:, j] = as_numeric(part.iloc[:, j]).to_numpy(np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


DATETIME_UNIT = "datetime64[us]"
"""Resolution of parsed times: microseconds span years 1 to 9999 (nanoseconds only 1677-2262)."""

_UTC_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$")


def _parse_dates(text: pd.Series, **kwargs: Any) -> pd.Series | None:
    """pd.to_datetime with unparseable values as NaT, or None when pandas refuses the whole column."""
    try:
        return pd.to_datetime(text, errors="coerce", **kwargs)
    except (ValueError, TypeError, OverflowError):
        return None


def as_datetime(series: pd.Series) -> pd.Series:
    """The column as naive datetime64[us]; unparseable values become NaT.

    Times with UTC offsets, even mixed ones (a daylight-saving change from +01:00 to +02:00), are
    converted to UTC, so the steps stay regular. Microseconds reach back before 1677, where pandas'
    default nanoseconds end.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        out: pd.Series | None = series
    else:
        text = series.astype("string").str.strip()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = _parse_dates(text)
            if out is None:  # mixed UTC offsets: pandas asks for utc=True
                out = _parse_dates(text, utc=True)
            if out is None or out.isna().mean() > 0.1:
                retry = _parse_dates(text, format="mixed", utc=True)
                if retry is not None and (out is None or retry.notna().sum() > out.notna().sum()):
                    out = retry
    if out is None:
        return pd.Series(pd.NaT, index=series.index, dtype=DATETIME_UNIT)
    try:
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(None)
        return out.astype(DATETIME_UNIT)
    except (AttributeError, TypeError, ValueError, OverflowError):
        return pd.Series(pd.NaT, index=series.index, dtype=DATETIME_UNIT)


def has_utc_offsets(series: pd.Series) -> bool:
    """True when some values of a string column end in a UTC offset (+02:00, -0500, Z)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return getattr(series.dt, "tz", None) is not None
    text = series.dropna().astype("string").str.strip()
    return bool(text.str.contains(_UTC_OFFSET).any())


def _is_number(text: str) -> bool:
    if "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _date_like(head: list[str]) -> bool:
    """True when short strings look like dates (digits split by - / . : T, a year, a month name): 90% do."""
    return bool(head) and max(map(len, head)) <= 40 and sum(bool(_DATE_HINT.search(v)) for v in head) >= 0.9 * len(head)


def looks_like_dates(series: pd.Series) -> bool:
    """True for a string column whose first values look like dates, whether or not they parse."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    text = series.dropna().astype("string").str.strip()
    return _date_like([v for v in text.iloc[:500] if v])


def classify_column(series: pd.Series, name: str | None = None) -> ColumnInfo:
    """Tell what one column holds.

    Rules, in order: all missing -> empty; numeric dtype (or >= 95% of the strings parse as numbers) ->
    numeric; datetime dtype (or >= 90% of date-looking strings parse as dates) -> datetime; strings with a
    mean of at least TEXT_MIN_WORDS words -> text; strings that are unique per row, without spaces, in more
    than 20 rows -> id; other strings -> categorical. String rules look at the first CLASSIFY_SAMPLE
    non-blank values; counts cover the whole column.

    Args:
        series: The column.
        name: Its name (defaults to series.name).

    Returns:
        A ColumnInfo with the kind and a human-readable reason.
    """
    name = str(series.name if name is None else name)
    n = len(series)
    present = series.dropna()
    n_missing = n - len(present)
    if len(present) == 0:
        return ColumnInfo(name, "empty", 0, n_missing, "every value is missing")
    if pd.api.types.is_bool_dtype(series):
        return ColumnInfo(name, "categorical", int(present.nunique()), n_missing, "boolean values")
    if pd.api.types.is_datetime64_any_dtype(series):
        return ColumnInfo(name, "datetime", int(present.nunique()), n_missing, "datetime values")
    if pd.api.types.is_numeric_dtype(series):
        values = present.astype("float64")
        return ColumnInfo(name, "numeric", int(values.nunique()), n_missing, "numeric values")
    if len(present) > CLASSIFY_SAMPLE:
        text = present.astype("string").str.strip()
        text = text[text != ""]
        sample = list(text.iloc[:CLASSIFY_SAMPLE])
        n_text, n_unique = len(text), int(text.nunique())
    else:
        stripped = (str(v).strip() for v in present)
        sample = [v for v in stripped if v]
        n_text, n_unique = len(sample), len(set(sample))
    n_missing = n - n_text
    if not sample:
        return ColumnInfo(name, "empty", 0, n_missing, "every value is blank")
    parsed = sum(map(_is_number, sample)) / len(sample)
    if parsed >= 0.95:
        return ColumnInfo(name, "numeric", n_unique, n_missing, f"{parsed:.0%} of the strings are numbers")
    head = sample[:500]
    if _date_like(head) and as_datetime(pd.Series(head)).notna().mean() >= 0.9:
        return ColumnInfo(name, "datetime", n_unique, n_missing, "strings that parse as dates")
    mean_words = sum(len(v.split()) for v in sample) / len(sample)
    if mean_words >= TEXT_MIN_WORDS:
        return ColumnInfo(name, "text", n_unique, n_missing, f"free text, mean {mean_words:.1f} words")
    if n_unique == n_text and n_text > 20 and not any(len(v.split()) > 1 for v in sample):
        return ColumnInfo(name, "id", n_unique, n_missing, "a distinct token in every row")
    detail = f"{n_unique} distinct strings"
    if parsed >= 0.5:
        others = sorted({v for v in sample if not _is_number(v)})[:3]
        detail += f", {parsed:.0%} of them numbers (not numbers: {', '.join(map(repr, others))})"
    return ColumnInfo(name, "categorical", n_unique, n_missing, detail)


def classify_columns(frame: pd.DataFrame) -> dict[str, ColumnInfo]:
    """classify_column for every column, in file order."""
    return {str(c): classify_column(frame[c], str(c)) for c in frame.columns}


def label_column(frame: pd.DataFrame, target: str | None, path: Path | str) -> str:
    """The label/target column: --target, else one named like a label, else the last column.

    Raises:
        DataError: When --target names a column the file lacks.
    """
    columns = [str(c) for c in frame.columns]
    if target is not None:
        if target in columns:
            return target
        folded = {c.lower(): c for c in columns}
        if target.lower() in folded:
            return folded[target.lower()]
        raise DataError(
            f"target column {target!r} is missing; the columns are {', '.join(columns[:20])}; "
            "pass one of them with --target",
            path=path,
        )
    named = named_label(columns)
    return named if named is not None else columns[-1]


def named_label(columns: Iterable[str]) -> str | None:
    """The first column named like a label (label, target, class, y, category), or None."""
    for c in columns:
        if str(c).strip().lower() in LABEL_NAMES:
            return str(c)
    return None


def is_integral(values: pd.Series) -> bool:
    """True when every finite value is a whole number."""
    finite = values[np.isfinite(values)]
    return bool(len(finite)) and bool(np.all(np.floor(finite) == finite))


def target_task(series: pd.Series) -> tuple[str, str]:
    """Classification or regression for a target column, with the reason.

    Strings, booleans and whole numbers with at most MAX_CLASSES distinct values (fewer than half the rows)
    are classes; other numbers are a regression target.
    """
    info = classify_column(series)
    if info.kind == "empty":
        return "classification", "every target value is missing"
    if info.kind != "numeric":
        return "classification", f"{info.n_unique} distinct non-numeric labels"
    values = as_numeric(series).dropna()
    values = values[np.isfinite(values)]
    n_unique = int(values.nunique())
    if is_integral(values) and n_unique <= MAX_CLASSES and n_unique < max(len(values) / 2, 3):
        return "classification", f"{n_unique} distinct whole-number labels"
    return "regression", f"numeric target with {n_unique} distinct values"


def label_text(value: object) -> str:
    """A label as a string: whole floats lose their ".0", strings are stripped."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace").strip()
    return str(value).strip()


def class_order(names: Iterable[str]) -> list[str]:
    """Distinct class names sorted: numerically when all are numbers, else as strings."""
    unique = sorted(set(names))
    try:
        return sorted(unique, key=lambda s: (float(s), s))
    except ValueError:
        return unique


def encode_labels(*label_sets: Iterable[object]) -> tuple[list[np.ndarray], list[str], list[dict[str, int]]]:
    """Turn label lists into integer indices into one shared, sorted class list.

    Args:
        *label_sets: One or more label sequences (e.g. train and test) sharing a class list.

    Returns:
        (indices per set as int64 arrays, class names, class -> count per set).
    """
    texts = [[label_text(v) for v in labels] for labels in label_sets]
    names = class_order(t for group in texts for t in group)
    index = {name: i for i, name in enumerate(names)}
    encoded = [np.asarray([index[t] for t in group], dtype=np.int64) for group in texts]
    counts = []
    for group in texts:
        count = {name: 0 for name in names}
        for t in group:
            count[t] += 1
        counts.append({k: v for k, v in count.items() if v})
    return encoded, names, counts


def encode_targets(task: str, *label_sets: Iterable[object]) -> tuple[list[np.ndarray], list[str]]:
    """Bundle targets: int64 indices into one shared sorted class list, or float32 values for regression.

    Returns:
        (one array per label set, class names or [] for regression).
    """
    if task == "classification":
        encoded, names, _ = encode_labels(*label_sets)
        return encoded, names
    return [as_numeric(pd.Series(list(s), dtype=object)).to_numpy(np.float32) for s in label_sets], []


def bundle_from_sets(
    xs: list[np.ndarray], ys: list[np.ndarray], class_names: list[str], input_spec: InputSpec, **extra: Any
) -> Bundle:
    """A shuffled-split Bundle from [train] or [train, test] inputs and targets."""
    return Bundle(
        x=xs[0],
        y=ys[0],
        class_names=class_names,
        x_test=xs[1] if len(xs) > 1 else None,
        y_test=ys[1] if len(ys) > 1 else None,
        input_spec=input_spec,
        split="stratified",
        **extra,
    )


def check_kind(kind: str | None, allowed: Iterable[str], what: str) -> None:
    """Refuse a --kind that this source cannot produce.

    Raises:
        OptionError: Naming the kinds that fit.
    """
    allowed = list(allowed)
    if kind is not None and kind not in allowed:
        raise OptionError(f"--kind {kind} does not fit {what}; use --kind {' or '.join(allowed)} or leave it out")


def check_samples(n: int, what: str, path: Path | str) -> None:
    """Refuse a dataset with fewer than MIN_SAMPLES usable samples.

    Raises:
        DataError: Saying how many there are and how many are needed.
    """
    if n < MIN_SAMPLES:
        raise DataError(
            f"only {n} {what}; archpick needs at least {MIN_SAMPLES} to train, validate and test", path=path
        )


def check_classes(classes: dict[str, int], what: str, path: Path | str, guessed: bool = False) -> None:
    """Refuse a classification target with fewer than two classes, or a distinct label in most rows.

    Args:
        classes: Class -> count.
        what: The label, in words ("target column 'kind'").
        path: The file, named in errors.
        guessed: The label column was guessed (no --target, none named like a label): the error says so.

    Raises:
        DataError: Naming the single class, or saying that the column looks like an id.
    """
    if len(classes) < 2:
        only = next(iter(classes), "none")
        fix = "; pass the label column with --target" if guessed else ""
        raise DataError(f"{what} has only one class ({only!r}); a classifier needs at least two{fix}", path=path)
    rows = sum(classes.values())
    if rows > 20 and len(classes) > rows / 2:
        raise DataError(
            f"{what} has {len(classes)} distinct labels in {rows} rows, not classes; "
            "pass the label column with --target",
            path=path,
        )


def file_list(files: dict[str, str]) -> list[str]:
    """The training file, then the test file if there is one."""
    return [files["train"]] + ([files["test"]] if "test" in files else [])


def model_columns(frame: pd.DataFrame, spec: InputSpec, file: Path) -> list[str]:
    """The columns a model takes (`spec.columns`), checked present in new data; all numeric ones if unnamed."""
    columns = list(spec.columns or [])
    if not columns:
        return [c for c, i in classify_columns(frame).items() if i.kind == "numeric"]
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(
            f"columns {', '.join(absent[:6])} are missing; give the columns the model was trained on",
            path=file,
        )
    return columns
