"""The typed schema of report.json for its readers: the rendered report, the CLI summary and the collection summary.

runner.py writes report.json as a dict; `Report.from_json` checks its shape once and gives typed, frozen parts.
A part a run may lack (the final model of a failed run, the SavedModel of a run without TensorFlow, the forecast
of a classification run) is None; a part present with the wrong shape is a one-line RunError naming the file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from archpick.errors import RunError
from archpick.run import DAMAGED_HINT
from archpick.tasks import TASKS, task_of

T = TypeVar("T")


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


def _required(data: dict[str, Any], key: str, where: str) -> str:
    """data[key] as a string that must be there."""
    value = _text(data, key, where)
    if value is None:
        raise _Malformed(f"{where}{key} is missing")
    return value


def _strs(data: dict[str, Any], where: str, *keys: str, default: str | None = "") -> list[Any]:
    """data[key] as a string (`default` when absent or null) for each of `keys`."""
    return [_text(data, key, where) or default for key in keys]


def _nums(data: dict[str, Any], where: str, *keys: str) -> list[Any]:
    """data[key] as a number (None when absent or null) for each of `keys`."""
    return [_num(data, key, where) for key in keys]


def _texts(data: dict[str, Any], key: str, where: str) -> list[str]:
    """data[key] as a list of strings ([] when absent or null)."""
    return [str(v) for v in _list(data, key, where)]


def _parts(cls: Any, data: dict[str, Any], key: str, where: str) -> list[Any]:
    """data[key], a list of objects, each parsed by `cls.parse(item, where)`."""
    return [cls.parse(item, f"{where}{key}[].") for item in _objects(data, key, where)]


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Every field of `data` but `key`, in order."""
    return {k: v for k, v in data.items() if k != key}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _floats(data: dict[str, Any], key: str, where: str) -> list[float]:
    """data[key] as a list of numbers ([] when absent or null)."""
    values = _list(data, key, where)
    if not all(_is_number(v) for v in values):
        raise _Malformed(f"{where}{key} holds something other than numbers")
    return [float(v) for v in values]


def _number_lists(data: dict[str, Any], key: str, where: str) -> dict[str, list[float | None]]:
    """data[key] as an object of lists of numbers (or nulls), e.g. learning curves by metric."""
    curves = _obj(data, key, where)
    for name, values in curves.items():
        if not isinstance(values, list) or not all(v is None or _is_number(v) for v in values):
            raise _Malformed(f"{where}{key}.{name} is not a list of numbers")
    return curves


def checked(parse: Callable[[Any], T], data: Any, source: str | Path | None) -> T:
    """`parse(data)`, a wrong shape raised as a one-line RunError naming `source` (a file archpick wrote)."""
    try:
        if not isinstance(data, dict):
            raise _Malformed(f"a JSON {type(data).__name__}, not an object")
        return parse(data)
    except _Malformed as exc:
        raise RunError(f"is damaged ({exc}); {DAMAGED_HINT}", source) from exc


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
        return cls(_required(data, "name", where), _without(data, "name"))


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
class ClassScore:
    """The exported model's test scores on one class.

    Attributes:
        name: The class.
        precision: Its precision, or None.
        recall: Its recall, or None.
        f1: Its F1 score, or None.
        support: Its test samples, or None.
    """

    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int | None

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> ClassScore:
        """A class's scores of its report.json object."""
        if data.get("class") is None:
            raise _Malformed(f"{where}class is missing")
        return cls(str(data["class"]), *_nums(data, where, "precision", "recall", "f1", "support"))


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
        history: The trial's learning curves by metric ("loss", "val_loss", ...), one value per epoch.
        single: An ensemble's best single member's test metrics, or None.
        ensemble: The ensemble's headline test metrics, or None.
        per_class: A classification run's test scores per class (from metrics), else empty.
        confusion_matrix: A classification run's test confusion matrix (rows: true class), or None.
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
    history: dict[str, list[float | None]] = field(default_factory=dict)
    single: dict[str, Any] | None = None
    ensemble: dict[str, Any] | None = None
    per_class: list[ClassScore] = field(default_factory=list)
    confusion_matrix: list[list[int]] | None = None

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
        metrics = _obj(data, "metrics", w)
        return cls(
            *_strs(data, w, "family", "variant", "trial", default=None),
            metrics,
            Interval.parse(_opt_obj(data, "interval", w), f"{w}interval."),
            Forecast.parse(_opt_obj(data, "forecast", w), f"{w}forecast."),
            int(members or 1),
            _text(data, "exported", w),
            None if params is None else int(params),
            _obj(data, "hyperparameters", w),
            _number_lists(data, "history", w),
            _opt_obj(data, "single", w),
            _opt_obj(data, "ensemble", w),
            _parts(ClassScore, metrics, "per_class", f"{w}metrics."),
            _list(metrics, "confusion_matrix", f"{w}metrics.") or None,
        )


