"""Property tests: any table written to CSV either profiles (and loads) or fails with an ArchpickError."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archpick.datasets import tables
from archpick.datasets.base import DataOptions
from archpick.errors import ArchpickError
from archpick.profile import DatasetProfile

NAMES = st.one_of(
    st.sampled_from(["date", "month", "t", "id", "series_id", "step", "label", "y", "text", "value", "x", ""]),
    st.text(min_size=0, max_size=8),
)
CELLS = {
    "int": st.integers(-(10**6), 10**6),
    "float": st.floats(allow_nan=True, allow_infinity=True, width=32),
    "word": st.sampled_from(["a", "b", "cat", "dog", "", " ", "N/A", "1.5", "x,y", '"q"']),
    "text": st.text(max_size=60),
    "date": st.dates().map(lambda d: d.isoformat()),
    "bool": st.booleans(),
}
KINDS = st.sampled_from([None, None, None, "table", "text", "timeseries", "sequence"])
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(0, 30))
    n_cols = draw(st.integers(1, 5))
    data = {}
    for j in range(n_cols):
        name = draw(NAMES)
        cell = CELLS[draw(st.sampled_from(sorted(CELLS)))]
        column = draw(st.lists(st.one_of(cell, st.none()), min_size=n_rows, max_size=n_rows))
        data[f"{name}\0{j}"] = column
    frame = pd.DataFrame(data)
    frame.columns = [c.split("\0")[0] for c in frame.columns]  # duplicate and empty names allowed
    return frame


@st.composite
def series_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(2, 80))
    start = pd.Timestamp(draw(st.dates(min_value=pd.Timestamp("1900-01-01").date())))
    freq = draw(st.sampled_from(["D", "h", "MS", "W", "YS", "15min"]))
    times = pd.date_range(start, periods=n, freq=freq)
    values = draw(st.lists(st.one_of(st.floats(-1e6, 1e6), st.none()), min_size=n, max_size=n))
    frame = pd.DataFrame({"date": times.astype(str), "value": values})
    drop = draw(st.lists(st.integers(0, n - 1), max_size=n // 3))
    frame = frame.drop(index=sorted(set(drop)))
    if draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 1000)))
    if draw(st.booleans()) and len(frame):
        frame = pd.concat([frame, frame.iloc[:1]])
    return frame


def _profile_or_error(tmp_path: Path, frame: pd.DataFrame, opts: DataOptions) -> DatasetProfile | None:
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    frame.to_csv(path, index=False)
    try:
        profile = tables.profile(path, opts)
        json.dumps(profile.to_dict())
        bundle = tables.load(profile, opts)
    except ArchpickError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
        return None
    finally:
        path.unlink(missing_ok=True)
    assert len(bundle.x) == len(bundle.y)
    if profile.task != "forecasting":
        assert len(bundle.x) == profile.n_samples
    return profile


@SETTINGS
@given(frame=frames(), kind=KINDS, use_target=st.booleans())
def test_any_table_profiles_or_raises_archpick_error(tmp_path: Path, frame: pd.DataFrame, kind, use_target) -> None:
    target = str(frame.columns[-1]) if use_target and len(frame.columns) else None
    _profile_or_error(tmp_path, frame, DataOptions(kind=kind, target=target))


@SETTINGS
@given(
    frame=series_frames(),
    horizon=st.one_of(st.none(), st.integers(-1, 30)),
    lookback=st.none() | st.integers(0, 40),
)
def test_any_series_profiles_or_raises_archpick_error(tmp_path: Path, frame: pd.DataFrame, horizon, lookback) -> None:
    profile = _profile_or_error(tmp_path, frame, DataOptions(horizon=horizon, lookback=lookback))
    if profile is not None:
        assert profile.modality == "timeseries"
        facts = profile.facts
        assert facts["n_windows"] == facts["length"] - facts["lookback"] - facts["horizon"] + 1 >= 1
        assert np.isfinite(facts["length"])
