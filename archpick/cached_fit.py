"""Training a model whose front part is fixed: compute the fixed part's features once, train only the rest.

A model whose untrained front ends in a layer named FIXED_OUTPUT (MiniRocket's transform: nothing in it is
trained) is trained as two models sharing their layers: an extractor (inputs -> fixed features), run once
over the training and validation data, and a head (fixed features -> outputs), trained for as many epochs
as the regime asks on the cached features. The head's layers are the model's own, so the full model ends
with the trained weights; an epoch costs a pass of a linear layer instead of the transform.

The cache is skipped (ordinary training) when the features would not fit in CACHE_MAX_VALUES, when the head
cannot be cut from the graph (its layers also read the raw inputs), or under a tf.distribute strategy.

With `solve=True` a head that is one Dense layer on the fixed features (optionally after a Normalization, as
MiniRocket's, and before the regression head's target_units Rescaling, as every regression model's) is not
trained by gradient descent but solved in closed form (`archpick.ridge`: ridge regression, its penalty chosen
by leave-one-out error, MiniRocket's published recipe; the linear family's ridge solver on tables); fit() then
runs the callbacks over one "epoch" that scores the solution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras_tuner.src.engine.tuner_utils import SaveBestEpoch

from archpick import ridge

FIXED_OUTPUT = "fixed_features"  # name of the layer that ends a model's fixed, untrained front
TARGET_UNITS = "target_units"  # name of the Rescaling that maps standardised predictions to units (heads.py)
CACHE_MAX_VALUES = 100_000_000  # samples x features cached (400 MB of float32)


class BoundCallback(keras.callbacks.Callback):
    """Runs `inner` against a fixed model, whatever model fit() sets: a checkpoint written while the head
    trains must hold the full model's weights, which are what the tuner reloads.

    Args:
        inner: The callback (keras-tuner's best-epoch checkpoint).
        model: The model it must see.
    """

    def __init__(self, inner: keras.callbacks.Callback, model: keras.Model):
        super().__init__()
        self.inner = inner
        self.inner.set_model(model)

    def set_model(self, model):
        self._model = model  # not passed on: the inner callback keeps the full model

    def on_train_begin(self, logs=None):
        self.inner.on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        self.inner.on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        self.inner.on_train_end(logs)


def split_fixed(model: keras.Model) -> tuple[keras.Model, keras.Model] | None:
    """(extractor, head) sharing the model's layers, or None when the model has no fixed front to cut off."""
    try:
        layer = model.get_layer(FIXED_OUTPUT)
    except ValueError:
        return None
    extractor = keras.Model(model.inputs, layer.output, name=f"{model.name}_fixed")
    features = keras.Input(shape=tuple(layer.output.shape[1:]), dtype=layer.output.dtype, name="fixed_input")
    x, seen = features, False
    for later in model.layers:  # functional layers are in topological order
        if later is layer:
            seen = True
            continue
        if not seen:
            continue
        inbound = later._inbound_nodes[0].input_tensors if later._inbound_nodes else []
        if len(inbound) != 1:  # a branch or a second input: the head is not a chain
            return None
        x = later(x)
    if not seen or x is features:
        return None
    head = keras.Model(features, x, name=f"{model.name}_head")
    head.compile_from_config(model.get_compile_config())
    return extractor, head


def _features(extractor: keras.Model, dataset) -> tuple[np.ndarray, list[np.ndarray]]:
    """The fixed features of every batch, and the batches' other parts (targets, weights) concatenated."""
    feats, rest = [], []
    for batch in dataset:
        batch = batch if isinstance(batch, tuple) else (batch,)
        feats.append(np.asarray(extractor.predict_on_batch(batch[0])))
        rest.append([np.asarray(part) for part in batch[1:]])
    others = [np.concatenate([r[i] for r in rest]) for i in range(len(rest[0]))] if rest else []
    return np.concatenate(feats), others


def _batch_size(dataset) -> int:
    """The leading size of the dataset's first batch."""
    first = next(iter(dataset))
    x = first[0] if isinstance(first, tuple) else first
    x = next(iter(x.values())) if isinstance(x, dict) else x
    return int(x.shape[0])


def fit(model: keras.Model, x, validation_data=None, callbacks: list | None = None, solve: bool = False, **kwargs: Any):
    """model.fit(x, validation_data=..., callbacks=..., **kwargs), on cached features when it can.

    Args:
        model: A compiled model.
        x: A dataset of (inputs, targets[, weights]) batches.
        validation_data: The same for validation, or None.
        callbacks: Callbacks; keras-tuner's best-epoch checkpoint is bound to the full model.
        solve: Solve a linear head in closed form (ridge) instead of training it, when the head allows.
        **kwargs: Passed to fit (epochs, verbose...).

    Returns:
        fit()'s History.
    """
    parts = _cacheable(model, x)
    if parts is None:
        return model.fit(x, validation_data=validation_data, callbacks=callbacks, **kwargs)
    extractor, head, batch_size = parts
    train_x, train_rest = _features(extractor, x)
    first = head.layers[1]
    if isinstance(first, keras.layers.Normalization):  # standardise the fixed features on this training data
        first.adapt(train_x)
    val = None
    if validation_data is not None:
        val_x, val_rest = _features(extractor, validation_data)
        val = (val_x, *val_rest)
    bound = [BoundCallback(cb, model) if isinstance(cb, SaveBestEpoch) else cb for cb in callbacks or []]
    kwargs.pop("shuffle", None)
    weights = train_rest[1] if len(train_rest) > 1 else None
    parts = linear_head(head) if solve and len(train_x) <= ridge.MAX_SAMPLES else None
    if parts is not None:  # one linear layer, samples few enough for the closed form
        return _solve(head, parts, train_x, train_rest[0], weights, val, bound, kwargs.get("class_weight"))
    return head.fit(
        train_x,
        train_rest[0],
        sample_weight=weights,
        batch_size=batch_size,
        shuffle=True,
        validation_data=val,
        callbacks=bound,
        **kwargs,
    )


def _cacheable(model: keras.Model, dataset) -> tuple[keras.Model, keras.Model, int] | None:
    """(extractor, head, the dataset's batch size) when caching applies, else None."""
    try:
        layer = model.get_layer(FIXED_OUTPUT)
    except ValueError:
        return None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.distribute.has_strategy():
            return None
    if not hasattr(dataset, "cardinality"):
        return None
    batch_size = _batch_size(dataset)
    n = int(dataset.cardinality()) * batch_size
    if n <= 0 or n * int(np.prod(layer.output.shape[1:])) > CACHE_MAX_VALUES:
        return None
    parts = split_fixed(model)
    return (*parts, batch_size) if parts else None


@dataclass(frozen=True)
class LinearHead:
    """A head that is one linear layer: [Normalization] -> Dense -> [Rescaling "target_units"].

    Attributes:
        dense: The Dense layer the closed form solves.
        norm: The Normalization before it (MiniRocket's feature scaling), or None.
        units: The Rescaling to the user's units after it (regression on standardised targets), or None.
    """

    dense: keras.layers.Dense
    norm: keras.layers.Normalization | None = None
    units: keras.layers.Rescaling | None = None


def linear_head(head: keras.Model) -> LinearHead | None:
    """The head's layers as a LinearHead, or None when the head is anything else."""
    chain = list(head.layers[1:])
    norm = chain.pop(0) if chain and isinstance(chain[0], keras.layers.Normalization) else None
    units = chain.pop() if chain and isinstance(chain[-1], keras.layers.Rescaling) else None
    if units is not None and units.name != TARGET_UNITS:
        return None
    if len(chain) != 1 or type(chain[0]) is not keras.layers.Dense:
        return None
    return LinearHead(chain[0], norm, units)


def _solve(
    head: keras.Model,
    parts: LinearHead,
    train_x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    val,
    callbacks: list,
    class_weight: dict | None,
):
    """Solve the head's Dense layer by ridge regression, then score it through the callbacks as one epoch.

    Regression is solved on the targets in their units and the target_units scaling (outputs * std + mean) is
    folded into the Dense layer: kernel / std and (bias - mean) / std.
    """
    dense = parts.dense
    classes = int(dense.units) if dense.activation is keras.activations.softmax else 0
    w = np.ones(len(train_x)) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if class_weight and classes:
        w = w * np.asarray([class_weight.get(int(c), 1.0) for c in np.asarray(y).ravel()])
    x = np.asarray(parts.norm(train_x)) if parts.norm is not None else train_x
    solution = ridge.fit(x, y, w, classes)
    kernel, bias = solution.kernel.astype(np.float64), solution.bias.astype(np.float64)
    if parts.units is not None and not classes:
        scale = np.broadcast_to(np.asarray(parts.units.scale, dtype=np.float64), bias.shape)
        offset = np.broadcast_to(np.asarray(parts.units.offset, dtype=np.float64), bias.shape)
        kernel, bias = kernel / scale, (bias - offset) / scale
    dense.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    for cb in callbacks:
        if hasattr(cb, "solved"):
            cb.solved = True
    hooks = keras.callbacks.CallbackList(callbacks, add_history=True, model=head)
    hooks.on_train_begin()
    hooks.on_epoch_begin(0)
    logs = head.evaluate(train_x, y, sample_weight=weights, verbose=0, return_dict=True)
    if val is not None:
        scores = head.evaluate(
            val[0], val[1], sample_weight=val[2] if len(val) > 2 else None, verbose=0, return_dict=True
        )
        logs.update({f"val_{k}": v for k, v in scores.items()})
    hooks.on_epoch_end(0, logs)
    hooks.on_train_end(logs)
    return head.history
