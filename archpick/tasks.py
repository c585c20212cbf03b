"""The tasks: one `Task` per kind of target (classification, regression, forecasting), owning what depends on it.

The HyperModels' heads (`hypermodels/heads.py`) take the objective, output layer, loss and training metrics from
here; the evaluate stage (`evaluate.py`) takes the test metrics and baselines; the report takes the headline
metric and its direction. No TensorFlow, no Keras: `inspect` and the report import it.
"""

from __future__ import annotations

from dataclasses import dataclass

LOWER_IS_BETTER = frozenset({"mase", "smape", "mae", "rmse"})
"""Test metrics where a smaller value is better (the others: accuracy, balanced accuracy, R², higher)."""


@dataclass(frozen=True)
class Task:
    """One task and the parts that depend on it.

    Attributes:
        name: "classification", "regression" or "forecasting".
        objective: The validation quantity keras-tuner optimises ("val_accuracy", "val_loss").
        direction: "max" or "min", for `objective`.
        activation: The output layer's activation ("softmax"), or None for a linear output.
        output_name: The output layer's name, as the serving contract shows it.
        loss: The Keras loss (regression trains on standardised targets: `heads.StandardisedMSE` replaces it
            when the training targets' statistics are known; forecasters may override it).
        metrics: The metrics Keras reports while training.
        headline: The test metric the answer card leads with.
        evaluate: The name of this task's evaluation in archpick/evaluate.py (test metrics and baselines).
    """

    name: str
    objective: str
    direction: str
    activation: str | None
    output_name: str
    loss: str
    metrics: tuple[str, ...]
    headline: str
    evaluate: str

    @property
    def classifies(self) -> bool:
        """True when the model outputs class probabilities."""
        return self.activation == "softmax"

    def headline_metric(self, class_weighted: bool = False) -> str:
        """The answer card's metric: balanced accuracy when a classifier's classes were weighted."""
        return "balanced_accuracy" if self.classifies and class_weighted else self.headline


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            "classification",
            "val_accuracy",
            "max",
            "softmax",
            "probabilities",
            "sparse_categorical_crossentropy",
            ("accuracy",),
            "accuracy",
            "evaluate_classification",
        ),
        Task("regression", "val_loss", "min", None, "prediction", "mse", ("mae",), "rmse", "evaluate_regression"),
        Task("forecasting", "val_loss", "min", None, "prediction", "mse", ("mae",), "mase", "evaluate_forecast"),
    )
}


def task_of(name: str) -> Task:
    """The Task called `name`.

    Raises:
        ValueError: No task has that name.
    """
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}") from None
