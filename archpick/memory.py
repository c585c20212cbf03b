"""Memory between trials: measure RSS, free what a finished trial left behind, hand freed pages back to the OS.

keras-tuner users report RAM growing trial after trial (keras-tuner #395, #873); `clear_session` and `gc` are
not enough on TensorFlow. The cause found here: every trace of a Keras train step calls
``ReplicaContext.all_reduce`` (in the optimizer), which registers a ``tf.custom_gradient`` in TensorFlow's
process-global gradient registry. The registration is never removed and its closure holds the whole traced
step graph, so every trial's graphs outlived it: about 20 MB of RSS per trial on the sample data.
"""

from __future__ import annotations

import os
import sys

CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


def current_rss_mb() -> float | None:
    """Resident memory of this process now (MB), from /proc; None where /proc is absent."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError):
        return None


def _gradient_registry() -> dict | None:
    ops = sys.modules.get("tensorflow.python.framework.ops")
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None


def custom_gradient_keys() -> set[str]:
    """Names in TensorFlow's gradient registry made by `tf.custom_gradient` (empty without TensorFlow)."""
    registry = _gradient_registry()
    return {k for k in registry if k.startswith(CUSTOM_GRADIENT_PREFIX)} if registry is not None else set()


def forget_custom_gradients(keep: set[str]) -> int:
    """Drop the custom-gradient registrations made since `keep` was taken; returns how many.

    Call it only once the trial's model is gone (after `clear_session`): nothing can differentiate
    through those graphs again.
    """
    registry = _gradient_registry()
    if registry is None:
        return 0
    stale = custom_gradient_keys() - keep
    for key in stale:
        registry.pop(key, None)
    return len(stale)


def release_memory() -> None:
    """Hand freed heap pages back to the OS (glibc's malloc_trim); a no-op elsewhere.

    Measured on airline, 12 trials: RSS after each trial 911-949 MB with it, 928-991 MB without (same growth,
    less noise), so the leaderboard's per-trial RSS reflects live memory.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl)
        pass