@dataclass(frozen=True)
class Step:
    """One step of the flowchart's path.

    Attributes:
        question: The question asked of the data.
        answer: Its answer.
        evidence: What the answer rests on.
        outcome: Where it leads ("" when it leads on).
    """

    question: str
    answer: str
    evidence: str
    outcome: str

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> Step:
        """A step of its report.json object."""
        return cls(
            *(_required(data, key, where) for key in ("question", "answer", "evidence")),
            _text(data, "outcome", where) or "",
        )


@dataclass(frozen=True)
class Recommendation:
    """The flowchart's pick.

    Attributes:
        family: The recommended family, or None.
        variant: It in words.
        runner_up: The runner-up family, or None.
        runner_up_variant: It in words, or None.
        steps: The flowchart's path.
    """

    family: str | None
    variant: str
    runner_up: str | None
    runner_up_variant: str | None
    steps: list[Step]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Recommendation:
        """The recommendation of report.json's "recommendation" object."""
        w = "recommendation."
        return cls(
            _text(data, "family", w),
            _text(data, "variant", w) or "",
            _text(data, "runner_up", w),
            _text(data, "runner_up_variant", w),
            _parts(Step, data, "steps", w),
        )


@dataclass(frozen=True)
class FamilyRace:
    """One raced family.

    Attributes:
        family: The family ("cnn").
        variant: It in words.
        role: "recommended", "runner-up", "challenger" or "requested".
        best_score: Its best validation score, or None.
        budget: Seconds it was given, or None.
        seconds: Seconds it used, or None.
        trials: Trials it ran, or None.
        scores: Every finished trial's validation score.
    """

    family: str
    variant: str
    role: str
    best_score: float | None
    budget: float | None
    seconds: float | None
    trials: int | None
    scores: list[float]

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> FamilyRace:
        """A raced family of its report.json object."""
        return cls(
            _required(data, "family", where),
            *_strs(data, where, "variant", "role"),
            *_nums(data, where, "best_score", "budget", "seconds", "trials"),
            _floats(data, "scores", where),
        )


@dataclass(frozen=True)
class FoldScore:
    """A finalist's cross-validated validation scores.

    Attributes:
        family: Its family.
        trial: The trial it comes from.
        mean: The mean over the folds, or None.
        std: Their spread, or None.
        folds: The score on each fold.
    """

    family: str
    trial: str
    mean: float | None
    std: float | None
    folds: list[float]

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> FoldScore:
        """A finalist's scores of its report.json object."""
        return cls(
            _required(data, "family", where),
            _text(data, "trial", where) or "",
            *_nums(data, where, "mean", "std"),
            _floats(data, "folds", where),
        )


@dataclass(frozen=True)
class ValidationEnsemble:
    """The best trials averaged on the validation split (large data, no cross-validation).

    Attributes:
        ensemble: The ensemble's validation score, or None.
        single: The best single trial's, or None.
        members: The trials averaged.
    """

    ensemble: float | None
    single: float | None
    members: list[str]

    @classmethod
    def parse(cls, data: dict[str, Any] | None, where: str) -> ValidationEnsemble | None:
        """The ensemble of its report.json object, or None when there is none."""
        if not data:
            return None
        return cls(*_nums(data, where, "ensemble", "single"), _texts(data, "members", where))


@dataclass(frozen=True)
class BaselineCheck:
    """The model against the best baseline on the data that chose it.

    Attributes:
        on: What they were compared on, in words.
        model: The model's score, or None.
        baseline: The best baseline's name.
        baseline_score: Its score, or None.
        beats: Whether the model beats it.
    """

    on: str
    model: float | None
    baseline: str
    baseline_score: float | None
    beats: bool

    @classmethod
    def parse(cls, data: dict[str, Any] | None, where: str) -> BaselineCheck | None:
        """The check of its report.json object, or None when there is none."""
        if not data:
            return None
        return cls(
            _text(data, "on", where) or "",
            _num(data, "model", where),
            _text(data, "baseline", where) or "",
            _num(data, "baseline_score", where),
            bool(data.get("beats")),
        )


