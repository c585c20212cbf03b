"""The answer card: what the run produced, how good it is beside the best baseline, and one next step.

It opens report.md, report.html and the terminal's summary, so a user who reads nothing else knows whether to
use the model. The tone follows the evidence: green only when the model beats the best baseline by more than
the test split's sampling noise (the baseline's score lies outside the model's 95 % interval); amber
when the two are within noise; red when the model loses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archpick.report.schema import Report, Split
from archpick.tasks import LOWER_IS_BETTER, task_of

__all__ = ["NAMES", "Answer", "answer", "primary_metric"]

NAMES = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "rmse": "RMSE",
    "mae": "MAE",
    "mase": "MASE",
    "smape": "sMAPE",
    "r2": "R²",
}


@dataclass(frozen=True)
class Answer:
    """The answer card's content.

    Attributes:
        model: What was exported, in words.
        metric: The primary metric's name in words.
        value: The exported model's test score.
        interval: The 95 % interval of that score on the test split (Wilson for accuracy, else bootstrap), or None.
        baseline: The best baseline's name ("" when there is none).
        baseline_value: Its test score, or None.
        direction: "higher is better" or "lower is better".
        standing: "beats", "within noise", "loses" or "no baseline".
        tone: "good", "amber" or "red".
        next_step: One thing to do next.
    """

    model: str
    metric: str
    value: float
    interval: tuple[float, float] | None
    baseline: str
    baseline_value: float | None
    direction: str
    standing: str
    tone: str
    next_step: str

    def lines(self) -> list[str]:
        """The card as plain lines (Markdown and terminal)."""
        spread = f" (95% interval {self.interval[0]:.4g}–{self.interval[1]:.4g})" if self.interval else ""
        base = (
            f"best baseline {self.baseline}: {self.baseline_value:.4g}"
            if self.baseline_value is not None
            else "no baseline"
        )
        return [
            f"{self.model}: test {self.metric} {self.value:.4g}{spread}, {self.direction}; {base}.",
            f"{_standing_words(self)} Next: {self.next_step}",
        ]


def primary_metric(report: Report | dict[str, Any]) -> str:
    """The metric the card leads with (balanced accuracy when the classes were weighted).

    Args:
        report: The report, or (for the writer, before report.json is complete) its task and split as a dict.
    """
    if isinstance(report, Report):
        return report.primary_metric
    split = Split.parse(report.get("split") or {})
    return task_of(report.get("task") or "classification").headline_metric(split.class_weight is not None)


def answer(report: Report | dict[str, Any], run_dir: str = "RUN_DIR") -> Answer | None:
    """The answer card of a finished run's report, or None when the run has no test score."""
    rep = Report.of(report)
    final = rep.final
    key = rep.primary_metric
    value = final.score(key) if final is not None else None
    if final is None or value is None:
        return None
    lower = key in LOWER_IS_BETTER
    scored = [(b, s) for b in rep.baselines if (s := b.score(key)) is not None]
    best, base = (min if lower else max)(scored, key=lambda pair: pair[1], default=(None, None))
    interval = (final.interval.low, final.interval.high) if final.interval and final.interval.metric == key else None
    standing = standing_of(value, base, interval, lower)
    tone = {"beats": "good", "no baseline": "amber", "within noise": "amber", "loses": "red"}[standing]
    what = f"{final.variant or final.family or 'model'}" + (
        f", ensemble of {final.members}" if final.members > 1 else ""
    )
    name = best.name if best else ""
    return Answer(
        what,
        NAMES.get(key, key),
        float(value),
        interval,
        name,
        float(base) if base is not None else None,
        "lower is better" if lower else "higher is better",
        standing,
        tone,
        _next_step(rep, standing, run_dir, name),
    )


def standing_of(value: float, base: float | None, interval: tuple[float, float] | None, lower: bool) -> str:
    """How a test score stands against the best baseline's: "beats" (by more than the interval's noise),
    "within noise" (the baseline lies inside the score's 95 % interval), "loses" or "no baseline"."""
    if base is None:
        return "no baseline"
    if (value > base) if lower else (value < base):
        return "loses"
    if interval and interval[0] <= base <= interval[1]:
        return "within noise"
    return "beats"


def _standing_words(card: Answer) -> str:
    return {
        "beats": "It beats the best baseline by more than the test split's noise.",
        "within noise": "It is within noise of the best baseline: the test split cannot tell them apart.",
        "loses": "It does NOT beat the best baseline.",
        "no baseline": "There is no baseline to compare it with.",
    }[card.standing]


def _all_hit_budget(report: Report) -> bool:
    return bool(report.leaderboard) and all(t.stop_reason == "budget" for t in report.leaderboard)


def _next_step(report: Report, standing: str, run_dir: str, baseline: str) -> str:
    seconds = float(report.budget.given_s or 0)
    more = f"--time {max(int(seconds * 2 / 60), 2)}m" if seconds else "more --time"
    hint = f" Every trial hit the budget: `{more}` may do better." if _all_hit_budget(report) else ""
    if standing == "loses":
        return f"use the baseline ({baseline}), or try `{more}` or more data." + hint
    if standing == "within noise":
        return f"both are fine; the baseline ({baseline}) is simpler, the model is exported in {run_dir}/model." + hint
    return f"use the model: `archpick predict {run_dir} FILE...`." + hint
