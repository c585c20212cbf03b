"""HyperModels per (modality, family), and the training-split statistics they are built from."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

from archpick.datasets.inputspec import InputSpec
from archpick.families import lookup

LAYER_MODULES = ("layers", "rocket", "table_layers", "transfer", "transformer", "heads")
"""The modules under archpick/hypermodels/ that define custom layers or losses (each registers its own with
`keras.saving.register_keras_serializable`)."""


def register_layers() -> list[ModuleType]:
    """Import the modules that define archpick's custom layers and losses, so that a saved model.keras
    deserialises; returns them."""
    return [importlib.import_module(f"archpick.hypermodels.{name}") for name in LAYER_MODULES]


def available(modality: str, family: str) -> bool:
    """True when archpick can train this family on this modality."""
    return lookup(modality, family) is not None


def make(modality: str, family: str, spec, backbone=None):
    """Instantiate the HyperModel for a modality and family (archpick/families.py names its class); with a
    pretrained `backbone` (archpick.backbone.BackboneSource), the transfer model where it stands in."""
    from archpick.errors import OptionError

    if backbone is not None:
        from archpick.hypermodels.transfer import transfer_hypermodel

        register_layers()  # the source run's model.keras may hold archpick's layers
        hm = transfer_hypermodel(modality, family, spec, backbone)
        if hm is not None:
            return hm

    entry = lookup(modality, family)
    if entry is None:
        raise OptionError(f"archpick cannot train a {family} on {modality} data yet")
    module_name, cls_name = entry.builder.split(":")
    module = importlib.import_module(f"archpick.hypermodels.{module_name}")
    hm = getattr(module, cls_name)(spec)
    hm.variant = entry.variant
    return hm


def fit_stats(kind: str, x_train: np.ndarray, input_spec: InputSpec) -> dict[str, Any]:
    """Statistics from the training split only (no leakage): per-channel mean/std, vocabulary...

    The per-kind functions live in archpick/hypermodels/stats.py; the kind's `Kind.stats` (archpick/kinds.py)
    names its function.
    """
    from archpick.hypermodels import stats
    from archpick.kinds import kind_of

    return dict(getattr(stats, kind_of(kind).stats)(x_train, input_spec))