@dataclass(frozen=True)
class Selection:
    """How the exported model was chosen after the search.

    Attributes:
        folds: Cross-validation folds that decided the race (0: none).
        samples: Samples cross-validated on, or None.
        noise_margin: The margin within which two families are not separable, or None.
        scores: The finalists' cross-validated scores.
        validation: The best trials averaged on the validation split, or None.
        baseline_check: The model against the best baseline, or None.
    """

    folds: int
    samples: int | None
    noise_margin: float | None
    scores: list[FoldScore]
    validation: ValidationEnsemble | None
    baseline_check: BaselineCheck | None

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> Selection:
        """The selection of its report.json object."""
        return cls(
            int(_num(data, "folds", where) or 0),
            _num(data, "samples", where),
            _num(data, "noise_margin", where),
            _parts(FoldScore, data, "scores", where),
            ValidationEnsemble.parse(_opt_obj(data, "validation", where), f"{where}validation."),
            BaselineCheck.parse(_opt_obj(data, "baseline_check", where), f"{where}baseline_check."),
        )


@dataclass(frozen=True)
class Race:
    """The race between families.

    Attributes:
        metric: The validation metric ("val_loss", "val_accuracy"), or None.
        direction: "min", "max", or None when unrecorded.
        families: One summary per raced family.
        selection: How the exported model was chosen (cross-validation, ensemble, baseline check).
        not_trainable_yet: Families not searched on this data.
    """

    metric: str | None
    direction: str | None
    families: list[FamilyRace]
    selection: Selection
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
            _parts(FamilyRace, data, "families", w),
            Selection.parse(_obj(data, "selection", w), f"{w}selection."),
            _texts(data, "not_trainable_yet", w),
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
        fields: Every field of its report.json object but the hyperparameters, in order (leaderboard.csv).
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
    fields: dict[str, Any] = field(default_factory=dict)

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
            _without(data, "hyperparameters"),
        )


@dataclass(frozen=True)
class Tensor:
    """One input or output of the exported model.

    Attributes:
        name: Its name.
        dtype: Its dtype ("float32", "string").
        shape: Its shape (None for a free dimension).
    """

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> Tensor:
        """A tensor of its report.json object."""
        return cls(_required(data, "name", where), _required(data, "dtype", where), tuple(_list(data, "shape", where)))


@dataclass(frozen=True)
class Contract:
    """How to call the exported model without archpick.

    Attributes:
        endpoint: The SavedModel's serving signature.
        inputs: Its inputs.
        output: Its output.
        raw: The raw input it takes, in words.
        inside: What the model does to it, in words.
        meaning: What the output means, in words.
        labels: The class names in output order (empty without classes).
    """

    endpoint: str
    inputs: list[Tensor]
    output: Tensor
    raw: str
    inside: str
    meaning: str
    labels: list[str]

    @classmethod
    def parse(cls, data: dict[str, Any] | None, where: str) -> Contract | None:
        """The contract of its report.json object, or None when there is none."""
        if not data:
            return None
        return cls(
            _required(data, "endpoint", where),
            _parts(Tensor, data, "inputs", where),
            Tensor.parse(_obj(data, "output", where), f"{where}output."),
            *_strs(data, where, "raw", "inside", "meaning"),
            _texts(data, "labels", where),
        )


