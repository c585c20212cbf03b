"""Typed views of report.json that the plots and the rendered pages share: the ranked trials, the forecast and
each dataset's score against its baseline (summary)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archpick.report.schema import Report, Trial

ENDED = {
    "budget": "hit the time budget",
    "patience": "early stopped (validation stopped improving)",
    "converged": "converged (training loss flat)",
    "solved": "solved in closed form",
    "max epochs": "completed all epochs",
}
"""Why a trial ended, in words, by the leaderboard's stop_reason."""


def metric_words(metric: str) -> str:
    """A metric's name in words ("val_loss" -> "validation loss", "mae" -> "MAE")."""
    from archpick.report.answer import NAMES

    split, name = ("validation ", metric[4:]) if metric.startswith("val_") else ("", metric)
    return split + NAMES.get(name, name.replace("_", " "))


@dataclass(frozen=True)
class TrialView:
    """One leaderboard row as the report shows it.

    Attributes:
        trial: The trial's id ("cnn-000").
        family: Its architecture family.
        score: Its validation score, or None when it did not finish.
        seconds: Training seconds.
        epochs: Epochs trained.
        params: Trainable parameters.
        ended: Why it ended, in words.
        role: "exported", "in the exported ensemble" or "".
        hyperparameters: Its active hyperparameters.
        worker: The worker that trained it.
    """

    trial: str
    family: str
    score: float | None
    seconds: float | None
    epochs: int | None
    params: int | None
    ended: str
    role: str
    hyperparameters: dict[str, Any]
    worker: str


def _ended(trial: Trial) -> str:
    if trial.status not in (None, "COMPLETED"):
        return str(trial.status).lower() + (f": {trial.message}" if trial.message else "")
    return ENDED.get(trial.stop_reason, trial.stop_reason or "completed")


def ranked_trials(report: Report | dict[str, Any]) -> list[TrialView]:
    """Every trial, best validation score first (in the race's direction), trials without a score last."""
    rep = Report.of(report)
    exported = rep.final.trial if rep.final else None
    validation = rep.race.selection.validation
    members = set(validation.members if validation else [])
    lower = rep.race.lower_is_better
    views = [
        TrialView(
            t.trial,
            t.family,
            t.score,
            t.seconds,
            t.epochs,
            t.params,
            _ended(t),
            "exported" if t.trial == exported else "in the exported ensemble" if t.trial in members else "",
            dict(t.hyperparameters),
            t.worker,
        )
        for t in rep.leaderboard
    ]
    return sorted(
        views, key=lambda v: (v.score is None, (v.score if lower else -v.score) if v.score is not None else 0.0)
    )


@dataclass(frozen=True)
class ForecastView:
    """What the forecast plot draws.

    Attributes:
        values: The whole series (training and test periods), oldest first.
        times: The time of each value (ISO strings, or step numbers without a time column).
        actual: Test windows' true targets, (windows, horizon).
        predicted: The model's forecasts of those windows.
        naive: The seasonal naive baseline's forecasts of those windows.
        future_times: The times of the steps after the end of the data.
        future_values: The model's forecast of those steps (empty when the run did not store one).
        target: The forecast column's name.
        time_name: The time column's name ("time" when there is none).
    """

    values: list[float]
    times: list[str]
    actual: list[list[float]]
    predicted: list[list[float]]
    naive: list[list[float]]
    future_times: list[str]
    future_values: list[float]
    target: str
    time_name: str

    @classmethod
    def from_report(cls, report: Report) -> ForecastView | None:
        """The forecast of a forecasting run's report, or None when it has none."""
        fc = report.final.forecast if report.final else None
        series = report.series
        if fc is None or series is None or not series.values:
            return None
        return cls(
            series.values,
            series.times or [str(i) for i in range(len(series.values))],
            fc.actual,
            fc.predicted,
            fc.naive,
            fc.future_times,
            fc.future_values,
            series.target or "value",
            str(report.profile.facts.get("time_column") or "time"),
        )


@dataclass(frozen=True)
class DatasetScore:
    """One dataset of a collection: its exported model's test score beside its best baseline.

    Attributes:
        dataset: The dataset's name.
        metric: The metric in words ("accuracy", "MASE").
        value: The model's test score, or None when the fit failed.
        baseline: The best baseline's test score, or None.
        baseline_name: The best baseline's name ("" when unknown).
        lower_is_better: Whether a lower score is better.
        standing: "beats", "within noise", "loses", "no baseline" or "failed".
        interval: The model score's 95 % interval on the test split, or None.
    """

    dataset: str
    metric: str
    value: float | None
    baseline: float | None
    baseline_name: str
    lower_is_better: bool
    standing: str
    interval: tuple[float, float] | None = None
