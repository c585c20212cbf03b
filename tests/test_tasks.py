"""The task table: every Task builds, compiles and trains a real Keras head, names an evaluation that exists,
and leads the report with a metric whose direction is known."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
keras_tuner = pytest.importorskip("keras_tuner")

from archpick import evaluate  # noqa: E402
from archpick.errors import RunError  # noqa: E402
from archpick.hypermodels import heads  # noqa: E402
from archpick.report.schema import Report  # noqa: E402
from archpick.tasks import LOWER_IS_BETTER, TASKS, task_of  # noqa: E402


def test_the_tasks_are_the_three_targets() -> None:
    assert set(TASKS) == {"classification", "regression", "forecasting"}
    assert all(task_of(name).name == name for name in TASKS)
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        task_of("ranking")


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_has_every_part(name: str) -> None:
    task = TASKS[name]
    assert callable(getattr(evaluate, task.evaluate))
    assert task.direction in ("max", "min") and task.objective.startswith("val_")
    objective = heads.objective(name)
    assert (objective.name, objective.direction) == (task.objective, task.direction)
    # The headline metric's direction is known, and it is the validation objective's direction for a classifier.
    assert (task.headline in LOWER_IS_BETTER) == (task.direction == "min")
    assert task.headline_metric(class_weighted=True) == ("balanced_accuracy" if task.classifies else task.headline)


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_head_compiles_and_trains(name: str) -> None:
    task = TASKS[name]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    n_out = 3 if task.classifies else (2 if name == "forecasting" else 1)
    y = rng.integers(0, 3, size=32) if task.classifies else rng.normal(size=(32, n_out)).astype("float32")
    inputs = keras.Input((4,))
    outputs = heads.output(keras.layers.Dense(8, activation="relu")(inputs), name, n_out)
    model = heads.compile_model(keras.Model(inputs, outputs), name, 1e-2)
    assert model.layers[-1].name == task.output_name
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history
    assert set(history) == {"loss", *task.metrics}
    assert history["loss"][-1] < history["loss"][0]
    probs = np.asarray(model.predict(x, verbose=0))
    assert probs.shape == (32, n_out)
    if task.classifies:
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_a_report_with_an_unknown_task_is_damaged(tmp_path) -> None:
    with pytest.raises(RunError, match="task is 'ranking'"):
        Report.from_json({"task": "ranking"}, tmp_path / "report.json")
