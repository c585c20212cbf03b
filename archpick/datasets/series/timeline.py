"""A series' times as coordinates, and the times of the steps after its end (for forecasts: the report's
plots and table, and `archpick predict`'s one row per step)."""

from __future__ import annotations

import numpy as np


def parse_times(times: list[str]) -> tuple[np.ndarray, bool]:
    """Times as plot coordinates: (datetime64 array, True) for dates, else (float array, False) for numbers;
    positions 0, 1, ... when neither parses."""
    import pandas as pd

    try:
        return np.asarray([float(t) for t in times]), False
    except ValueError:
        pass
    stamps = pd.to_datetime(pd.Series(times, dtype=object), format="ISO8601", utc=True, errors="coerce")
    if len(stamps) and not stamps.isna().any():
        return stamps.dt.tz_localize(None).to_numpy(), True
    return np.arange(len(times), dtype=float), False


def future_times(times: list[str], horizon: int) -> list[str]:
    """The times of the `horizon` steps after `times`, continued at their own frequency (dates as YYYY-MM-DD when
    every stamp is midnight, else ISO 8601; numbers by their usual step)."""
    import pandas as pd

    recent = list(times[-50:])
    points, dated = parse_times(recent)
    if len(points) < 2:
        return [str(len(times) + k) for k in range(horizon)]
    if not dated:
        if len(points) != len(recent) or not np.isfinite(points).all():
            return [str(len(times) + k) for k in range(horizon)]
        step = float(np.median(np.diff(points)))
        return [f"{points[-1] + step * k:g}" for k in range(1, horizon + 1)]
    stamps = pd.DatetimeIndex(points)
    freq = pd.infer_freq(stamps) if len(stamps) >= 3 else None
    if freq is not None:
        future = pd.date_range(stamps[-1], periods=horizon + 1, freq=freq)[1:]
    else:  # an irregular grid: its usual step
        future = pd.DatetimeIndex(stamps[-1] + pd.Series(np.arange(1, horizon + 1)) * pd.Series(stamps).diff().median())
    whole = bool((future == future.normalize()).all() and (stamps == stamps.normalize()).all())
    return [t.strftime("%Y-%m-%d") if whole else t.isoformat() for t in future]
