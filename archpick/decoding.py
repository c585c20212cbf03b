"""Decoding files for the input pipelines: one file to an array, failures counted, the cache size rule.

Shared by the tf.data pipeline (archpick/pipeline.py) and the backend-neutral batches (archpick/batches.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CACHE_LIMIT_BYTES = 256 * 2**20  # decoded samples are cached in memory below this size


@dataclass
class DecodeFailures:
    """Files that failed to decode while streaming (thread-safe; reported and counted)."""

    files: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, file: str, reason: str) -> None:
        with self.lock:
            self.files.setdefault(file, reason)


def first_line(exc: BaseException) -> str:
    """A decode error as one short line for the report."""
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__


def input_dtype(spec: dict[str, Any]) -> type:
    """The numpy dtype of a non-text input: uint8 for raw pixels, else float32."""
    return np.uint8 if spec.get("dtype") == "uint8" else np.float32


def fits_cache(n: int, shape: list[int | None] | tuple, dtype: type) -> bool:
    """Whether `n` decoded samples of `shape` and `dtype` fit under CACHE_LIMIT_BYTES."""
    return n * int(np.prod([d or 1 for d in shape])) * np.dtype(dtype).itemsize <= CACHE_LIMIT_BYTES


def decode_file(path: str, decode: Callable[[str], np.ndarray], shape, dtype: type,
                failures: DecodeFailures) -> np.ndarray | None:
    """One file as an array of `shape` and `dtype`; a file that fails is counted in `failures` and gives None."""
    try:
        return np.asarray(decode(path), dtype=dtype).reshape(shape)
    except Exception as exc:  # noqa: BLE001 - a bad file is skipped and counted, never fatal
        failures.add(path, first_line(exc))
        return None
