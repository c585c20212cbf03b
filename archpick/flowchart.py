"""The decision flowchart: profile -> architecture family, runner-up and the reasons.

Pure rules over a DatasetProfile (standard library only, deterministic). The questions are asked in the
order of DESIGN.md and every answer is kept with the evidence that decided it, so a report can show the path.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from archpick.families import FAMILY_NAMES, design_for
from archpick.profile import DatasetProfile


@dataclass
class Step:
    """One question of the flowchart with its answer and the evidence behind it."""

    question: str
    answer: str
    evidence: str
    outcome: str = ""


@dataclass
class Recommendation:
    """What the flowchart recommends for a dataset, and why.

    Attributes:
        family: "cnn", "rnn", "hybrid" or "dense" (linear is only ever the runner-up, on tables).
        runner_up: The family that the race checks against, or None where the chart offers no alternative.
        steps: The questions asked, in order, with answers and evidence.
        reason: One line: the family and the deciding facts.
        variant: The concrete model the family means for this data (e.g. "2-D CNN", "1-D CNN").
        runner_up_variant: The concrete model for the runner-up.
        masking: True when variable-length sequences need masking.
    """

    family: str
    runner_up: str | None
    steps: list[Step] = field(default_factory=list)
    reason: str = ""
    variant: str = ""
    runner_up_variant: str = ""
    masking: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


def _ev(profile: DatasetProfile, key: str, default: str) -> str:
    return profile.structure.evidence.get(key) or default


def recommend(profile: DatasetProfile) -> Recommendation:
    """Walk the flowchart for a profile.

    Args:
        profile: A DatasetProfile from a detector (not a collection).

    Returns:
        The Recommendation with the ordered steps.
    """
    s = profile.structure
    steps: list[Step] = []

    def ask(question: str, yes: bool, evidence: str, outcome: str = "") -> bool:
        steps.append(Step(question, "yes" if yes else "no", evidence, outcome if yes else ""))
        return yes

    def ask_structure(question: str, key: str, default: str, outcome: str) -> bool:
        """`ask`, answered by the structure flag `key`, with its evidence (or `default`)."""
        return ask(question, getattr(s, key), _ev(profile, key, default), outcome)

    both = s.spatial and s.temporal
    space_time_evidence = (
        f"{_ev(profile, 'spatial', 'grids')}; {_ev(profile, 'temporal', 'ordered')}"
        if both
        else _ev(profile, "spatial", "no grid structure")
        if not s.spatial
        else _ev(profile, "temporal", "no time axis")
    )
    if ask(
        "Spatial and temporal structure together (a sequence of grids)?", both, space_time_evidence, "hybrid CNN-RNN"
    ):
        return _finish(profile, "hybrid", "cnn", steps, "space and time together")

    if ask_structure(
        "Grid-like samples (images, 2-D/3-D arrays) whose order does not matter?",
        "spatial",
        "no grid structure found",
        "CNN",
    ):
        return _finish(profile, "cnn", "dense", steps, "grid-like samples")

    if ask_structure(
        "Sequential data where order matters (text, token streams, time series)?",
        "temporal",
        "no order column, no text, no sequence axis",
        "RNN (LSTM/GRU)",
    ):
        masking = ask_structure(
            "Variable-length sequences?",
            "variable_length",
            "all sequences have the same length",
            "RNN with masking (padding never reaches the state)",
        )
        if s.text:
            long_docs = ask_structure(
                "Long documents where local n-grams and long-range context both matter?",
                "long_documents",
                "short documents",
                "hybrid Conv1D -> LSTM/GRU",
            )
            if long_docs:
                rec = _finish(profile, "hybrid", "rnn", steps, "long documents")
            else:
                rec = _finish(profile, "rnn", "cnn", steps, "short texts, order matters")
        else:
            why = "ordered, variable length" if s.variable_length else "ordered"
            rec = _finish(profile, "rnn", "cnn", steps, why)
        rec.masking = masking
        return rec

    ask(
        "Order not important and no grid: a plain feature table?",
        True,
        _ev(profile, "tabular", "rows of unordered features"),
        "dense network",
    )
    # The runner-up on a table is a linear model on the same preprocessing: on small tables ridge or logistic
    # regression often beats an MLP (diabetes, iris), and the race must be able to say so.
    return _finish(profile, "dense", "linear", steps, "a plain table: no grid, no order")


def _finish(profile: DatasetProfile, family: str, runner_up: str | None, steps: list[Step], why: str) -> Recommendation:
    modality = profile.modality
    variant = design_for(modality, family)
    runner_variant = design_for(modality, runner_up) if runner_up else ""
    if runner_up and not runner_variant:
        runner_up = None
    reason = f"{FAMILY_NAMES[family]} ({why})"
    if runner_up is None:
        reason += "; no runner-up: the flowchart offers no other family for this data"
    return Recommendation(
        family=family,
        runner_up=runner_up,
        steps=steps,
        reason=reason,
        variant=variant,
        runner_up_variant=runner_variant,
    )
