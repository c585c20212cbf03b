"""HyperModels per (modality, family), and the training-split statistics they are built from."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

# (modality, family) -> "module:Class"
REGISTRY: dict[tuple[str, str], str] = {
    ("image", "cnn"): "cnn:CNNHyperModel",
    ("image", "dense"): "dense:DenseHyperModel",
    ("table", "dense"): "dense:DenseHyperModel",
    ("sequence", "rnn"): "rnn:SequenceRNNHyperModel",
    ("sequence", "cnn"): "cnn1d:SequenceCNNHyperModel",
    ("sequence", "dense"): "dense:DenseHyperModel",
    ("text", "rnn"): "text:TextRNNHyperModel",
    ("text", "hybrid"): "text:TextHybridHyperModel",
    ("text", "cnn"): "text:TextCNNHyperModel",
    ("text", "dense"): "text:TextNgramHyperModel",
    ("timeseries", "rnn"): "forecast:ForecastRNNHyperModel",
    ("timeseries", "cnn"): "forecast:ForecastCNNHyperModel",
    ("video", "hybrid"): "video:VideoHybridHyperModel",
    ("video", "cnn"): "video:FrameCNNHyperModel",
}


def register_layers() -> None:
    """Import the modules that define archpick's custom layers, so that a saved model.keras deserialises."""
    importlib.import_module("archpick.hypermodels.layers")
    importlib.import_module("archpick.hypermodels.rocket")


def available(modality: str, family: str) -> bool:
    """True when archpick can train this family on this modality."""
    return (modality, family) in REGISTRY


def make(modality: str, family: str, spec):
    """Instantiate the HyperModel for a modality and family."""
    from archpick.errors import OptionError

    key = (modality, family)
    if key not in REGISTRY:
        raise OptionError(f"archpick cannot train a {family} on {modality} data yet")
    module_name, cls_name = REGISTRY[key].split(":")
    module = importlib.import_module(f"archpick.hypermodels.{module_name}")
    return getattr(module, cls_name)(spec)


def fit_stats(kind: str, x_train: np.ndarray, input_spec: dict[str, Any]) -> dict[str, Any]:
    """Statistics from the training split only (no leakage): per-channel mean/std, vocabulary...

    The per-kind functions live in archpick/hypermodels/stats.py as ``STATS_HOOKS[kind](x_train, input_spec)``.
    """
    from archpick.hypermodels.stats import STATS_HOOKS

    hook = STATS_HOOKS.get(kind)
    return dict(hook(x_train, input_spec)) if hook is not None else {}
