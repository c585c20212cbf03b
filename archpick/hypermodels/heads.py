"""Task heads: the output layer, loss, metrics and tuning objective for each task."""

from __future__ import annotations

import keras
import keras_tuner

CLASSIFICATION = "classification"


def objective(task: str) -> keras_tuner.Objective:
    """The validation quantity the search optimises."""
    if task == CLASSIFICATION:
        return keras_tuner.Objective("val_accuracy", direction="max")
    return keras_tuner.Objective("val_loss", direction="min")


def output(x, task: str, n_outputs: int):
    """The output layer, kept in float32 under mixed precision."""
    if task == CLASSIFICATION:
        return keras.layers.Dense(n_outputs, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.layers.Dense(n_outputs, dtype="float32", name="prediction")(x)


def compile_model(model: keras.Model, task: str, learning_rate: float, loss: str | None = None) -> keras.Model:
    """Compile with Adam (keywords only: Keras 3's third positional argument is loss_weights)."""
    if task == CLASSIFICATION:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                      loss=loss or "mse", metrics=["mae"])
    return model
