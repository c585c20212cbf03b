"""A series read from a table onto a regular time grid: the time column, the frequency (including dates
before 1677 and after 2262, as periods), gaps inserted and values imputed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.errors import DataError

MAX_MISSING = 0.5
"""A target with a larger fraction of missing values (gaps included) is refused."""

_CALENDAR = (  # (lowest days, highest days, words, pandas period alias, season prior)
    (360.0, 370.0, "yearly", "Y", None),
    (88.0, 93.0, "quarterly", "Q", 4),
    (27.5, 31.5, "monthly", "M", 12),
)
_FIXED = {  # exact step in seconds -> (words, season prior)
    7 * 86400: ("weekly", 52),
    86400: ("daily", 7),
    3600: ("hourly", 24),
    60: ("minutely", 60),
    1: ("secondly", 60),
}


@dataclass
class PreparedSeries:
    """A series on a regular grid, imputed, with what was done to it.

    Attributes:
        values: (n, F) float64 values, no NaN.
        columns: Names of the F value columns.
        target: The forecast target column (one of columns).
        times: Timestamps as ISO strings (row numbers when there is no time column).
        time_column: The time column, or None for row order.
        frequency: The step in words ("monthly", "every 15 minutes", "step 1", "row order").
        prior: A season suggested by the frequency (monthly -> 12), or None.
        gaps: Missing steps inserted into the grid.
        n_missing: Missing values filled (gaps included).
        was_sorted: True when the rows were already in time order.
        notes: Things done to the data.
    """

    values: np.ndarray
    columns: list[str]
    target: str
    times: list[str]
    time_column: str | None
    frequency: str
    prior: int | None
    gaps: int
    n_missing: int
    was_sorted: bool
    notes: list[str] = field(default_factory=list)

    @property
    def target_values(self) -> np.ndarray:
        """The target column as a float64 vector."""
        return self.values[:, self.columns.index(self.target)]


def detect_time_column(frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo]) -> tuple[str | None, str]:
    """The column that orders the rows in time, with the reason, or (None, why not).

    A datetime column wins; else a monotone numeric column named like time (month, year, timestamp...);
    else a strictly increasing numeric index named like an order (t, step, index...) or holding whole years
    (1000-2300). Most values must be distinct (at most 10% duplicates); id-named columns never count.
    """
    n = len(frame)
    candidates = []
    for name, info in infos.items():
        if info.kind == "datetime":
            candidates.append((0, name, f"datetime column {name!r}"))
        elif info.kind == "numeric" and not cols.is_id_name(name):
            values = cols.as_numeric(frame[name]).dropna()
            if len(values) < 3:
                continue
            increasing = values.is_monotonic_increasing and values.is_unique
            if cols.is_time_name(name) and (increasing or values.is_monotonic_decreasing):
                candidates.append((1, name, f"monotone numeric column {name!r} named like time"))
            elif increasing and cols.is_order_name(name):
                candidates.append((2, name, f"increasing numeric index {name!r}"))
            elif increasing and cols.is_integral(values) and values.between(1000, 2300).all():
                candidates.append((3, name, f"numeric column {name!r} holding increasing years"))
    for _, name, why in sorted(candidates):
        if frame[name].nunique(dropna=True) >= 0.9 * n:
            return name, why
    return None, "no datetime column, no numeric column named like time"


def _offsets(stamps: pd.Series, is_datetime: bool) -> np.ndarray:
    """Time since the first stamp: seconds for datetimes, raw units for numbers.

    Datetimes are counted in whole microseconds, so spans of centuries (and years before 1677, where
    pandas' nanoseconds end) do not overflow.
    """
    if is_datetime:
        micros = stamps.to_numpy().astype("datetime64[us]").astype(np.int64)
        return (micros - micros[0]) / 1e6
    values = stamps.to_numpy(np.float64)
    return values - values[0]


def _duration(seconds: float) -> str:
    """A time step as pandas writes a Timedelta ("0 days 00:15:00"), in days beyond its range."""
    try:
        return str(pd.Timedelta(int(round(seconds * 1e6)), unit="us"))
    except (OverflowError, ValueError):
        return f"{seconds / 86400:g} days"


def _at(first: pd.Timestamp, seconds: np.ndarray) -> pd.DatetimeIndex:
    """The times `seconds` after `first` (microsecond resolution, any century)."""
    start = np.datetime64(first.to_datetime64(), "us")
    return pd.DatetimeIndex(start + np.rint(np.asarray(seconds) * 1e6).astype(np.int64).astype("timedelta64[us]"))


def _frequency(stamps: pd.Series, is_datetime: bool) -> tuple[str, str | None, float, int | None]:
    """(words, calendar period alias or None, step, season prior) for increasing time stamps.

    The step is in seconds for datetimes, in the column's units for numbers.
    """
    step = float(np.median(np.diff(_offsets(stamps, is_datetime))))
    if not is_datetime:
        return f"step {step:g}", None, step, None
    days = step / 86400
    for low, high, name, alias, prior in _CALENDAR:
        if low <= days <= high:
            return name, alias, step, prior
    for exact, (name, prior) in _FIXED.items():
        if math.isclose(step, exact):
            return name, None, step, prior
    return f"every {_duration(step)}", None, step, None


def _positions(stamps: pd.Series, is_datetime: bool, alias: str | None, step: float) -> np.ndarray:
    """Integer grid position of each (sorted, distinct) time stamp."""
    if alias is not None:
        ordinals = pd.DatetimeIndex(stamps).to_period(alias).asi8
        return (ordinals - ordinals[0]).astype(np.int64)
    return np.rint(_offsets(stamps, is_datetime) / step).astype(np.int64)


def _grid_times(
    stamps: pd.Series, positions: np.ndarray, length: int, is_datetime: bool, alias: str | None, step: float
) -> list[str]:
    """ISO strings for every grid step: observed stamps where present, generated ones in the gaps."""
    first = stamps.iloc[0]
    if alias is not None:
        grid = list(pd.period_range(pd.Period(first, freq=alias), periods=length, freq=alias).to_timestamp())
    elif is_datetime:
        grid = list(_at(first, np.arange(length) * step))
    else:
        grid = list(float(first) + np.arange(length) * step)
    for pos, stamp in zip(positions, stamps, strict=True):
        grid[pos] = stamp
    if is_datetime:
        return [t.isoformat() for t in grid]
    return [str(int(t)) if float(t).is_integer() else repr(float(t)) for t in grid]


@dataclass
class _Grid:
    values: np.ndarray
    times: list[str]
    frequency: str
    prior: int | None
    gaps: int
    notes: list[str]


def _is_regular(offsets: np.ndarray, step: float) -> bool:
    """True when at least 95% of the steps are whole multiples of `step` (within 5% of it)."""
    diffs = np.diff(offsets)
    off = np.abs(diffs - np.maximum(np.rint(diffs / step), 1) * step)
    return bool(np.mean(off <= 0.05 * step) >= 0.95)


def _regularise(stamps: pd.Series, values: np.ndarray, is_datetime: bool, time_column: str, path: Path | str) -> _Grid:
    """Put sorted, distinct time stamps on a regular grid.

    Regular data (calendar months/quarters/years, or steps that are whole multiples of the median step)
    keeps its rows; missing steps are inserted as NaN (refused when they are over half the grid).
    Irregular data is resampled onto a grid of the median step by linear interpolation in time.
    """
    frequency, alias, step, prior = _frequency(stamps, is_datetime)
    offsets = _offsets(stamps, is_datetime)
    if alias is None and not _is_regular(offsets, step):
        if offsets[-1] / step > 4 * len(offsets):  # bursts of close stamps: use the mean step instead
            step = offsets[-1] / (len(offsets) - 1)
            frequency = f"every {_duration(step)}" if is_datetime else f"step {step:g}"
            prior = None
        grid = np.arange(0.0, offsets[-1] + step / 2, step)
        out = np.full((len(grid), values.shape[1]), np.nan)
        for j in range(values.shape[1]):
            ok = np.isfinite(values[:, j])
            if ok.any():
                out[:, j] = np.interp(grid, offsets[ok], values[ok, j])
        first = stamps.iloc[0]
        if is_datetime:
            times = [t.isoformat() for t in _at(first, grid)]
        else:
            times = [f"{float(first) + g:g}" for g in grid]
        steps = np.diff(offsets)
        lo, hi = (_duration(v) if is_datetime else f"{v:g}" for v in (steps.min(), steps.max()))
        note = (
            f"irregular sampling in {time_column!r} (steps from {lo} to {hi}): resampled {len(offsets)} rows "
            f"to {len(grid)} regular steps ({frequency}) by linear interpolation"
        )
        return _Grid(out, times, frequency, prior, 0, [note])
    notes = []
    positions = _positions(stamps, is_datetime, alias, step)
    keep = np.r_[positions[1:] != positions[:-1], True]
    if not keep.all():
        notes.append(f"{int((~keep).sum())} rows fall on the same {frequency} step: kept the last of each")
        stamps, values, positions = stamps[keep].reset_index(drop=True), values[keep], positions[keep]
    length = int(positions[-1]) + 1
    gaps = length - len(positions)
    if gaps > len(positions):
        raise DataError(
            f"{gaps} of {length} {frequency} steps are missing in {time_column!r} (over 50%); "
            "fill the gaps or pass --kind table",
            path=path,
        )
    times = _grid_times(stamps, positions, length, is_datetime, alias, step)
    if gaps:
        grid_values = np.full((length, values.shape[1]), np.nan)
        grid_values[positions] = values
        values = grid_values
        notes.append(f"{gaps} missing {frequency} steps inserted")
    return _Grid(values, times, frequency, prior, gaps, notes)


def _read_stamps(
    frame: pd.DataFrame, time_column: str | None, path: Path | str
) -> tuple[pd.DataFrame, pd.Series | None, bool, list[str]]:
    """Parse the time column; drop rows without a readable time and all but the last of duplicate times.

    Returns:
        (the remaining rows, their times or None for row order, whether the times are datetimes, notes).

    Raises:
        DataError: A missing time column, or one without a single readable time.
    """
    if time_column is None:
        return frame, None, False, []
    if time_column not in frame.columns:
        raise DataError(f"time column {time_column!r} is missing; check the file", path=path)
    notes: list[str] = []
    column = frame[time_column]
    is_datetime = cols.classify_column(column).kind == "datetime"
    stamps = cols.as_datetime(column) if is_datetime else cols.as_numeric(column)
    bad = stamps.isna() if is_datetime else ~np.isfinite(stamps)
    if bad.all():
        raise DataError(
            f"the time column {time_column!r} holds no readable times; fix it or pass --kind table", path=path
        )
    if is_datetime and cols.has_utc_offsets(column):
        notes.append(
            f"times in {time_column!r} carry UTC offsets: read as UTC, so a daylight-saving change keeps steps even"
        )
    if bad.any():
        notes.append(f"dropped {int(bad.sum())} rows whose time in {time_column!r} could not be read")
        frame, stamps = frame[~bad].reset_index(drop=True), stamps[~bad].reset_index(drop=True)
    dup = stamps.duplicated(keep="last")
    if dup.any():
        notes.append(f"{int(dup.sum())} duplicate times in {time_column!r}: kept the last row of each")
        frame, stamps = frame[~dup].reset_index(drop=True), stamps[~dup].reset_index(drop=True)
    return frame, stamps, is_datetime, notes


def prepare(frame: pd.DataFrame, time_column: str | None, target: str | None, path: Path | str) -> PreparedSeries:
    """Order, de-duplicate, regularise and impute a series table.

    Args:
        frame: The table as read.
        time_column: The time column, or None to take the row order as time.
        target: The target column, or None for a column named like a label, else the last numeric one.
        path: The file, named in errors.

    Returns:
        The prepared series.

    Raises:
        DataError: No numeric column, a missing or non-numeric target, or more than half the target missing.
    """
    frame, stamps, is_datetime, notes = _read_stamps(frame.reset_index(drop=True), time_column, path)
    value_columns, dropped = [], []
    for name in frame.columns:
        if name == time_column:
            continue
        info = cols.classify_column(frame[name])
        if info.kind == "numeric" and not cols.is_id_name(name):
            value_columns.append(name)
        else:
            dropped.append(name)
    if target is not None:
        target = cols.label_column(frame, target, path)
        if target == time_column:
            raise DataError(
                f"target column {target!r} is the time column; pass a value column with --target", path=path
            )
        if target not in value_columns:
            raise DataError(f"target column {target!r} is not numeric; pass a numeric column with --target", path=path)
    if not value_columns:
        raise DataError("no numeric column to forecast; add one or pass --kind table", path=path)
    if target is None:
        named = cols.named_label(value_columns)
        target = named if named is not None else value_columns[-1]
    if dropped:
        notes.append(f"non-numeric or id columns not used: {', '.join(dropped[:10])}")

    values = cols.numeric_matrix(frame, value_columns)
    was_sorted = True
    if stamps is not None and len(stamps) > 1:
        if not stamps.is_monotonic_increasing:
            was_sorted = False
            order = np.argsort(stamps.to_numpy(), kind="stable")
            stamps, values = stamps.iloc[order].reset_index(drop=True), values[order]
            notes.append(f"rows were not in time order: sorted by {time_column!r}")
        grid = _regularise(stamps, values, is_datetime, time_column, path)
        values, times, frequency, prior, gaps = grid.values, grid.times, grid.frequency, grid.prior, grid.gaps
        notes += grid.notes
    else:
        frequency, prior, gaps = "row order", None, 0
        times = [str(i) for i in range(len(values))]

    target_index = value_columns.index(target)
    missing = np.isnan(values)
    share = float(missing[:, target_index].mean())
    if share > MAX_MISSING:
        raise DataError(
            f"{share:.0%} of target column {target!r} is missing (over 50%); fill it or choose another --target",
            path=path,
        )
    sparse = [c for i, c in enumerate(value_columns) if i != target_index and missing[:, i].mean() > MAX_MISSING]
    if sparse:
        keep_cols = [i for i, c in enumerate(value_columns) if c not in sparse]
        values, missing = values[:, keep_cols], missing[:, keep_cols]
        value_columns = [value_columns[i] for i in keep_cols]
        notes.append(f"columns over 50% missing not used: {', '.join(sparse[:10])}")
    n_missing = int(missing.sum())
    if n_missing:
        values = pd.DataFrame(values).interpolate(method="linear", limit_direction="both").to_numpy(np.float64)
        notes.append(f"{n_missing} missing values filled by linear interpolation")
    return PreparedSeries(
        values=values,
        columns=list(value_columns),
        target=target,
        times=times,
        time_column=time_column,
        frequency=frequency,
        prior=prior,
        gaps=gaps,
        n_missing=n_missing,
        was_sorted=was_sorted,
        notes=notes,
    )


def select_columns(series: PreparedSeries, names: list[str], path: str) -> PreparedSeries:
    """Keep the profiled value columns, in the profiled order."""
    missing = [c for c in names if c not in series.columns]
    if missing:
        raise DataError(f"columns {missing} are missing or not numeric; give the columns {', '.join(names)}", path=path)
    index = [series.columns.index(c) for c in names]
    series.values, series.columns = series.values[:, index], list(names)
    return series
