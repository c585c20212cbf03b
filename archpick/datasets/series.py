"""Forecasting series read from a CSV/Parquet table: time order, frequency, gaps, season and windows.

Reached through tables.py, which decides that a table is a series; `load` cuts sliding windows of raw
(unscaled) values: the model scales inside itself, so predicting after the end of a series needs nothing
but the last `lookback` rows (see `windows_from_frame`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.datasets.base import Bundle, DataOptions
from archpick.errors import DataError, OptionError
from archpick.profile import DatasetProfile, Structure

SOURCE_NAMES = frozenset({"series-csv"})

MAX_MISSING = 0.5
"""A target with a larger fraction of missing values (gaps included) is refused."""

MIN_WINDOWS = 10
"""Fewest windows a series must yield (train, validation and test are cut from them)."""

MIN_LOOKBACK = 8
"""The default lookback is never shorter than this (unless the series is too short for it)."""

MAX_SEASON_LAG = 400
"""Longest seasonal period looked for."""

MIN_SEASON_ACF = 0.3
"""Weakest autocorrelation peak taken for a season (noise of a few hundred steps reaches about 0.2)."""

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


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation of x at lags 0..max_lag (FFT, biased estimator)."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    n = len(x)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    return acov / acov[0] if acov[0] > 0 else np.zeros(max_lag + 1)


def seasonal_period(y: np.ndarray, prior: int | None = None) -> tuple[int | None, float | None, str]:
    """The seasonal period from the autocorrelation (ACF) of the detrended and the differenced series.

    Candidate lags are 2..min(n/3, MAX_SEASON_LAG). A candidate is a local peak of the ACF of the linearly
    detrended series above max(MIN_SEASON_ACF, 3/sqrt(n)) where the differenced series' ACF also exceeds
    that threshold within one lag (detrending keeps smooth seasons sharp; differencing rejects the slow
    wander of random walks). The highest candidate wins, except that a divisor candidate at least 0.8 as
    high wins over its multiple (12 over 24), and the frequency prior (monthly -> 12) wins when it is such
    a candidate too.

    Args:
        y: The target series.
        prior: A season suggested by the frequency, or None.

    Returns:
        (period or None, its ACF value or None, a human-readable reason).
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    max_lag = min(n // 3, MAX_SEASON_LAG)
    if max_lag < 3 or n < 8:
        return None, None, f"no season: {n} steps are too few for an autocorrelation"
    steps = np.arange(n, dtype=np.float64)
    detrended = y - np.polyval(np.polyfit(steps, y, 1), steps)
    diff = np.diff(y)
    if not (np.std(detrended) > 0 and np.std(diff) > 0):
        return None, None, "no season: the series is a straight line"
    acf = autocorrelation(detrended, max_lag)
    acf_diff = autocorrelation(diff, max_lag)
    threshold = max(MIN_SEASON_ACF, 3.0 / math.sqrt(n))
    peaks = [
        k
        for k in range(2, max_lag)
        if acf[k] > threshold
        and acf[k] >= acf[k - 1]
        and acf[k] >= acf[k + 1]
        and acf_diff[k - 1 : k + 2].max() > threshold
    ]
    if not peaks:
        return None, None, f"no season: no autocorrelation peak above {threshold:.2f} at lags 2-{max_lag}"
    best = max(peaks, key=lambda k: acf[k])
    for k in peaks:
        if k < best and best % k == 0 and acf[k] >= 0.8 * acf[best]:
            best = k
            break
    reason = (
        f"highest autocorrelation peak at lag {best} (ACF {acf[best]:.2f} detrended, "
        f"{acf_diff[best - 1 : best + 2].max():.2f} differenced)"
    )
    if prior is not None and prior != best and prior in peaks and acf[prior] >= 0.8 * acf[best]:
        reason = (
            f"frequency prior {prior} is an autocorrelation peak (ACF {acf[prior]:.2f}) close to the "
            f"highest at lag {best} (ACF {acf[best]:.2f})"
        )
        best = prior
    elif prior is not None and prior == best:
        reason += f", matching the frequency prior {prior}"
    return best, round(float(acf[best]), 4), reason


@dataclass
class Plan:
    """Window sizes for a series: lookback, horizon, season and the windows they leave."""

    lookback: int
    horizon: int
    season: int | None
    season_acf: float | None
    season_reason: str
    n_windows: int
    notes: list[str] = field(default_factory=list)


def plan_windows(series: PreparedSeries, opts: DataOptions, path: Path | str) -> Plan:
    """Choose season, horizon and lookback.

    Defaults: horizon = the season when one is found and it is at most n/8 steps, else 1;
    lookback = max(2 * season, 3 * horizon, MIN_LOOKBACK), shortened so that MIN_WINDOWS windows fit.

    Raises:
        OptionError: A horizon or lookback below 1.
        DataError: A horizon not shorter than the series, a --lookback that does not fit, or a series too
            short for MIN_WINDOWS windows.
    """
    n = len(series.values)
    season, acf, reason = seasonal_period(series.target_values, series.prior)
    notes: list[str] = []
    if opts.horizon is not None and opts.horizon < 1:
        raise OptionError(f"--horizon must be at least 1, got {opts.horizon}")
    if opts.lookback is not None and opts.lookback < 1:
        raise OptionError(f"--lookback must be at least 1, got {opts.lookback}")
    if opts.horizon is not None:
        horizon = opts.horizon
    else:
        horizon = season if season is not None and season <= n // 8 else 1
    if horizon >= n and opts.horizon is None:
        raise DataError(f"the series has {n} steps, too few to forecast and test on; use a longer series", path=path)
    if horizon >= n:
        raise DataError(
            f"--horizon {horizon} is not shorter than the series ({n} steps); use a smaller --horizon",
            path=path,
        )
    room = n - horizon - MIN_WINDOWS + 1  # longest lookback that still leaves MIN_WINDOWS windows
    if opts.lookback is not None:
        lookback = opts.lookback
        if lookback > room:
            raise DataError(
                f"--lookback {lookback} with horizon {horizon} leaves fewer than {MIN_WINDOWS} windows in "
                f"{n} steps; use --lookback {max(room, 1)} or less",
                path=path,
            )
    else:
        lookback = max(2 * (season or 0), 3 * horizon, MIN_LOOKBACK)
        if lookback > room:
            if room < 2:
                raise DataError(
                    f"the series has {n} steps, too few for a {horizon}-step horizon and {MIN_WINDOWS} "
                    "windows to train and test on; use a longer series or a smaller --horizon",
                    path=path,
                )
            notes.append(f"lookback shortened from {lookback} to {room} steps to leave {MIN_WINDOWS} windows")
            lookback = room
    return Plan(
        lookback=lookback,
        horizon=horizon,
        season=season,
        season_acf=acf,
        season_reason=reason,
        n_windows=n - lookback - horizon + 1,
        notes=notes,
    )


def profile_series(
    path: Path,
    frame: pd.DataFrame,
    time_column: str | None,
    opts: DataOptions,
    files: dict[str, str],
    time_reason: str = "",
) -> DatasetProfile:
    """Profile a table as a forecasting series.

    Args:
        path: The dataset path as given.
        frame: The (training) table.
        time_column: The time column, or None for row order.
        opts: Data options (target, horizon, lookback).
        files: {"train": file, "test": file or absent}; kept in facts for `load`.
        time_reason: Why time_column was taken, for the evidence.

    Returns:
        A "timeseries" profile with task "forecasting" and source "series-csv".
    """
    series = prepare(frame, time_column, opts.target, files["train"])
    plan = plan_windows(series, opts, files["train"])
    n = len(series.values)
    n_test = None
    if "test" in files:
        test = prepare(cols.read_frame(Path(files["test"])), time_column, series.target, files["test"])
        _check_same_columns(series, test, files["test"])
        n_test = len(test.values) - plan.horizon + 1
        if n_test < 1:
            raise DataError(
                f"the test file has {len(test.values)} steps, fewer than the horizon {plan.horizon}; "
                "use a longer test file or a smaller --horizon",
                path=files["test"],
            )
    where = f"{series.frequency} time column {time_column!r}" if time_column else "row order"
    temporal = f"{where}, {n} steps, {'sorted' if series.was_sorted else 'sorted by archpick'}"
    if time_reason:
        temporal += f" ({time_reason})"
    facts: dict[str, Any] = {
        "files": files,
        "time_column": time_column,
        "target": series.target,
        "columns": series.columns,
        "n_features": len(series.columns),
        "length": n,
        "start": series.times[0],
        "end": series.times[-1],
        "frequency": series.frequency,
        "gaps": series.gaps,
        "missing_values": series.n_missing,
        "season": plan.season,
        "season_acf": plan.season_acf,
        "season_evidence": plan.season_reason,
        "lookback": plan.lookback,
        "horizon": plan.horizon,
        "n_windows": plan.n_windows,
    }
    structure = Structure(temporal=True, evidence={"temporal": temporal, "season": plan.season_reason})
    return DatasetProfile(
        path=str(path),
        name=cols.dataset_name(path),
        modality="timeseries",
        task="forecasting",
        source="series-csv",
        n_samples=plan.n_windows,
        split="files" if n_test else "holdout",
        n_test=n_test,
        target=series.target,
        facts=facts,
        structure=structure,
        notes=series.notes + plan.notes,
    )


def _check_same_columns(train: PreparedSeries, test: PreparedSeries, path: str) -> None:
    if test.columns != train.columns:
        raise DataError(
            f"the test file has columns {test.columns}, the training file {train.columns}; "
            "give both the same numeric columns",
            path=path,
        )


def _windows(values: np.ndarray, target: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """All (lookback, F) input windows and their (horizon,) targets, in time order."""
    count = len(values) - lookback - horizon + 1
    if count < 1:
        return (np.zeros((0, lookback, values.shape[1]), np.float32), np.zeros((0, horizon), np.float32))
    x = np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0)[:count]  # (count, F, lookback)
    y = np.lib.stride_tricks.sliding_window_view(target[lookback:], horizon)[:count]
    return np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32), np.ascontiguousarray(y, np.float32)


