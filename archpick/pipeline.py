"""Input pipelines over a Bundle: in-memory arrays, or files decoded on the fly (streaming).

tf.data on the TensorFlow backend; a `keras.utils.PyDataset` (`archpick.batches`) on JAX and torch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from archpick.datasets.inputspec import InputSpec
from archpick.decoding import DecodeFailures, decode_file, fits_cache, input_dtype
from archpick.kinds import kind_of


def make_dataset(
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
    """Batches of (input, target): a tf.data.Dataset on the TensorFlow backend, else `batches.Batches`.

    Files are decoded in parallel map calls and never all held at once, unless the decoded set is
    small enough to cache (CACHE_LIMIT_BYTES) and no random decoding is needed.

    Args:
        x: Inputs (file paths when `decode` is given).
        y: Targets.
        spec: The Bundle's input_spec (kind, shape, dtype).
        training: Shuffle every epoch (and use `decode_train` when given).
        batch_size: Batch size.
        seed: Shuffle seed.
        decode: path -> raw array, for file inputs.
        decode_train: (path, rng) -> raw array with random sampling, for training.
        failures: Collects files that fail to decode; they are dropped from the stream.

    Returns:
        tf.data.Dataset, or a keras.utils.PyDataset on the JAX and torch backends.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        from archpick.batches import Batches

        return Batches(
            x,
            y,
            spec,
            training=training,
            batch_size=batch_size,
            seed=seed,
            decode=decode,
            decode_train=decode_train,
            failures=failures,
        )
    import tensorflow as tf

    n = len(x)
    y = np.asarray(y)
    y_dtype = tf.int64 if np.issubdtype(y.dtype, np.integer) else tf.float32
    if decode is None:
        if kind_of(spec).one_string:
            data = tf.data.Dataset.from_tensor_slices(
                (tf.constant([str(s) for s in x]), y.astype(np.int64 if y_dtype == tf.int64 else np.float32))
            )
        else:
            data = tf.data.Dataset.from_tensor_slices((np.asarray(x), y))
        if training:
            data = data.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    shape = [d for d in spec.shape]
    np_dtype = input_dtype(spec)
    dtype = tf.as_dtype(np_dtype)
    failures = failures if failures is not None else DecodeFailures()
    random_decode = training and decode_train is not None
    rng = np.random.default_rng(seed)
    reader = (lambda path: decode_train(path, rng)) if random_decode else decode

    def _load(path_bytes: bytes) -> tuple[np.ndarray, bool]:
        path = path_bytes.decode("utf-8") if isinstance(path_bytes, bytes) else str(path_bytes)
        arr = decode_file(path, reader, shape, np_dtype, failures)
        return (arr, True) if arr is not None else (np.zeros(shape, dtype=np_dtype), False)

    def _map(path, label):
        arr, ok = tf.numpy_function(_load, [path], [dtype, tf.bool], stateful=random_decode)
        arr.set_shape(shape)
        ok.set_shape([])
        return arr, label, ok

    paths = tf.constant([str(p) for p in x])
    data = tf.data.Dataset.from_tensor_slices((paths, y))
    cache = not random_decode and fits_cache(n, shape, np_dtype)
    if training and not cache:
        data = data.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    data = data.map(_map, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    data = data.filter(_decoded_ok).map(_drop_flag)
    if cache:
        data = data.cache()
        if training:
            data = data.shuffle(min(n, 10_000), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _decoded_ok(sample, label, ok):
    return ok


def _drop_flag(sample, label, ok):
    return sample, label
