"""Forecasting series read from a CSV/Parquet table: the source's profile, load and predict reader.

Reached through tables.py, which decides that a table is a series; `load` cuts sliding windows of raw
(unscaled) values: the model scales inside itself, so predicting after the end of a series needs nothing
but the last `lookback` rows (see `windows.windows_from_frame`). The time grid lives in regularise.py,
the season in season.py, the windows in windows.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.datasets.base import Bundle, DataOptions, SeriesHistory
from archpick.datasets.inputspec import InputSpec
from archpick.datasets.series.regularise import PreparedSeries, detect_time_column, prepare, select_columns
from archpick.datasets.series.windows import plan_windows, window_pairs, windows_from_frame
from archpick.errors import DataError
from archpick.profile import DatasetProfile, Structure

__all__ = [
    "SOURCE_NAMES",
    "PreparedSeries",
    "detect_time_column",
    "last_window_for_predict",
    "load",
    "prepare",
    "profile_series",
    "windows_from_frame",
]

SOURCE_NAMES = frozenset({"series-csv"})


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
    series = select_columns(series, facts["columns"], files["train"])
    lookback, horizon = int(facts["lookback"]), int(facts["horizon"])
    x, y = window_pairs(series.values, series.target_values, lookback, horizon)
    x_test = y_test = None
    all_values, times = series.values, list(series.times)
    if "test" in files:
        test = prepare(cols.read_frame(Path(files["test"])), facts["time_column"], facts["target"], files["test"])
        test = select_columns(test, facts["columns"], files["test"])
        joined = np.concatenate([series.values[-lookback:], test.values])
        x_test, y_test = window_pairs(joined, joined[:, series.columns.index(series.target)], lookback, horizon)
        all_values, times = np.concatenate([series.values, test.values]), times + list(test.times)
    target = all_values[:, series.columns.index(series.target)]
    spec = InputSpec(
        "window",
        (lookback, len(series.columns)),
        "float32",
        lookback=lookback,
        horizon=horizon,
        season=facts.get("season"),
        columns=tuple(series.columns),
        target=series.target,
        target_index=series.columns.index(series.target),
    )
    history = SeriesHistory([float(v) for v in target], list(times), series.target, len(series.values))
    return Bundle(x=x, y=y, x_test=x_test, y_test=y_test, input_spec=spec, split="chronological", history=history)


def last_window_for_predict(file: str | Path, spec: InputSpec) -> list[tuple[str, np.ndarray]]:
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
    series = select_columns(prepare(frame, time_column, spec.target, file), list(spec.columns), str(file))
    window = windows_from_frame(series.values, int(spec.lookback), path=file)[0]
    return [(f"{file} (after {series.times[-1]})", window)]
