"""Which Keras backend trains: TensorFlow where it is installed, else JAX or torch (chosen before Keras loads).

archpick's input pipeline, training and `.keras` export run on any Keras 3 backend. Three things need
TensorFlow itself: the SavedModel export, TensorBoard logs, and text models (``TextVectorization`` runs
in TensorFlow). Without it archpick trains on JAX or torch, exports ``model.keras`` only and says so.
JAX is tested (tests/test_backend.py); torch takes the same path but is not tested here.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from archpick.errors import DependencyError

BACKENDS = ("tensorflow", "jax", "torch")


def installed(module: str) -> bool:
    """Whether `module` can be imported (without importing it); a module set to None in sys.modules is not."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def select() -> str:
    """Choose the Keras backend and set KERAS_BACKEND before Keras is imported.

    An explicit KERAS_BACKEND is kept; so is the backend of an already imported Keras. Otherwise
    TensorFlow when installed, else JAX, else torch.

    Returns:
        The backend name.

    Raises:
        DependencyError: The chosen backend's package is not installed, or none is.
    """
    if "keras" in sys.modules and sys.modules["keras"] is not None:
        import keras

        return keras.backend.backend()
    name = os.environ.get("KERAS_BACKEND", "").strip().lower()
    if name:
        if name in BACKENDS and not installed(name):
            raise DependencyError(
                f"KERAS_BACKEND={name}, but {name} is not installed; install it or unset KERAS_BACKEND"
            )
        return name
    for name in BACKENDS:
        if installed(name):
            os.environ["KERAS_BACKEND"] = name
            return name
    raise DependencyError("no Keras backend is installed; pip install tensorflow (or jax, or torch)")


def has_tensorflow() -> bool:
    """Whether TensorFlow is importable here (the SavedModel export and TensorBoard logs need it)."""
    return installed("tensorflow")


def check_modality(backend: str, modality: str, path) -> None:
    """Refuse, in one line, data this backend cannot train on: text needs TensorFlow's TextVectorization."""
    if modality == "text" and backend != "tensorflow":
        raise DependencyError(
            f"text models need the TensorFlow backend (TextVectorization), but Keras runs on "
            f"{backend}; pip install tensorflow and set KERAS_BACKEND=tensorflow",
            path,
        )


def start(verbose: bool = False) -> str:
    """Select the backend and load it (TensorFlow quietly, unless verbose); returns the backend name."""
    name = select()
    if name == "tensorflow":
        from archpick.hardware import import_tensorflow

        import_tensorflow(verbose=verbose)
    return name
