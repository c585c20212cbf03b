"""Recommend, then verify: split the budget between the recommended family and the runner-up, pick the
winner on validation data, and say in one line whether the evidence agreed with the flowchart.

Pure functions over plain rows, so the logic is tested without TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from archpick.errors import OptionError
from archpick.families import ALIASES, FAMILY_NAMES, families_for, lookup
from archpick.flowchart import Recommendation

RECOMMENDED_SHARE = 2 / 3
# The least part of the run's --time a Transformer leg must get (split_budget at RECOMMENDED_SHARE) for it to
# join an automatic race. Its search time is less: the reserve for export and, on small data, the
# cross-validation share come out first. On two CPU cores that still covers its two hand-picked trials on
# data/reviews (~50 s each) and about five on data/vowels (a 12-minute run gives it ~90 s of 16-s trials).
TRANSFORMER_MIN_LEG_SECONDS = 120.0


@dataclass(frozen=True)
class Challenger:
    """A family raced beside the flowchart's pair, not chosen by the flowchart.

    Attributes:
        family: The family (archpick/families.py).
        min_leg_seconds: It joins only when the budget, split with it included (`split_budget` at
            RECOMMENDED_SHARE), still gives every leg at least this many seconds; 0 joins at any budget.
    """

    family: str
    min_leg_seconds: float = 0.0


# Families raced beside the flowchart's pair, in order, where published evidence says they often win: bags of
# n-grams beat sequence models on short texts (Google's text-classification guide: samples / words per sample
# < 1,500), always; a Transformer encoder (attention instead of recurrence) only when the budget allows, since a
# fourth leg takes its time from the others.
CHALLENGERS: dict[str, tuple[Challenger, ...]] = {
    "text": (Challenger("dense"), Challenger("transformer", TRANSFORMER_MIN_LEG_SECONDS)),
    "sequence": (Challenger("transformer", TRANSFORMER_MIN_LEG_SECONDS),),
}


@dataclass
class Leg:
    """One family's part of the race: its budget and its place."""

    family: str
    budget: float
    role: str  # "recommended", "runner-up", "challenger" or "requested"


def choose_families(
    rec: Recommendation, modality: str, requested: str | None, budget: float | None = None
) -> list[tuple[str, str]]:
    """Families to search, in order, with their role.

    Automatically, the modality's CHALLENGERS join in order, each one only when `budget` split with it included
    still gives every leg its `min_leg_seconds`: on text the n-gram MLP always joins, and the Transformer from
    9 x 120 s = 18 minutes (four legs: a third of the budget shared by three); on numeric sequences the
    Transformer from 6 x 120 s = 12 minutes (three legs). Any family can be named in `requested` at any budget.

    Args:
        rec: The flowchart's recommendation.
        modality: The dataset's modality (some families do not apply to some data).
        requested: None or "auto" (recommended + runner-up + the modality's challengers the budget allows),
            "recommended", or a comma list.
        budget: The run's time budget in seconds; None admits only the challengers with no minimum.

    Returns:
        [(family, role), ...].

    Raises:
        OptionError: An unknown family, or one that does not apply to this data.
    """
    if requested in (None, "", "auto"):
        legs = [(rec.family, "recommended")]
        if rec.runner_up:
            legs.append((rec.runner_up, "runner-up"))
        for challenger in CHALLENGERS.get(modality, ()):
            if challenger.family in [f for f, _ in legs] or not lookup(modality, challenger.family):
                continue
            candidate = [*legs, (challenger.family, "challenger")]
            if challenger.min_leg_seconds > 0 and (
                budget is None
                or min(leg.budget for leg in split_budget(budget, candidate)) < challenger.min_leg_seconds
            ):
                continue
            legs = candidate
        return legs
    if requested == "recommended":
        return [(rec.family, "recommended")]
    legs = []
    for name in (part.strip().lower() for part in requested.split(",") if part.strip()):
        if name not in ALIASES:
            raise OptionError(
                f"unknown family {name!r} in --families; use {', '.join(sorted(set(ALIASES.values())))},"
                " auto, or recommended"
            )
        family = ALIASES[name]
        if not lookup(modality, family):
            raise OptionError(
                f"family {family!r} does not apply to {modality} data; choose from {', '.join(families_for(modality))}"
            )
        role = "recommended" if family == rec.family else "requested"
        if family not in [f for f, _ in legs]:
            legs.append((family, role))
    if not legs:
        raise OptionError("--families is empty; name at least one family or use 'recommended'")
    return legs


