"""archpick's custom Keras layers, registered for `keras.saving.load_model`.

A run's `model/model.keras` keeps its preprocessing inside the model (standardisation of NaN-padded
sequences, forecasting windows, n-gram rows, MiniRocket kernels), in layers that Keras finds by their
registered name ("archpick>MaskedStandardize"). Importing this module registers every one of them:

    import keras
    import archpick.layers  # noqa: F401 - registers archpick's layers

    model = keras.saving.load_model("RUN_DIR/model/model.keras", compile=False)

(`import archpick` alone does not import Keras, so that `archpick --help` and `inspect` stay fast; this
module is the one import a model.keras needs.)
"""

from __future__ import annotations

from archpick.hypermodels import register_layers

_MODULES = tuple(register_layers())

__all__ = sorted(
    name
    for module in _MODULES
    for name, value in vars(module).items()
    if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "get_config")
)


def __getattr__(name: str):
    """The layer classes by name, e.g. `archpick.layers.MaskedStandardize`."""
    for module in _MODULES:
        if name in __all__ and hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'archpick.layers' has no attribute {name!r}")
