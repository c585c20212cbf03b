"""Task heads: the output layer, loss, metrics and tuning objective of each task (archpick/tasks.py) in Keras."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import keras
import keras_tuner
import numpy as np

from archpick.cached_fit import TARGET_UNITS
from archpick.tasks import task_of

CLASSIFICATION = "classification"
REGRESSION = "regression"
TARGET_STATS = "target"  # ModelSpec.stats key: the training targets' per-output mean and std (regression)


def target_stats(y_train: np.ndarray) -> dict[str, list[float]]:
    """Per-output mean and standard deviation of the training targets (a constant output gets std 1)."""
    y = np.asarray(y_train, dtype=np.float64).reshape(len(y_train), -1)
    std = y.std(axis=0)
    return {"mean": y.mean(axis=0).tolist(), "std": np.where(std > 1e-12, std, 1.0).tolist()}


def to_target_units(outputs, stats: dict[str, Sequence[float]]):
    """The network predicts standardised targets; this last layer maps them to the user's units, inside the
    model (and so inside the SavedModel): outputs * std + mean."""
    return keras.layers.Rescaling(
        scale=list(stats["std"]), offset=list(stats["mean"]), dtype="float32", name=TARGET_UNITS
    )(outputs)


@keras.saving.register_keras_serializable(package="archpick")
class StandardisedMSE(keras.losses.Loss):
    """Mean squared error in standard deviations of the training targets: the loss of a network trained on
    standardised targets, for a model whose output is in the user's units (val_loss 8,254 in raw units told
    nobody anything, and large targets made the first steps overshoot).

    Args:
        std: Per-output standard deviation of the training targets.
    """

    def __init__(self, std: Sequence[float] = (1.0,), name: str = "standardised_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.std = [float(s) for s in std]

    def call(self, y_true, y_pred):
        scale = keras.ops.convert_to_tensor(self.std, dtype=y_pred.dtype)
        y_true = keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred))
        return keras.ops.mean(keras.ops.square((y_pred - y_true) / scale), axis=-1)

    def get_config(self):
        return {**super().get_config(), "std": self.std}


def objective(task: str) -> keras_tuner.Objective:
    """The validation quantity the search optimises."""
    t = task_of(task)
    return keras_tuner.Objective(t.objective, direction=t.direction)


def output_layer(task: str, n_outputs: int, kernel_regularizer=None) -> keras.layers.Dense:
    """The output layer (the task's activation and name), kept in float32 under mixed precision.

    Args:
        task: The task's name.
        n_outputs: Classes, or values predicted.
        kernel_regularizer: A penalty on its kernel (a linear model's only trained layer), or None.
    """
    t = task_of(task)
    return keras.layers.Dense(
        n_outputs, activation=t.activation, kernel_regularizer=kernel_regularizer, dtype="float32", name=t.output_name
    )


def output(x, task: str, n_outputs: int, kernel_regularizer=None):
    """`x` through the output layer (`output_layer`)."""
    return output_layer(task, n_outputs, kernel_regularizer)(x)


def output_activation(logits, task: str):
    """Logits summed elsewhere (wide and deep) through the task's activation, under the output layer's name."""
    t = task_of(task)
    return keras.layers.Activation(t.activation or "linear", dtype="float32", name=t.output_name)(logits)


SIMPLE_RNN_CLIPNORM = 1.0  # the largest norm of any one weight's gradient in a model with an ungated recurrence


def sublayers(layer: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    """`layer` and every layer inside it (nested models, Bidirectional's two directions, wrapped layers)."""
    yield layer
    if isinstance(layer, keras.Model):
        children = list(layer.layers)
    elif isinstance(layer, keras.layers.Bidirectional):
        children = [layer.forward_layer, layer.backward_layer]
    elif isinstance(layer, keras.layers.Wrapper):
        children = [layer.layer]
    else:
        children = []
    for child in children:
        yield from sublayers(child)


def clipnorm_for(model: keras.Model) -> float | None:
    """Gradient-norm clip for a model's optimizer: SIMPLE_RNN_CLIPNORM when it holds a SimpleRNN, else None.

    A SimpleRNN's gradient through time is a product of one Jacobian per step with no gate to damp it, so it
    can explode (Pascanu et al. 2013); clipping caps each step. LSTM and GRU keep the unclipped optimizer
    their benchmarks were measured with.
    """
    simple = any(isinstance(layer, keras.layers.SimpleRNN) for layer in sublayers(model))
    return SIMPLE_RNN_CLIPNORM if simple else None


def compile_model(
    model: keras.Model, task: str, learning_rate: float, loss: str | keras.losses.Loss | None = None
) -> keras.Model:
    """Compile with Adam (keywords only: Keras 3's third positional argument is loss_weights), with gradient
    clipping where the model holds a SimpleRNN (`clipnorm_for`)."""
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm_for(model))
    t = task_of(task)
    model.compile(optimizer=optimizer, loss=(None if t.classifies else loss) or t.loss, metrics=list(t.metrics))
    return model