def split_budget(seconds: float, families: list[tuple[str, str]], share: float = RECOMMENDED_SHARE) -> list[Leg]:
    """Give the recommended family `share` of the budget and the others equal parts of the rest."""
    if len(families) == 1:
        return [Leg(families[0][0], seconds, families[0][1])]
    lead = [f for f in families if f[1] == "recommended"]
    if not lead:
        each = seconds / len(families)
        return [Leg(f, each, r) for f, r in families]
    rest = seconds * (1 - share) / (len(families) - 1)
    return [Leg(f, seconds * share if r == "recommended" else rest, r) for f, r in families]


def noise_margin(metric: str, score: float | None, n_val: int) -> float:
    """How far apart two validation scores must be before the difference counts as evidence.

    Accuracy: one standard error of a proportion measured on `n_val` samples (at least one sample's worth).
    Losses: 1 % of the score. Below this, the flowchart's prior stands.
    """
    if score is None or n_val <= 0:
        return 0.0
    if "accuracy" in metric:
        p = min(max(score, 0.0), 1.0)
        return max(math.sqrt(p * (1 - p) / n_val), 1.0 / n_val)
    return 0.01 * abs(score)


def pick_winner(
    results: list[dict[str, Any]], direction: str, margin: float = 0.0, prefer: str | None = None
) -> dict[str, Any] | None:
    """The family result with the best validation score.

    Ties go to the earlier result; with `prefer` (the flowchart's family), another family wins only when it is
    better by more than `margin`.
    """
    scored = [r for r in results if r.get("best_score") is not None]
    if not scored:
        return None
    best = scored[0]
    for r in scored[1:]:
        better = r["best_score"] > best["best_score"] if direction == "max" else r["best_score"] < best["best_score"]
        if better:
            best = r
    preferred = next((r for r in scored if r["family"] == prefer), None)
    if preferred is not None and best is not preferred and abs(best["best_score"] - preferred["best_score"]) <= margin:
        return preferred
    return best


def _fmt_gap(gap: float, metric: str) -> str:
    if "accuracy" in metric:
        return f"{abs(gap) * 100:.1f} points of validation accuracy"
    return f"{abs(gap):.4g} of validation {metric.removeprefix('val_')}"


