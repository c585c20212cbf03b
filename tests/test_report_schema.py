"""report.json's typed schema: real reports parse without losing what the readers use; a damaged one is a
one-line RunError naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import archpick
from archpick.cli import main
from archpick.errors import RunError
from archpick.report.answer import answer
from archpick.report.schema import Report

from conftest import DATA


@pytest.fixture(scope="module")
def airline_report(tmp_path_factory) -> tuple[Path, dict]:
    """A tiny real forecasting fit of data/airline: its run directory and report.json."""
    data = tmp_path_factory.mktemp("airline") / "airline"
    shutil.copytree(DATA / "airline", data)
    out = data.parent / "run"
    archpick.fit(data, "20s", max_trials=1, max_epochs=2, out=out)
    return out, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def digits_report(digits_small: Path, tmp_path_factory) -> tuple[Path, dict]:
    """A tiny real image classification fit of the digits subset: its run directory and report.json."""
    out = tmp_path_factory.mktemp("digits-run") / "run"
    archpick.fit(digits_small, "20s", max_trials=1, max_epochs=2, out=out)
    return out, json.loads((out / "report.json").read_text())


def _assert_common(rep: Report, data: dict) -> None:
    """The parts every finished run has, as report.json holds them."""
    assert rep.dataset == data["dataset"] and rep.task == data["task"] and rep.verdict == data["verdict"]
    assert rep.recommendation.family == data["recommendation"]["family"]
    assert rep.recommendation.variant == data["recommendation"]["variant"]
    assert rep.race.metric == data["race"]["metric"]
    assert rep.race.lower_is_better == (data["race"]["direction"] == "min")
    assert [t.trial for t in rep.leaderboard] == [row["trial"] for row in data["leaderboard"]]
    assert [t.stop_reason for t in rep.leaderboard] == [row["stop_reason"] for row in data["leaderboard"]]
    assert [(b.name, b.metrics) for b in rep.baselines] == [
        (b["name"], {k: v for k, v in b.items() if k != "name"}) for b in data["baselines"]
    ]
    final = rep.final
    assert final is not None
    assert (final.family, final.variant, final.trial) == (
        data["final"]["family"],
        data["final"]["variant"],
        data["final"]["trial"],
    )
    assert final.metrics == data["final"]["metrics"] and final.members == data["final"]["members"]
    band = data["final"]["interval"]
    assert final.interval is not None
    assert (final.interval.metric, final.interval.low, final.interval.high) == (
        band["metric"],
        band["low"],
        band["high"],
    )
    assert rep.model is not None and rep.model.keras == data["model"]["keras"]
    assert rep.model.saved_model == data["model"].get("saved_model")
    assert rep.budget.given_s == data["budget"]["given_s"] and rep.timings == data["timings"]
    assert rep.notes == data["notes"] and rep.plots == data["plots"]
    assert answer(rep) == answer(data)


def test_a_forecasting_report_parses_without_loss(airline_report) -> None:
    _, data = airline_report
    rep = Report.from_json(data)
    _assert_common(rep, data)
    assert rep.primary_metric == "mase"
    fc = rep.final.forecast
    assert fc is not None and fc.actual == data["final"]["forecast"]["actual"]
    assert fc.future_values == data["final"]["forecast"]["future"]["values"]
    assert rep.series is not None and rep.series.values == data["series"]["values"]
    assert rep.series.target == data["series"]["target"]
    assert rep.profile.facts == data["profile"]["facts"]


def test_a_classification_report_parses_without_loss(digits_report) -> None:
    _, data = digits_report
    rep = Report.from_json(data)
    _assert_common(rep, data)
    assert rep.primary_metric == "accuracy" and rep.final.forecast is None and rep.series is None
    assert rep.profile.modality == "image" and rep.profile.n_samples == data["profile"]["n_samples"]


def test_optional_parts_stay_none() -> None:
    rep = Report.from_json({"dataset": "d", "status": "failed", "leaderboard": []})
    assert rep.final is None and rep.model is None and rep.series is None and rep.baselines == []
    assert answer(rep) is None


@pytest.mark.parametrize(
    "damage",
    [
        {"final": [1, 2]},
        {"baselines": "none"},
        {"final": {"metrics": 3}},
        {"baselines": [{"accuracy": 0.5}]},
        {"timings": {"load": "fast"}},
    ],
)
def test_a_damaged_report_is_one_line_naming_the_file(digits_report, tmp_path: Path, damage: dict) -> None:
    run_dir, data = digits_report
    with pytest.raises(RunError) as err:
        Report.from_json({**data, **damage}, tmp_path / "report.json")
    assert str(err.value).startswith(str(tmp_path / "report.json")) and "\n" not in str(err.value)

    broken = tmp_path / "run"
    broken.mkdir()
    shutil.copy2(run_dir / "status.json", broken / "status.json")
    (broken / "report.json").write_text(json.dumps({**data, **damage}))
    res = CliRunner().invoke(main, ["report", str(broken)])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and str(broken / "report.json") in line and "damaged" in line
