"""Forecasting conventions and historical dates, through `archpick inspect --json` (no TensorFlow).

Series that start before 1677 or span more than 292 years are past pandas' nanosecond timestamps; times with
changing UTC offsets (a daylight-saving change) are read as UTC; refusals name the option that fixes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from archpick.cli import main
from archpick.datasets import columns as cols
from archpick.datasets import tables
from archpick.datasets.base import DataOptions


def _cycle(n: int) -> np.ndarray:
    """An 11-step cycle with a little noise, like annual sunspot numbers."""
    steps = np.arange(n)
    return 60 + 50 * np.sin(2 * np.pi * steps / 11) + np.random.default_rng(0).normal(0, 3, n)


def _write(path: Path, times: list[str], values: np.ndarray, names: tuple[str, str] = ("date", "value")) -> Path:
    lines = [",".join(names)] + [f"{t},{v:.2f}" for t, v in zip(times, values, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _inspect(path: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, ["inspect", str(path), "--json", *args])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return json.loads(result.stdout)["profile"]


def _refusal(path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["inspect", str(path), *args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, result.output
    assert path.name in lines[0]
    return lines[0]


HISTORICAL = {  # name: (times, frequency)
    "yearly_1500": ([f"{y}-01-01" for y in range(1500, 1650)], "yearly"),
    "monthly_1600": ([f"{1600 + m // 12}-{m % 12 + 1:02d}" for m in range(240)], "monthly"),
    "daily_1650": ([str(d.date()) for d in pd.date_range("1650-03-01", periods=200, freq="D", unit="s")], "daily"),
    "yearly_1700_to_2008_year_ends": ([f"{y}-12-31" for y in range(1700, 2009)], "yearly"),
    "yearly_1066_to_2025": ([f"{y}-06-30" for y in range(1066, 2026)], "yearly"),
}


@pytest.mark.parametrize("name", sorted(HISTORICAL))
def test_historical_series_are_profiled(name: str, tmp_path: Path) -> None:
    times, frequency = HISTORICAL[name]
    profile = _inspect(_write(tmp_path / f"{name}.csv", times, _cycle(len(times))))
    facts = profile["facts"]
    assert profile["modality"] == "timeseries" and facts["time_column"] == "date"
    assert facts["frequency"] == frequency and facts["length"] == len(times) and facts["gaps"] == 0
    assert facts["start"][:4] == times[0][:4] and facts["end"][:4] == times[-1][:4]


def test_sunspot_style_yearly_series_finds_its_cycle(tmp_path: Path) -> None:
    """Annual numbers from 1700 (309 years, past the 292 that nanoseconds span): the 11-year cycle is found."""
    times = [f"{y}-12-31" for y in range(1700, 2009)]
    facts = _inspect(_write(tmp_path / "sunspots.csv", times, _cycle(309), ("YEAR", "SUNACTIVITY")))["facts"]
    assert (facts["frequency"], facts["length"], facts["season"]) == ("yearly", 309, 11)


def test_historical_gaps_are_filled_on_the_grid(tmp_path: Path) -> None:
    """A daily series from 1600 with missing days: the gaps are inserted and the grid times are generated."""
    days = pd.date_range("1600-01-01", periods=120, freq="D", unit="s")
    kept = [d for i, d in enumerate(days) if i % 10 != 5]
    profile = _inspect(_write(tmp_path / "gappy.csv", [str(d.date()) for d in kept], _cycle(len(kept))))
    assert profile["facts"]["length"] == 120 and profile["facts"]["gaps"] == 12


def test_irregular_historical_series_is_resampled(tmp_path: Path) -> None:
    """Uneven steps before 1677 take the interpolation path; the grid times stay in the 1500s."""
    rng = np.random.default_rng(3)
    stamps = pd.Timestamp("1500-01-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 240, 150)), unit="min")
    times = [t.isoformat() for t in pd.DatetimeIndex(stamps).as_unit("s")]
    profile = _inspect(_write(tmp_path / "readings.csv", times, _cycle(150), ("timestamp", "reading")))
    assert profile["modality"] == "timeseries" and profile["facts"]["start"].startswith("1500-01-01")
    assert any("irregular sampling" in note for note in profile["notes"])


def test_historical_series_loads_windows(tmp_path: Path) -> None:
    """`load` (the data path of fit) cuts windows from a pre-1677 monthly series and keeps its times."""
    times = [f"{1600 + m // 12}-{m % 12 + 1:02d}" for m in range(240)]
    path = _write(tmp_path / "monthly.csv", times, _cycle(240))
    opts = DataOptions()
    profile = tables.profile(path, opts)
    bundle = tables.load(profile, opts)
    assert bundle.x.shape[0] == profile.n_samples and bundle.x.shape[1:] == (profile.facts["lookback"], 1)
    assert bundle.history.times[0].startswith("1600-01") and bundle.history.times[-1].startswith("1619-12")


def test_mixed_utc_offsets_are_read_as_utc() -> None:
    stamps = pd.Series(["2021-03-28T01:00:00+01:00", "2021-03-28T03:00:00+02:00", "2021-03-28T04:00:00+02:00"])
    parsed = cols.as_datetime(stamps)
    assert parsed.isna().sum() == 0 and parsed.diff().dropna().eq(pd.Timedelta(hours=1)).all()
    assert cols.classify_column(stamps).kind == "datetime" and cols.has_utc_offsets(stamps)
    assert not cols.has_utc_offsets(pd.Series(["01-01-2000", "2020-01-01 10:00"]))


@pytest.mark.parametrize("names", [("ds", "y"), ("date", "target"), ("Date", "label"), ("month", "y")])
def test_a_time_column_and_a_label_named_value_are_a_series(names: tuple[str, str], tmp_path: Path) -> None:
    times = [str(d.date()) for d in pd.date_range("2020-01-01", periods=90, freq="D")]
    profile = _inspect(_write(tmp_path / "s.csv", times, _cycle(90), names))
    assert profile["modality"] == "timeseries" and profile["target"] == names[1]
    assert profile["facts"]["time_column"] == names[0]


def test_a_label_with_features_and_a_date_stays_a_table(tmp_path: Path) -> None:
    """A date column beside real features and a label: a table, as before (only ds/y are taken as a series)."""
    n = 60
    frame = pd.DataFrame(
        {
            "date": [str(d.date()) for d in pd.date_range("2020-01-01", periods=n)],
            "x1": np.arange(n) * 0.5,
            "x2": np.arange(n) % 7,
            "label": ["a", "b"] * (n // 2),
        }
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    profile = _inspect(tmp_path / "t.csv")
    assert profile["modality"] == "table" and profile["target"] == "label"


def test_repeated_dates_refusal_names_kind_timeseries_and_it_works(tmp_path: Path) -> None:
    days = [str(d.date()) for d in pd.date_range("2020-01-01", periods=40) for _ in range(2)]
    path = _write(tmp_path / "shops.csv", days, _cycle(80), ("date", "sales"))
    assert "--kind timeseries" in _refusal(path)
    profile = _inspect(path, "--kind", "timeseries")
    assert profile["facts"]["time_column"] == "date" and profile["facts"]["length"] == 40
    assert any("duplicate times" in note for note in profile["notes"])


def test_no_obvious_target_refusal_names_target(tmp_path: Path) -> None:
    """Words and one numeric column, nothing named like a label: the guessed target is named, and --target."""
    n = 40
    frame = pd.DataFrame({"colour": ["red", "blue"] * (n // 2), "size": np.arange(n) * 1.5})
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert "--target" in _refusal(tmp_path / "t.csv")


def test_guessed_single_class_label_refusal_names_target(tmp_path: Path) -> None:
    n = 40
    frame = pd.DataFrame({"x1": np.arange(n) * 0.5, "x2": np.arange(n) % 7, "source": ["web"] * n})
    frame.to_csv(tmp_path / "t.csv", index=False)
    line = _refusal(tmp_path / "t.csv")
    assert "one class" in line and "--target" in line
