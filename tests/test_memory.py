"""Memory between trials: a finished trial leaves none of its traced TensorFlow graphs behind.

Keras's optimizer calls `ReplicaContext.all_reduce` in every traced train step, which registers a
`tf.custom_gradient` in TensorFlow's global gradient registry; its closure holds the whole step graph, so
without archpick's clean-up every trial's graphs survived `clear_session` (about 20 MB of RSS per trial).
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import archpick
from archpick import backend, hypermodels
from archpick.options import FitOptions
from archpick.runner import prepare

from conftest import DATA

pytestmark = pytest.mark.slow


def live_step_graphs() -> int:
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(isinstance(o, FuncGraph) and o.name.startswith("one_step_on") for o in gc.get_objects())


def test_trials_leave_no_graphs_behind(tmp_path: Path) -> None:
    backend.start()
    import keras

    from archpick.memory import custom_gradient_keys
    from archpick.search import SearchSetup, search_family

    profile = archpick.inspect(DATA / "airline")
    keras.utils.set_random_seed(0)
    prep = prepare(profile, FitOptions(seed=0))
    hm = hypermodels.make(profile.modality, "cnn", prep.spec)
    before, graphs_before = custom_gradient_keys(), live_step_graphs()  # other tests may have left some
    result = search_family(
        SearchSetup(
            hm,
            prep.train_ds,
            prep.val_ds,
            directory=tmp_path / "tuner",
            budget_seconds=90,
            max_trials=3,
            seed=0,
            tensorboard=False,
        )
    )
    assert sum(r["status"] == "COMPLETED" for r in result.rows) == 3
    assert custom_gradient_keys() == before
    assert live_step_graphs() <= graphs_before
    for row in result.rows:  # RSS once the trial's model is freed, and while it was alive
        assert row["rss_mb"] > 0 and row["rss_trial_end_mb"] > 0
    model = result.best_model()  # the best trial still restores and trains after the clean-up
    model.fit(prep.train_ds, epochs=1, verbose=0)