def verdict(
    rec: Recommendation,
    results: list[dict[str, Any]],
    winner: dict[str, Any] | None,
    metric: str,
    direction: str,
    margin: float = 0.0,
    n_val: int = 0,
) -> str:
    """The one-line verdict that opens the report.

    Args:
        rec: The flowchart recommendation.
        results: One dict per family: family, variant, best_score, scores (completed trial scores).
        winner: The winning result (from pick_winner).
        metric: The validation metric name.
        direction: "max" or "min".
        margin: The noise margin used by pick_winner.
        n_val: Validation samples (named when the difference was within noise).

    Returns:
        e.g. "Flowchart: RNN (LSTM/GRU) (ordered, variable length). Evidence: a 1-D CNN beat the best RNN
        by 3.1 points of validation accuracy in 2 of 2 comparable trials; exported the 1-D CNN."
    """
    head = f"Flowchart: {rec.reason}."
    if winner is None:
        return f"{head} No trial finished within the budget; nothing was exported."
    if len(results) == 1:
        return (
            f"{head} Only {FAMILY_NAMES[winner['family']]} was searched (no race); best validation "
            f"{metric.removeprefix('val_')} {winner['best_score']:.4g}; exported it."
        )
    others = [r for r in results if r is not winner and r.get("best_score") is not None]
    if not others:
        return f"{head} Evidence: only {winner['variant']} finished a trial; exported it."
    rival = pick_winner(others, direction)
    sign = 1 if direction == "max" else -1
    if sign * (rival["best_score"] - winner["best_score"]) > 0:  # the prior stood: the rival was within noise
        gap = rival["best_score"] - winner["best_score"]
        return (
            f"{head} Not separable, so the evidence did not overturn it: the best {rival['variant']} was "
            f"ahead by {_fmt_gap(gap, metric)}, within the noise of {n_val} validation samples "
            f"(±{_fmt_gap(margin, metric).split(' of ')[0]}){_thin_evidence(rival)}; "
            f"exported the {winner['variant']}."
        )
    beaten = sum(1 for s in winner.get("scores", []) if sign * (s - rival["best_score"]) > 0)
    gap = winner["best_score"] - rival["best_score"]
    thin = _thin_evidence(rival)
    if abs(gap) <= margin or gap == 0:
        ahead = "tied with" if gap == 0 else f"was ahead of the best {rival['variant']} by {_fmt_gap(gap, metric)},"
        rival_name = f" the {rival['variant']}" if gap == 0 else ""
        noise = (
            f" within the noise of {n_val} validation samples (±{_fmt_gap(margin, metric).split(' of ')[0]})"
            if margin > 0
            else ""
        )
        return (
            f"{head} Not separable: the {winner['variant']} {ahead}{rival_name}{noise}; either is fine"
            f"{thin}; exported the {winner['variant']}."
        )
    comparison = (
        f"the {winner['variant']} beat the best {rival['variant']} by {_fmt_gap(gap, metric)} "
        f"in {beaten} of {len(winner.get('scores', []))} trials"
    )
    stance = "confirmed" if winner["family"] == rec.family else "overturned"
    return f"{head} Evidence {stance} it: {comparison}{thin}; exported the {winner['variant']}."


def _thin_evidence(rival: dict[str, Any]) -> str:
    """A warning when the rival finished too few trials for the comparison to mean much."""
    done = len(rival.get("scores", []))
    if done >= 2:
        return ""
    return (
        f" (weak evidence: the {rival['variant']} finished only {done} trial{'s' if done != 1 else ''}; "
        "a larger --time gives it more)"
    )


def cv_verdict(
    rec: Recommendation, scores: list[Any], winner: str, metric: str, direction: str, margin: float, folds: int
) -> str:
    """The verdict when the race was decided on cross-validated scores (CVScore objects: family, variant,
    mean, std), saying "within noise" when the gap is within `margin`."""
    head = f"Flowchart: {rec.reason}."
    won = next(s for s in scores if s.family == winner)
    others = [s for s in scores if s is not won]
    rival = max(others, key=lambda s: s.mean) if direction == "max" else min(others, key=lambda s: s.mean)
    what = "accuracy" if "accuracy" in metric else "validation loss"
    gap = won.mean - rival.mean
    both = (
        f"by {folds}-fold cross-validation on train + validation the {won.variant} scored {won.mean:.4f} "
        f"± {won.std:.4f} {what} and the {rival.variant} {rival.mean:.4f} ± {rival.std:.4f}"
    )
    if abs(gap) <= margin:
        keep = "so the flowchart's pick stands" if winner == rec.family else "so the better mean was kept"
        return (
            f"{head} Within noise: {both}; the gap of {abs(gap):.4f} is within the noise (±{margin:.4f}), "
            f"{keep}; exported the {won.variant}."
        )
    stance = "confirmed" if winner == rec.family else "overturned"
    return (
        f"{head} Evidence {stance} it: {both}, a gap of {abs(gap):.4f} beyond the noise (±{margin:.4f}); "
        f"exported the {won.variant}."
    )
