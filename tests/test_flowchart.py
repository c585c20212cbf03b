"""Flowchart cases, one JSON file per case under tests/cases/flowchart (black-style data-driven tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archpick.families import FAMILY_NAMES
from archpick.flowchart import recommend
from archpick.profile import MODALITIES, DatasetProfile, Structure
from archpick.race import CHALLENGERS

CASES = sorted((Path(__file__).parent / "cases" / "flowchart").glob("*.json"))


def _profile(case: dict) -> DatasetProfile:
    return DatasetProfile(
        path="x",
        name="x",
        modality=case["modality"],
        task=case.get("task", "classification"),
        structure=Structure(**case["structure"]),
    )


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_flowchart_case(case_file: Path) -> None:
    case = json.loads(case_file.read_text())
    expect = case["expect"]
    rec = recommend(_profile(case))
    assert rec.family == expect["family"]
    assert rec.runner_up == expect["runner_up"]
    assert [s.answer for s in rec.steps] == expect["answers"]
    assert all(s.question and s.evidence for s in rec.steps)
    if "masking" in expect:
        assert rec.masking is expect["masking"]
    if "evidence_contains" in expect:
        assert any(expect["evidence_contains"] in s.evidence for s in rec.steps)
    assert rec.reason.startswith(FAMILY_NAMES[rec.family])


def test_every_family_is_reachable() -> None:
    expects = [json.loads(c.read_text())["expect"] for c in CASES]
    recommended = {e["family"] for e in expects}
    runners_up = {e["runner_up"] for e in expects if e["runner_up"]}
    challengers = {c.family for legs in CHALLENGERS.values() for c in legs}  # raced beside the flowchart's pair
    assert recommended | runners_up | challengers == set(FAMILY_NAMES)  # no family only `--families` reaches
    assert "linear" in runners_up - recommended  # linear: only the tables' runner-up


def test_deterministic_and_json_able() -> None:
    case = json.loads(CASES[0].read_text())
    first, second = recommend(_profile(case)), recommend(_profile(case))
    assert first == second
    json.dumps(first.to_dict())


@settings(max_examples=200, deadline=None)
@given(
    modality=st.sampled_from([m for m in MODALITIES if m != "collection"]),
    flags=st.fixed_dictionaries(
        {k: st.booleans() for k in ("spatial", "temporal", "variable_length", "text", "long_documents", "tabular")}
    ),
)
def test_any_profile_gets_a_recommendation(modality: str, flags: dict) -> None:
    rec = recommend(DatasetProfile(path="p", name="p", modality=modality, structure=Structure(**flags)))
    assert rec.family in FAMILY_NAMES
    assert rec.runner_up is None or rec.runner_up in FAMILY_NAMES
    assert rec.runner_up != rec.family
    assert rec.steps and any(s.outcome for s in rec.steps)
