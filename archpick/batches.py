"""Batches without TensorFlow: a `keras.utils.PyDataset` over in-memory arrays or files decoded on the fly.

The JAX and torch backends train on this; the TensorFlow backend uses the tf.data pipeline
(`archpick.pipeline`). Both keep the same contract: training batches are reshuffled every epoch from
the seed, files are decoded a batch at a time (never the whole folder), a small decoded set is cached,
and a file that fails to decode is dropped and counted in `DecodeFailures`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import keras
import numpy as np

from archpick.datasets.inputspec import InputSpec
from archpick.decoding import DecodeFailures, decode_file, fits_cache, input_dtype

DECODE_WORKERS = min(8, os.cpu_count() or 1)  # threads decoding files ahead of the training step


class Batches(keras.utils.PyDataset):
    """(input, target) batches for `Model.fit`, `evaluate` and `predict` on any Keras backend.

    Args:
        x: Inputs (file paths when `decode` is given).
        y: Targets.
        spec: The Bundle's input_spec (shape, dtype).
        training: Reshuffle every epoch (and use `decode_train` when given).
        batch_size: Batch size.
        seed: Shuffle and random-decoding seed.
        decode: path -> raw array, for file inputs.
        decode_train: (path, rng) -> raw array with random sampling, for training.
        failures: Collects files that fail to decode; they are left out of their batch.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        spec: InputSpec,
        *,
        training: bool,
        batch_size: int,
        seed: int,
        decode: Callable[[str], np.ndarray] | None = None,
        decode_train: Callable[[str, np.random.Generator], np.ndarray] | None = None,
        failures: DecodeFailures | None = None,
    ):
        workers = DECODE_WORKERS if decode is not None else 1
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=2 * workers)
        self.x = np.asarray(x)
        y = np.asarray(y)
        self.y = y.astype(np.int64 if np.issubdtype(y.dtype, np.integer) else np.float32)
        self.dtype = input_dtype(spec)
        self.shape = tuple(spec.shape or ())
        self.training, self.batch_size, self.seed = training, int(batch_size), int(seed)
        self.decode, self.failures = decode, failures if failures is not None else DecodeFailures()
        self.decode_train = decode_train if training else None
        self.epoch = 0
        self._order_rng = np.random.default_rng(seed)
        self.order = self._order_rng.permutation(len(self.x)) if training else np.arange(len(self.x))
        self.cache: dict[int, np.ndarray] | None = (
            {}
            if decode is not None and self.decode_train is None and fits_cache(len(self.x), self.shape, self.dtype)
            else None
        )

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        if self.decode is None:
            return self.x[rows].astype(self.dtype, copy=False), self.y[rows]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        kept, arrays = [], []
        for row in rows:
            arr = self._load(int(row), rng)
            if arr is not None:
                kept.append(row)
                arrays.append(arr)
        if not arrays:  # every file of this batch failed: borrow the next file that decodes
            for row in np.roll(self.order, -(index + 1) * self.batch_size):
                arr = self._load(int(row), rng)
                if arr is not None:
                    kept, arrays = [row], [arr]
                    break
            else:
                from archpick.errors import DataError

                raise DataError("no file could be decoded; check the folder's files", self.x[rows[0]])
        return np.stack(arrays), self.y[np.asarray(kept)]

    def _load(self, row: int, rng: np.random.Generator) -> np.ndarray | None:
        if self.cache is not None and row in self.cache:
            return self.cache[row]
        reader = (lambda path: self.decode_train(path, rng)) if self.decode_train is not None else self.decode
        arr = decode_file(str(self.x[row]), reader, self.shape, self.dtype, self.failures)
        if arr is not None and self.cache is not None:
            self.cache[row] = arr  # a dict item assignment is atomic: the decode threads need no lock
        return arr

    def on_epoch_end(self) -> None:
        self.epoch += 1
        if self.training:
            self.order = self._order_rng.permutation(len(self.x))
