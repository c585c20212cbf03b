"""Sliding windows over a series: how long the lookback and horizon are, the windows themselves, and the last
window of new data to forecast from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.datasets.base import DataOptions
from archpick.datasets.series.regularise import PreparedSeries
from archpick.datasets.series.season import seasonal_period
from archpick.errors import DataError, OptionError

MIN_WINDOWS = 10
"""Fewest windows a series must yield (train, validation and test are cut from them)."""

MIN_LOOKBACK = 8
"""The default lookback is never shorter than this (unless the series is too short for it)."""


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


def window_pairs(values: np.ndarray, target: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """All (lookback, F) input windows and their (horizon,) targets, in time order."""
    count = len(values) - lookback - horizon + 1
    if count < 1:
        return (np.zeros((0, lookback, values.shape[1]), np.float32), np.zeros((0, horizon), np.float32))
    x = np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0)[:count]  # (count, F, lookback)
    y = np.lib.stride_tricks.sliding_window_view(target[lookback:], horizon)[:count]
    return np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32), np.ascontiguousarray(y, np.float32)


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
        columns: Value columns in model order (input_spec.columns).
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
