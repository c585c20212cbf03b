"""Typed views of report.json that the plots and the rendered pages share: the ranked trials, the forecast and
each dataset's score against its baseline (summary)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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


def lower_is_better(report: dict[str, Any]) -> bool:
    """Whether the race's validation metric is minimised (a loss) rather than maximised (accuracy)."""
    race = report.get("race") or {}
    if race.get("direction") in ("min", "max"):
        return race["direction"] == "min"
    return "accuracy" not in str(race.get("metric", "loss"))


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


def _ended(row: dict[str, Any]) -> str:
    if row.get("status") not in (None, "COMPLETED"):
        message = row.get("message") or ""
        return f"{str(row['status']).lower()}" + (f": {message}" if message else "")
    reason = row.get("stop_reason")
    return ENDED.get(reason, reason or "completed")


def ranked_trials(report: dict[str, Any]) -> list[TrialView]:
    """Every trial, best validation score first (in the race's direction), trials without a score last."""
    final = report.get("final") or {}
    selection = (report.get("race") or {}).get("selection") or {}
    members = set((selection.get("validation") or {}).get("members") or [])
    lower = lower_is_better(report)
    views = []
    for row in report.get("leaderboard") or []:
        role = (
            "exported"
            if row.get("trial") == final.get("trial")
            else "in the exported ensemble"
            if row.get("trial") in members
            else ""
        )
        score = row.get("score")
        score = float(score) if isinstance(score, (int, float)) and math.isfinite(score) else None
        views.append(
            TrialView(
                str(row.get("trial", "")),
                str(row.get("family", "")),
                score,
                row.get("seconds"),
                row.get("epochs"),
                row.get("params"),
                _ended(row),
                role,
                dict(row.get("hyperparameters") or {}),
                str(row.get("worker") or ""),
            )
        )
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
    def from_report(cls, report: dict[str, Any]) -> ForecastView | None:
        """The forecast of a forecasting run's report, or None when it has none."""
        fc = (report.get("final") or {}).get("forecast")
        series = report.get("series") or {}
        if not fc or not series.get("values"):
            return None
        future = fc.get("future") or {}
        facts = (report.get("profile") or {}).get("facts") or {}
        values = [float(v) for v in series["values"]]
        times = [str(t) for t in series.get("times") or []] or [str(i) for i in range(len(values))]
        return cls(
            values,
            times,
            fc["actual"],
            fc["predicted"],
            fc["naive"],
            list(future.get("times") or []),
            [float(v) for v in future.get("values") or []],
            str(series.get("target") or "value"),
            str(facts.get("time_column") or "time"),
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
