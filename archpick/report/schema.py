"""The typed schema of report.json for its readers: the rendered report, the CLI summary and the collection summary.

runner.py writes report.json as a dict; `Report.from_json` checks its shape once and gives typed, frozen parts.
A part a run may lack (the final model of a failed run, the SavedModel of a run without TensorFlow, the forecast
of a classification run) is None; a part present with the wrong shape is a one-line RunError naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archpick.errors import RunError
from archpick.run import DAMAGED_HINT


class _Malformed(ValueError):
    """A part of report.json with the wrong shape (the message says which, e.g. "final.metrics")."""


def _obj(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """data[key] as an object ({} when absent or null)."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed(f"{where}{key} is a JSON {type(value).__name__}, not an object")
    return value


def _opt_obj(data: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    """data[key] as an object, or None when absent, null or empty."""
    return _obj(data, key, where) or None


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    """data[key] as a list ([] when absent or null)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed(f"{where}{key} is a JSON {type(value).__name__}, not a list")
    return value


def _objects(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """data[key] as a list of objects."""
    items = _list(data, key, where)
    if not all(isinstance(item, dict) for item in items):
        raise _Malformed(f"{where}{key} holds something other than objects")
    return items


def _num(data: dict[str, Any], key: str, where: str) -> float | None:
    """data[key] as a number, or None when absent or null."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Malformed(f"{where}{key} is {value!r}, not a number")
    return value


def _text(data: dict[str, Any], key: str, where: str) -> str | None:
    """data[key] as a string, or None when absent or null."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _Malformed(f"{where}{key} is {value!r}, not a string")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _floats(data: dict[str, Any], key: str, where: str) -> list[float]:
    """data[key] as a list of numbers ([] when absent or null)."""
    values = _list(data, key, where)
    if not all(_is_number(v) for v in values):
        raise _Malformed(f"{where}{key} holds something other than numbers")
    return [float(v) for v in values]


@dataclass(frozen=True)
class Baseline:
    """One baseline on the test split.

    Attributes:
        name: Its name ("majority class", "seasonal naive (period 12)").
        metrics: Its test scores by metric name (and counts such as n_windows), in report.json's order.
    """

    name: str
    metrics: dict[str, Any]

    def score(self, key: str) -> float | None:
        """Its score on `key`, or None when it has none."""
        value = self.metrics.get(key)
        return value if _is_number(value) else None

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> Baseline:
        """A baseline from its report.json object."""
        name = _text(data, "name", where)
        if name is None:
            raise _Malformed(f"{where}name is missing")
        return cls(name, {k: v for k, v in data.items() if k != "name"})


@dataclass(frozen=True)
class Interval:
    """The 95 % interval of the exported model's primary score on the test split.

    Attributes:
        metric: The metric it is for ("accuracy", "mase").
        low: Its lower end.
        high: Its upper end.
    """

    metric: str
    low: float
    high: float

    @classmethod
    def parse(cls, data: dict[str, Any] | None, where: str) -> Interval | None:
        """The interval of its report.json object, or None when there is none."""
        if not data:
            return None
        low, high = _num(data, "low", where), _num(data, "high", where)
        if low is None or high is None:
            raise _Malformed(f"{where}low or {where}high is missing")
        return cls(str(data.get("metric") or ""), float(low), float(high))


@dataclass(frozen=True)
class Forecast:
    """A forecasting run's test windows and its forecast after the end of the data.

    Attributes:
        actual: Test windows' true targets, (windows, horizon).
        predicted: The model's forecasts of those windows.
        naive: The seasonal naive baseline's forecasts of those windows.
        future_times: The times of the steps after the end of the data.
        future_values: The model's forecast of those steps (empty when the run did not store one).
    """

    actual: list[list[float]]
    predicted: list[list[float]]
    naive: list[list[float]]
    future_times: list[str]
    future_values: list[float]

    @classmethod
    def parse(cls, data: dict[str, Any] | None, where: str) -> Forecast | None:
        """The forecast of its report.json object, or None when there is none."""
        if not data:
            return None
        future = _obj(data, "future", where)
        return cls(
            _list(data, "actual", where),
            _list(data, "predicted", where),
            _list(data, "naive", where),
            list(_list(future, "times", f"{where}future.")),
            _floats(future, "values", f"{where}future."),
        )


@dataclass(frozen=True)
class Final:
    """The exported model on the test split.

    Attributes:
        family: Its architecture family, or None.
        variant: Its variant in words, or None.
        trial: The trial it comes from (the best one of an ensemble), or None.
        metrics: Its test metrics by name (per_class and confusion_matrix for classification).
        interval: The 95 % interval of its primary score, or None.
        forecast: A forecasting run's forecast, or None.
        members: How many trained models it averages (1: a single model).
        exported: What was exported, in words ("ensemble"), or None.
        params: Its parameter count, or None.
        hyperparameters: The trial's active hyperparameters.
        history: The trial's learning curves by metric.
        single: An ensemble's best single member's test metrics, or None.
        ensemble: The ensemble's headline test metrics, or None.
    """

    family: str | None
    variant: str | None
    trial: str | None
    metrics: dict[str, Any]
    interval: Interval | None
    forecast: Forecast | None
    members: int
    exported: str | None = None
    params: int | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    single: dict[str, Any] | None = None
    ensemble: dict[str, Any] | None = None

    def score(self, key: str) -> float | None:
        """Its test score on `key`, or None."""
        value = self.metrics.get(key)
        return value if _is_number(value) else None

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Final | None:
        """The final model of report.json's "final" object, or None when the run has none."""
        if not data:
            return None
        w = "final."
        members = _num(data, "members", w)
        params = _num(data, "params", w)
        return cls(
            _text(data, "family", w),
            _text(data, "variant", w),
            _text(data, "trial", w),
            _obj(data, "metrics", w),
            Interval.parse(_opt_obj(data, "interval", w), f"{w}interval."),
            Forecast.parse(_opt_obj(data, "forecast", w), f"{w}forecast."),
            int(members or 1),
            _text(data, "exported", w),
            None if params is None else int(params),
            _obj(data, "hyperparameters", w),
            _obj(data, "history", w),
            _opt_obj(data, "single", w),
            _opt_obj(data, "ensemble", w),
        )


@dataclass(frozen=True)
class Recommendation:
    """The flowchart's pick.

    Attributes:
        family: The recommended family, or None.
        variant: It in words.
        runner_up: The runner-up family, or None.
        runner_up_variant: It in words, or None.
        steps: The flowchart's path: {"question", "answer", "evidence", "outcome"} per step.
    """

    family: str | None
    variant: str
    runner_up: str | None
    runner_up_variant: str | None
    steps: list[dict[str, Any]]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Recommendation:
        """The recommendation of report.json's "recommendation" object."""
        w = "recommendation."
        return cls(
            _text(data, "family", w),
            _text(data, "variant", w) or "",
            _text(data, "runner_up", w),
            _text(data, "runner_up_variant", w),
            _objects(data, "steps", w),
        )


@dataclass(frozen=True)
class Race:
    """The race between families.

    Attributes:
        metric: The validation metric ("val_loss", "val_accuracy"), or None.
        direction: "min", "max", or None when unrecorded.
        families: One summary object per raced family.
        selection: How the exported model was chosen (cross-validation, ensemble, baseline check).
        not_trainable_yet: Families not searched on this data.
    """

    metric: str | None
    direction: str | None
    families: list[dict[str, Any]]
    selection: dict[str, Any]
    not_trainable_yet: list[str]

    @property
    def lower_is_better(self) -> bool:
        """Whether the validation metric is minimised (a loss) rather than maximised (accuracy)."""
        if self.direction in ("min", "max"):
            return self.direction == "min"
        return "accuracy" not in str(self.metric or "loss")

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Race:
        """The race of report.json's "race" object."""
        w = "race."
        return cls(
            _text(data, "metric", w),
            _text(data, "direction", w),
            _objects(data, "families", w),
            _obj(data, "selection", w),
            [str(f) for f in _list(data, "not_trainable_yet", w)],
        )


@dataclass(frozen=True)
class Trial:
    """One leaderboard row.

    Attributes:
        trial: The trial's id ("cnn-000").
        family: Its architecture family.
        score: Its validation score, or None when it did not finish (or it is not finite).
        seconds: Training seconds, or None.
        epochs: Epochs trained, or None.
        params: Trainable parameters, or None.
        status: keras-tuner's status ("COMPLETED"), or None.
        message: Why it failed, or "".
        stop_reason: Why it ended ("budget", "patience"), or None.
        hyperparameters: Its active hyperparameters.
        worker: The worker that trained it, or "".
    """

    trial: str
    family: str
    score: float | None
    seconds: float | None
    epochs: int | None
    params: int | None
    status: str | None
    message: str
    stop_reason: str | None
    hyperparameters: dict[str, Any]
    worker: str

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> Trial:
        """A trial of its leaderboard object."""
        score = data.get("score")
        score = float(score) if _is_number(score) and math.isfinite(score) else None
        return cls(
            str(data.get("trial", "")),
            str(data.get("family", "")),
            score,
            _num(data, "seconds", where),
            data.get("epochs"),
            data.get("params"),
            data.get("status"),
            str(data.get("message") or ""),
            data.get("stop_reason"),
            _obj(data, "hyperparameters", where),
            str(data.get("worker") or ""),
        )


@dataclass(frozen=True)
class ModelFiles:
    """The exported model's files.

    Attributes:
        keras: model.keras, relative to the run directory, or None.
        saved_model: The SavedModel's folder, or None (a run trained without TensorFlow).
        note: Why there is no SavedModel, or None.
        reload_max_abs_diff: The largest difference between the model and its reloaded copy, or None.
        contract: The serving contract (inputs, output, endpoint), or None.
    """

    keras: str | None
    saved_model: str | None
    note: str | None
    reload_max_abs_diff: float | None
    contract: dict[str, Any] | None

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> ModelFiles | None:
        """The files of report.json's "model" object, or None when the run exported nothing."""
        if not data:
            return None
        w = "model."
        return cls(
            _text(data, "keras", w),
            _text(data, "saved_model", w),
            _text(data, "note", w),
            _num(data, "reload_max_abs_diff", w),
            _opt_obj(data, "contract", w),
        )


@dataclass(frozen=True)
class Split:
    """How the data was split.

    Attributes:
        how: The split in words.
        test: Test samples (or windows), or None.
        test_source: "shipped test split" or "held out".
        notes: Notes on the split.
        class_weight: The loss's weight per class when the classes were weighted, else None.
    """

    how: str
    test: int | None
    test_source: str
    notes: list[str]
    class_weight: dict[str, float] | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Split:
        """The split of report.json's "split" object."""
        w = "split."
        balance = _obj(data, "imbalance", w)
        return cls(
            str(data.get("how", "")),
            data.get("test"),
            str(data.get("test_source", "")),
            [str(n) for n in _list(data, "notes", w)],
            _opt_obj(balance, "class_weight", f"{w}imbalance."),
        )


@dataclass(frozen=True)
class Budget:
    """The time budget, in seconds.

    Attributes:
        given_s: The budget given (--time), or None.
        search_s: The search's share, or None.
        used_s: Wall time used, or None.
    """

    given_s: float | None
    search_s: float | None
    used_s: float | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Budget:
        """The budget of report.json's "budget" object."""
        w = "budget."
        return cls(_num(data, "given_s", w), _num(data, "search_s", w), _num(data, "used_s", w))


@dataclass(frozen=True)
class Series:
    """A forecasting run's whole series.

    Attributes:
        values: The values, oldest first.
        times: The time of each value (empty without a time column).
        target: The forecast column's name, or None.
    """

    values: list[float]
    times: list[str]
    target: str | None

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Series | None:
        """The series of report.json's "series" object, or None when there is none."""
        if not data:
            return None
        w = "series."
        return cls(
            _floats(data, "values", w),
            [str(t) for t in _list(data, "times", w)],
            None if data.get("target") is None else str(data["target"]),
        )


@dataclass(frozen=True)
class ProfileSummary:
    """What the report shows of the data's profile.

    Attributes:
        modality: The kind of data ("image", "timeseries"), or None.
        task: "classification", "regression" or "forecasting", or None.
        source: The source it was read from ("image-folder"), or None.
        n_samples: Samples, or None.
        facts: The source's facts (sizes, the time column).
        column_uses: One {"name", "role", "used", "reason"} per column of a table.
    """

    modality: str | None
    task: str | None
    source: str | None
    n_samples: int | None
    facts: dict[str, Any]
    column_uses: list[dict[str, Any]]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ProfileSummary:
        """The summary of report.json's "profile" object."""
        w = "profile."
        return cls(
            _text(data, "modality", w),
            _text(data, "task", w),
            _text(data, "source", w),
            data.get("n_samples"),
            _obj(data, "facts", w),
            _objects(data, "column_uses", w),
        )


@dataclass(frozen=True)
class Report:
    """report.json as its readers see it.

    Attributes:
        dataset: The dataset's name.
        task: "classification", "regression" or "forecasting", or None when unrecorded.
        verdict: The verdict in one paragraph ("" when none).
        status: "failed" for a run in which no trial finished, else None.
        run_dir: The run directory it was written for, or None.
        profile: The data's profile.
        recommendation: The flowchart's pick.
        race: The race between families.
        leaderboard: Every trial, in the order trained.
        split: How the data was split.
        baselines: The baselines on the test split (none for a failed run).
        final: The exported model on the test split, or None (a failed run).
        series: A forecasting run's series, or None.
        model: The exported model's files, or None.
        budget: The time budget.
        timings: Seconds per stage, in order.
        notes: Notes on the data and the run.
        plots: Plot name -> path relative to the run directory.
    """

    dataset: str
    task: str | None
    verdict: str
    status: str | None
    run_dir: str | None
    profile: ProfileSummary
    recommendation: Recommendation
    race: Race
    leaderboard: list[Trial]
    split: Split
    baselines: list[Baseline]
    final: Final | None
    series: Series | None
    model: ModelFiles | None
    budget: Budget
    timings: dict[str, float]
    notes: list[str]
    plots: dict[str, str]

    @property
    def primary_metric(self) -> str:
        """The metric the answer card leads with (balanced accuracy when the classes were weighted)."""
        return primary_metric_of(self.task or "classification", self.split.class_weight is not None)

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str | Path | None = None) -> Report:
        """The report of report.json's object, its shape checked once.

        Args:
            data: report.json's object (as `archpick.run.read_json` returns it).
            source: The file it was read from, named in the error.

        Returns:
            The typed report.

        Raises:
            RunError: A part of it has the wrong shape (one line naming `source`).
        """
        try:
            return cls._parse(data)
        except _Malformed as exc:
            raise RunError(f"is damaged ({exc}); {DAMAGED_HINT}", source) from exc

    @classmethod
    def of(cls, report: Report | dict[str, Any], source: str | Path | None = None) -> Report:
        """`report` itself when typed already, else `from_json(report, source)`."""
        return report if isinstance(report, Report) else cls.from_json(report, source)

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> Report:
        if not isinstance(data, dict):
            raise _Malformed(f"a JSON {type(data).__name__}, not an object")
        timings = _obj(data, "timings", "")
        if not all(_is_number(v) for v in timings.values()):
            raise _Malformed("timings holds something other than numbers")
        return cls(
            str(data.get("dataset", "")),
            _text(data, "task", ""),
            _text(data, "verdict", "") or "",
            _text(data, "status", ""),
            _text(data, "run_dir", ""),
            ProfileSummary.parse(_obj(data, "profile", "")),
            Recommendation.parse(_obj(data, "recommendation", "")),
            Race.parse(_obj(data, "race", "")),
            [Trial.parse(row, "leaderboard[].") for row in _objects(data, "leaderboard", "")],
            Split.parse(_obj(data, "split", "")),
            [Baseline.parse(b, "baselines[].") for b in _objects(data, "baselines", "")],
            Final.parse(_opt_obj(data, "final", "")),
            Series.parse(_opt_obj(data, "series", "")),
            ModelFiles.parse(_opt_obj(data, "model", "")),
            Budget.parse(_obj(data, "budget", "")),
            dict(timings),
            [str(n) for n in _list(data, "notes", "")],
            {str(k): str(v) for k, v in _obj(data, "plots", "").items()},
        )


PRIMARY = {"classification": "accuracy", "regression": "rmse", "forecasting": "mase"}
"""The answer card's metric per task."""


def primary_metric_of(task: str, class_weighted: bool) -> str:
    """The metric the answer card leads with for `task` (balanced accuracy when the classes were weighted)."""
    if task == "classification" and class_weighted:
        return "balanced_accuracy"
    return PRIMARY.get(task, "accuracy")