def load(profile: DatasetProfile, opts: DataOptions) -> Bundle:
    """Cut the series into raw sliding windows.

    Returns:
        A Bundle with x float32 (N, lookback, F), y float32 (N, horizon), split "chronological",
        extras {"series", "times", "target", "columns", "train_end"} (train_end: steps of the series that
        belong to the training file) and a "window" input_spec. A shipped test file
        gives x_test/y_test: windows whose targets lie in the test file, their inputs reaching back into
        the training series.
    """
    facts = profile.facts
    files = facts["files"]
    frame = cols.read_frame(Path(files["train"]))
    series = prepare(frame, facts["time_column"], facts["target"], files["train"])
    series = _select(series, facts["columns"], files["train"])
    lookback, horizon = int(facts["lookback"]), int(facts["horizon"])
    x, y = _windows(series.values, series.target_values, lookback, horizon)
    x_test = y_test = None
    all_values, times = series.values, list(series.times)
    if "test" in files:
        test = prepare(cols.read_frame(Path(files["test"])), facts["time_column"], facts["target"], files["test"])
        test = _select(test, facts["columns"], files["test"])
        joined = np.concatenate([series.values[-lookback:], test.values])
        x_test, y_test = _windows(joined, joined[:, series.columns.index(series.target)], lookback, horizon)
        all_values, times = np.concatenate([series.values, test.values]), times + list(test.times)
    target = all_values[:, series.columns.index(series.target)]
    spec = {
        "kind": "window",
        "shape": [lookback, len(series.columns)],
        "dtype": "float32",
        "lookback": lookback,
        "horizon": horizon,
        "season": facts.get("season"),
        "columns": list(series.columns),
        "target": series.target,
        "target_index": series.columns.index(series.target),
    }
    extras = {
        "series": [float(v) for v in target],
        "times": times,
        "target": series.target,
        "columns": list(series.columns),
        "train_end": len(series.values),
    }
    return Bundle(x=x, y=y, x_test=x_test, y_test=y_test, input_spec=spec, split="chronological", extras=extras)