@dataclass(frozen=True)
class ModelFiles:
    """The exported model's files.

    Attributes:
        keras: model.keras, relative to the run directory, or None.
        saved_model: The SavedModel's folder, or None (a run trained without TensorFlow).
        note: Why there is no SavedModel, or None.
        reload_max_abs_diff: The largest difference between the model and its reloaded copy, or None.
        contract: The serving contract, or None.
    """

    keras: str | None
    saved_model: str | None
    note: str | None
    reload_max_abs_diff: float | None
    contract: Contract | None

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> ModelFiles | None:
        """The files of report.json's "model" object, or None when the run exported nothing."""
        if not data:
            return None
        w = "model."
        return cls(
            *_strs(data, w, "keras", "saved_model", "note", default=None),
            _num(data, "reload_max_abs_diff", w),
            Contract.parse(_opt_obj(data, "contract", w), f"{w}contract."),
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
        imbalance: The largest class's count over the smallest's in training, or None.
    """

    how: str
    test: int | None
    test_source: str
    notes: list[str]
    class_weight: dict[str, float] | None
    imbalance: float | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Split:
        """The split of report.json's "split" object."""
        w = "split."
        balance = _obj(data, "imbalance", w)
        return cls(
            str(data.get("how", "")),
            data.get("test"),
            str(data.get("test_source", "")),
            _texts(data, "notes", w),
            _opt_obj(balance, "class_weight", f"{w}imbalance."),
            _num(balance, "ratio", f"{w}imbalance."),
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
        return cls(*_nums(data, w, "given_s", "search_s", "used_s"))


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
class ColumnUse:
    """One column of a table and how the model uses it.

    Attributes:
        name: The column's name as in the file.
        role: Its role ("numeric", "id", "target").
        used: Whether the model reads it.
        reason: Why (or why not), in words.
    """

    name: str
    role: str
    used: bool
    reason: str

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> ColumnUse:
        """A column of its report.json object."""
        name, role, reason = _strs(data, where, "name", "role", "reason")
        return cls(name, role, bool(data.get("used")), reason)


@dataclass(frozen=True)
class ProfileSummary:
    """What the report shows of the data's profile.

    Attributes:
        modality: The kind of data ("image", "timeseries"), or None.
        task: "classification", "regression" or "forecasting", or None.
        source: The source it was read from ("image-folder"), or None.
        n_samples: Samples, or None.
        facts: The source's facts (sizes, the time column).
        column_uses: Every column of a table, in file order.
        classes: Class name -> samples (classification).
        n_classes: Classes, or None.
        imbalance: The largest class's count over the smallest's, or None.
        n_skipped: Files the profile skipped, or None.
    """

    modality: str | None
    task: str | None
    source: str | None
    n_samples: int | None
    facts: dict[str, Any]
    column_uses: list[ColumnUse]
    classes: dict[str, Any] = field(default_factory=dict)
    n_classes: int | None = None
    imbalance: float | None = None
    n_skipped: int | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ProfileSummary:
        """The summary of report.json's "profile" object."""
        w = "profile."
        return cls(
            *_strs(data, w, "modality", "task", "source", default=None),
            data.get("n_samples"),
            _obj(data, "facts", w),
            _parts(ColumnUse, data, "column_uses", w),
            _obj(data, "classes", w),
            *_nums(data, w, "n_classes", "imbalance", "n_skipped"),
        )


@dataclass(frozen=True)
class FileNote:
    """A file (or folder) that could not be used.

    Attributes:
        file: Its path.
        reason: Why, in words.
    """

    file: str
    reason: str

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> FileNote:
        """A skipped file of its report.json (or summary.json) object."""
        return cls(_required(data, "file", where), _required(data, "reason", where))


@dataclass(frozen=True)
class Skipped:
    """The files a run could not use.

    Attributes:
        count: How many, or None when unrecorded.
        files: Each with the reason.
    """

    count: int | None
    files: list[FileNote]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Skipped:
        """The skipped files of report.json's "skipped" object."""
        w = "skipped."
        return cls(_num(data, "count", w), _parts(FileNote, data, "files", w))


@dataclass(frozen=True)
class Hardware:
    """What the run trained on and why.

    Attributes:
        backend: The Keras backend, or None.
        device: "cpu" or "gpu", or None.
        cpus: Logical CPU cores, or None.
        threads: Threads each op may use, or None.
        gpus: Each visible GPU's name.
        strategy: The distribution strategy, or None.
        precision: "float32" or "mixed_float16", or None.
        reasons: Why each choice was made.
    """

    backend: str | None = None
    device: str | None = None
    cpus: int | None = None
    threads: int | None = None
    gpus: list[str | None] = field(default_factory=list)
    strategy: str | None = None
    precision: str | None = None
    reasons: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Hardware:
        """The hardware of report.json's "hardware" object."""
        w = "hardware."
        backend, device, strategy, precision = _strs(
            data, w, "backend", "device", "strategy", "precision", default=None
        )
        return cls(
            backend,
            device,
            *_nums(data, w, "cpus", "threads"),
            [_text(gpu, "name", f"{w}gpus[].") for gpu in _objects(data, "gpus", w)],
            strategy,
            precision,
            _texts(data, "reasons", w),
        )


@dataclass(frozen=True)
class Regime:
    """How the trials trained and the candidates were selected.

    Attributes:
        why: The regime in one line.
    """

    why: str

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Regime | None:
        """The regime of report.json's "regime" object, or None when there is none."""
        return cls(_text(data, "why", "regime.") or "") if data else None


@dataclass(frozen=True)
class Backbone:
    """A transfer run's (--backbone) pretrained backbone.

    Attributes:
        name: Its name.
        label: It in words ("" when unrecorded: the name stands for it).
        origin: Where its weights came from ("keras.applications").
        path: Its weights' file.
        input: What it sees of the input, in words.
        frozen: What was frozen, in words.
        searched_as: The family variant that used it.
        exported: Whether that family's model is the exported one.
    """

    name: str
    label: str
    origin: str
    path: str
    input: str
    frozen: str
    searched_as: str
    exported: bool

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Backbone | None:
        """The backbone of report.json's "backbone" object, or None when the run used none."""
        if not data:
            return None
        w = "backbone."
        words = _strs(data, w, "name", "label", "origin", "path", "input", "frozen", "searched_as")
        return cls(*words, bool(data.get("exported")))


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
        path: The dataset's path ("" when unrecorded).
        version: The archpick version that wrote it ("" when unrecorded).
        created: When it was written ("" when unrecorded).
        batch_size: The training batch size, or None.
        hardware: What it trained on.
        regime: How the trials trained, or None.
        skipped: The files it could not use.
        backbone: A transfer run's backbone, or None.
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
    path: str = ""
    version: str = ""
    created: str = ""
    batch_size: int | None = None
    hardware: Hardware = field(default_factory=Hardware)
    regime: Regime | None = None
    skipped: Skipped = field(default_factory=lambda: Skipped(None, []))
    backbone: Backbone | None = None

    @property
    def primary_metric(self) -> str:
        """The metric the answer card leads with (balanced accuracy when the classes were weighted)."""
        return task_of(self.task or "classification").headline_metric(self.split.class_weight is not None)

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
        return checked(cls._parse, data, source)

    @classmethod
    def of(cls, report: Report | dict[str, Any], source: str | Path | None = None) -> Report:
        """`report` itself when typed already, else `from_json(report, source)`."""
        return report if isinstance(report, Report) else cls.from_json(report, source)

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> Report:
        timings = _obj(data, "timings", "")
        if not all(_is_number(v) for v in timings.values()):
            raise _Malformed("timings holds something other than numbers")
        if _text(data, "task", "") not in (None, *TASKS):
            raise _Malformed(f"task is {data['task']!r}, not one of {', '.join(TASKS)}")
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
            _texts(data, "notes", ""),
            {str(k): str(v) for k, v in _obj(data, "plots", "").items()},
            *_strs(data, "", "path", "archpick_version", "created"),
            _num(data, "batch_size", ""),
            Hardware.parse(_obj(data, "hardware", "")),
            Regime.parse(_opt_obj(data, "regime", "")),
            Skipped.parse(_obj(data, "skipped", "")),
            Backbone.parse(_opt_obj(data, "backbone", "")),
        )


@dataclass(frozen=True)
class CollectionRow:
    """One dataset of a collection, as summary.json holds it.

    Attributes:
        dataset: The dataset's name.
        modality: The kind of data ("" when unrecorded).
        recommended: The flowchart's family ("" when none).
        winner: The exported model's family ("" when the fit failed).
        metric: The answer card's metric ("accuracy", "rmse").
        test_metric: The exported model's test score on it, or None.
        baseline: The best baseline's test score on it, or None.
        seconds: Seconds the dataset took.
        status: The run's status ("complete", "failed").
        report: The dataset's report.html ("" when none).
        verdict: The run's verdict ("" when none).
        error: Why the fit failed ("" when it did not).
    """

    dataset: str
    modality: str
    recommended: str
    winner: str
    metric: str
    test_metric: float | None
    baseline: float | None
    seconds: float
    status: str
    report: str
    verdict: str
    error: str

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> CollectionRow:
        """A dataset of its summary.json object."""
        modality, recommended, winner, status, report, verdict, error = _strs(
            data, where, "modality", "recommended", "winner", "status", "report", "verdict", "error"
        )
        return cls(
            _required(data, "dataset", where),
            modality,
            recommended,
            winner,
            _text(data, "metric", where) or "accuracy",
            *_nums(data, where, "test_metric", "baseline"),
            float(_num(data, "seconds", where) or 0.0),
            status,
            report,
            verdict,
            error,
        )


@dataclass(frozen=True)
class CollectionSummary:
    """summary.json, a collection's summary, as its readers see it.

    Attributes:
        collection: The collection's name.
        budget_s: The budget given for all datasets, in seconds.
        used_s: Seconds used.
        datasets: One row per dataset, in the order fitted.
        skipped: Folders that were not datasets.
    """

    collection: str
    budget_s: float
    used_s: float
    datasets: list[CollectionRow]
    skipped: list[FileNote]

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str | Path | None = None) -> CollectionSummary:
        """The summary of summary.json's object, its shape checked once (a one-line RunError naming `source`)."""
        return checked(cls._parse, data, source)

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> CollectionSummary:
        return cls(
            _required(data, "collection", ""),
            float(_num(data, "budget_s", "") or 0.0),
            _num(data, "used_s", "") or 0.0,
            _parts(CollectionRow, data, "datasets", ""),
            _parts(FileNote, data, "skipped", ""),
        )
