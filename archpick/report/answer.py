"""The answer card: what the run produced, how good it is beside the best baseline, and one next step.

It opens report.md, report.html and the terminal's summary, so a user who reads nothing else knows whether to
use the model. The tone follows the evidence: green only when the model beats the best baseline by more than
the test split's sampling noise (the baseline's score lies outside the model's 95 % interval); amber
when the two are within noise; red when the model loses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOWER_IS_BETTER = {"mase", "smape", "mae", "rmse"}
PRIMARY = {"classification": "accuracy", "regression": "rmse", "forecasting": "mase"}
NAMES = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "rmse": "RMSE", "mae": "MAE",
         "mase": "MASE", "smape": "sMAPE", "r2": "R²"}


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
        base = (f"best baseline {self.baseline}: {self.baseline_value:.4g}" if self.baseline_value is not None
                else "no baseline")
        return [f"{self.model}: test {self.metric} {self.value:.4g}{spread}, {self.direction}; {base}.",
                f"{_standing_words(self)} Next: {self.next_step}"]


def primary_metric(report: dict[str, Any]) -> str:
    """The metric the card leads with (balanced accuracy when the classes were weighted)."""
    task = report.get("task", "classification")
    if task == "classification" and (report.get("split", {}).get("imbalance") or {}).get("class_weight"):
        return "balanced_accuracy"
    return PRIMARY.get(task, "accuracy")


def answer(report: dict[str, Any], run_dir: str = "RUN_DIR") -> Answer | None:
    """The answer card of a finished run's report, or None when the run has no test score."""
    final = report.get("final") or {}
    key = primary_metric(report)
    value = (final.get("metrics") or {}).get(key)
    if value is None:
        return None
    lower = key in LOWER_IS_BETTER
    scored = [b for b in report.get("baselines", []) if b.get(key) is not None]
    best = (min if lower else max)(scored, key=lambda b: b[key], default=None)
    band = final.get("interval") or {}
    interval = (float(band["low"]), float(band["high"])) if band.get("metric") == key else None
    if best is None:
        standing = "no baseline"
    elif (value > best[key]) if lower else (value < best[key]):
        standing = "loses"
    elif interval and interval[0] <= best[key] <= interval[1]:
        standing = "within noise"
    else:
        standing = "beats"
    tone = {"beats": "good", "no baseline": "amber", "within noise": "amber", "loses": "red"}[standing]
    members = final.get("members") or 1
    what = f"{final.get('variant') or final.get('family', 'model')}" + (f", ensemble of {members}" if members > 1
                                                                           else "")
    return Answer(what, NAMES.get(key, key), float(value), interval, best["name"] if best else "",
                  float(best[key]) if best else None, "lower is better" if lower else "higher is better",
                  standing, tone, _next_step(report, standing, run_dir, best["name"] if best else ""))


def _standing_words(card: Answer) -> str:
    return {"beats": "It beats the best baseline by more than the test split's noise.",
            "within noise": "It is within noise of the best baseline: the test split cannot tell them apart.",
            "loses": "It does NOT beat the best baseline.",
            "no baseline": "There is no baseline to compare it with."}[card.standing]


def _all_hit_budget(report: dict[str, Any]) -> bool:
    rows = report.get("leaderboard") or []
    return bool(rows) and all(r.get("stop_reason") == "budget" for r in rows)


def _next_step(report: dict[str, Any], standing: str, run_dir: str, baseline: str) -> str:
    seconds = float((report.get("budget") or {}).get("given_s") or 0)
    more = f"--time {max(int(seconds * 2 / 60), 2)}m" if seconds else "more --time"
    hint = (f" Every trial hit the budget: `{more}` may do better." if _all_hit_budget(report) else "")
    if standing == "loses":
        return f"use the baseline ({baseline}), or try `{more}` or more data." + hint
    if standing == "within noise":
        return (f"both are fine; the baseline ({baseline}) is simpler, the model is exported in {run_dir}/model."
                + hint)
    return f"use the model: `archpick predict {run_dir} FILE...`." + hint