def _select(series: PreparedSeries, names: list[str], path: str) -> PreparedSeries:
    """Keep the profiled value columns, in the profiled order."""
    missing = [c for c in names if c not in series.columns]
    if missing:
        raise DataError(f"columns {missing} are missing or not numeric; give the columns {', '.join(names)}", path=path)
    index = [series.columns.index(c) for c in names]
    series.values, series.columns = series.values[:, index], list(names)
    return series


def windows_from_frame(
    data: pd.DataFrame | np.ndarray,
    lookback: int,
    columns: list[str] | None = None,
    path: str | Path | None = None,
) -> np.ndarray:
    """The last `lookback` rows as one model input, for forecasting after the end of a series.

    Args:
        data: A table (the value columns are picked by `columns`, else all numeric ones) or an array of
            shape (T,) or (T, F), oldest row first.
        lookback: Window length the model takes.
        columns: Value columns in model order (input_spec["columns"]).
        path: The file the data came from, named in errors.

    Returns:
        float32 array of shape (1, lookback, F); missing values filled by linear interpolation.

    Raises:
        DataError: Fewer rows than the lookback, or missing columns.
    """
    if isinstance(data, pd.DataFrame):
        if columns is not None:
            absent = [c for c in columns if c not in data.columns]
            if absent:
                raise DataError(
                    f"columns {absent} are missing; give the columns the model was trained on: {', '.join(columns)}",
                    path=path,
                )
            frame = data[list(columns)]
        else:
            frame = data.select_dtypes("number")
        values = cols.numeric_matrix(frame)
    else:
        values = np.asarray(data, dtype=np.float64)
        values = values[:, None] if values.ndim == 1 else values
    if values.ndim != 2 or len(values) < lookback:
        raise DataError(
            f"need at least {lookback} rows of history (the model's lookback), got {len(values)}; give a longer series",
            path=path,
        )
    window = values[-lookback:].copy()
    window[~np.isfinite(window)] = np.nan
    if np.isnan(window).any():
        window = pd.DataFrame(window).interpolate(limit_direction="both").fillna(0.0).to_numpy(np.float64)
    return window[None].astype(np.float32)


def last_window_for_predict(file: str | Path, spec: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    """The last `lookback` steps of a series file, ordered and imputed as in training.

    Args:
        file: A CSV/Parquet file with the training columns (and, ideally, the time column).
        spec: The model's input_spec ("columns", "target", "lookback").

    Returns:
        [(a name saying after which time the forecast starts, float32 (lookback, F) window)].
    """
    file = Path(file)
    frame = cols.read_frame(file)
    time_column, _ = detect_time_column(frame, cols.classify_columns(frame))
    series = _select(prepare(frame, time_column, spec["target"], file), list(spec["columns"]), str(file))
    window = windows_from_frame(series.values, int(spec["lookback"]), path=file)[0]
    return [(f"{file} (after {series.times[-1]})", window)]
