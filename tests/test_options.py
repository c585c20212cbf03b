"""FitOptions travel to a worker as argv and back through the real `archpick worker` command unchanged, and the
chief and its workers plan the same search budget from them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archpick import cli
from archpick.datasets.base import DataOptions
from archpick.datasets.inputspec import InputSpec
from archpick.hardware import PRECISIONS
from archpick.options import DEFAULT_BUDGET, FitOptions, parse_duration, reserve_seconds, search_budget

from conftest import DATA

# Every FitOptions field that a worker reads (to rebuild the chief's data, split, families, plan and trials).
WORKER_FIELDS = (
    "time_budget",
    "seed",
    "families",
    "max_trials",
    "max_epochs",
    "device",
    "mixed_precision",
    "batch_size",
    "share",
    "backbone",
    "backbone_weights",
    "data",
)
DATA_PATH = str(DATA / "digits")

_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
_path = st.from_regex(r"/?([A-Za-z0-9_-]{1,8}/){0,3}[A-Za-z0-9_-]{1,8}(\.weights\.h5)?", fullmatch=True)
_count = st.none() | st.integers(min_value=1, max_value=10**6)

fit_options = st.builds(
    FitOptions,
    time_budget=st.none() | st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False),
    seed=st.integers(min_value=-(2**31), max_value=2**31),
    families=st.none() | _text | st.sampled_from(["recommended", "cnn,rnn", "transformer"]),
    max_trials=_count,
    max_epochs=_count,
    batch_size=_count,
    device=st.sampled_from(["auto", "cpu", "gpu"]),
    mixed_precision=st.sampled_from(list(PRECISIONS.values())),
    share=st.floats(min_value=0.0, max_value=1.0),
    backbone=st.none() | _text | st.sampled_from(["mobilenet_v2", "runs/digits-1"]),
    backbone_weights=st.none() | _path,
    data=st.builds(
        DataOptions,
        kind=st.none() | st.sampled_from(cli.KINDS.choices),
        target=st.none() | _text,
        horizon=st.none() | st.integers(-5, 500),
        lookback=_count,
        frames=_count,
        size=_count,
    ),
)


def _worker_fields(opts: FitOptions) -> dict[str, Any]:
    return {name: getattr(opts, name) for name in WORKER_FIELDS}


def _through_worker_parser(argv: list[str]) -> FitOptions:
    """FitOptions as `archpick worker` builds them from argv, parsed by the command's own click parser."""
    ctx = cli.worker.make_context("worker", [DATA_PATH, "--chief", "h:1", *argv])
    return FitOptions.from_worker_options(ctx.params)


@settings(max_examples=200, deadline=None)
@given(fit_options)
def test_worker_argv_round_trips_every_field_a_worker_needs(opts: FitOptions) -> None:
    assert _worker_fields(_through_worker_parser(opts.to_worker_argv())) == _worker_fields(opts)


def test_defaults_round_trip_and_plan_the_default_budget() -> None:
    back = _through_worker_parser(FitOptions().to_worker_argv())
    assert _worker_fields(back) == _worker_fields(FitOptions())
    assert back.budget == DEFAULT_BUDGET


def test_worker_typed_by_hand_gets_the_chief_defaults() -> None:
    opts = _through_worker_parser(["--time", "45s", "--families", "recommended", "--seed", "4"])
    expected = FitOptions(time_budget=45.0, families="recommended", seed=4)
    assert _worker_fields(opts) == _worker_fields(expected)


def test_budget_text_in_the_float_form_a_worker_receives() -> None:
    for seconds in (1e-06, 0.5, 300.0, 1e16, 123456789.125):
        assert parse_duration(repr(seconds)) == seconds


@pytest.mark.parametrize("kind", ["image", "video", "sequence"])
@pytest.mark.parametrize("cross_validate", [False, True])
def test_chief_and_worker_plan_the_same_search_budget(kind: str, cross_validate: bool) -> None:
    from archpick.runner import plan_search

    chief = FitOptions(time_budget=240.0, families="cnn,rnn", seed=3)
    worker = _through_worker_parser(chief.to_worker_argv())
    assert search_budget(worker, kind) == search_budget(chief, kind) == 240.0 - reserve_seconds(240.0, kind)
    # The chief also counts its own start-up seconds; a worker cannot know them.
    assert search_budget(chief, kind, elapsed=10.0) == search_budget(chief, kind) - 10.0
    prep = SimpleNamespace(
        spec=SimpleNamespace(input_spec=InputSpec(kind, (1,), "float32")),
        regime=SimpleNamespace(cross_validate=cross_validate),
        x_train=np.zeros(120),
        x_val=np.zeros(30),
    )
    legs = [("cnn", "recommended"), ("rnn", "runner-up")]
    chief_plan, chief_cap = plan_search(search_budget(chief, kind), legs, chief, prep)
    worker_plan, worker_cap = plan_search(search_budget(worker, kind), legs, worker, prep)
    assert worker_plan == chief_plan
    if cross_validate:
        assert [worker_cap(leg.budget) for leg in worker_plan] == [chief_cap(leg.budget) for leg in chief_plan]
    else:
        assert worker_cap is None and chief_cap is None


def test_search_budget_is_at_least_one_second() -> None:
    assert search_budget(FitOptions(time_budget=5.0), "image", elapsed=30.0) == 1.0
