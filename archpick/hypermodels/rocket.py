"""Layers for the 1-D CNN family's MiniRocket and InceptionTime blocks (archpick/hypermodels/cnn1d.py).

MiniRocket (Dempster, Schmidt & Webb 2021): 84 fixed length-9 kernels with weights in {-1, 2}, exponentially
spaced dilations, and biases fitted on the training split (archpick/hypermodels/stats.py, `rocket_fit`);
each feature is the proportion of positive values (PPV) of one (convolution - bias) over a series' valid
steps. Nothing in the transform is trained; a linear layer on top is. Multivariate input: each (dilation,
kernel) combination convolves the sum of a random subset of at most 9 channels, as multivariate MiniRocket.

Every constant is rebuilt from the layer's config (the kernels and channel subsets from (channels, number
of dilations, seed); the biases are in the config), so model.keras and the SavedModel reload the same
function. Layers are registered under the "archpick" package like those in layers.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from archpick.hypermodels.layers import PACKAGE
from archpick.hypermodels.stats import ROCKET_SEED, rocket_channel_sets, rocket_kernels

NEG_FILL = -1e9  # padded steps' value for max pooling (below any real activation)


def rocket_conv_kernels(channels: int, n_dilations: int, seed: int = ROCKET_SEED) -> list[np.ndarray]:
    """Per dilation, the (9, channels, 84) Conv1D kernel that sums each combination's channels.

    kernel[j, c, k] = MiniRocket kernel k's weight j when channel c is in combination k's subset, else 0.
    """
    weights = rocket_kernels()
    sets = rocket_channel_sets(channels, n_dilations, seed)
    out = []
    for di in range(n_dilations):
        select = np.zeros((channels, 84))
        for k in range(84):
            select[sets[di * 84 + k], k] = 1.0
        out.append((weights.T[:, None, :] * select[None]).astype("float32"))
    return out


@keras.saving.register_keras_serializable(package=PACKAGE)
class MiniRocketPPV(keras.layers.Layer):
    """[z (batch, steps, channels), mask (batch, steps[, 1])] -> (batch, 84 * sum(features_per_dilation)) PPV.

    `z` is the standardised sequence with 0 at padded steps (MaskedStandardize's output), which is the
    convolution's own zero padding, so a series gives the same features whatever padding follows it. The
    convolution is Conv1D "same" (4 * dilation zeros each side), matching `stats.rocket_convolve`.
    Feature (dilation d, kernel k, i) = mean over valid steps of [conv_dk - bias_dki > 0].

    Args:
        channels: Input channels.
        dilations: The dilations.
        features_per_dilation: Features per kernel at each dilation.
        biases: Flat, in (dilation, kernel, feature) order: 84 * sum(features_per_dilation) values.
        seed: Seed of the channel subsets.
    """

    def __init__(
        self,
        channels: int,
        dilations: Sequence[int],
        features_per_dilation: Sequence[int],
        biases: Sequence[float],
        seed: int = ROCKET_SEED,
        **kwargs,
    ):
        kwargs.setdefault("trainable", False)
        kwargs.setdefault("dtype", "float32")  # thresholds compared in float32 even under mixed precision
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.dilations = [int(d) for d in dilations]
        self.features_per_dilation = [int(n) for n in features_per_dilation]
        self.biases = [float(b) for b in biases]
        self.seed = int(seed)
        if len(self.dilations) != len(self.features_per_dilation):
            raise ValueError("one features_per_dilation entry per dilation")
        if len(self.biases) != 84 * sum(self.features_per_dilation):
            raise ValueError(f"expected {84 * sum(self.features_per_dilation)} biases, got {len(self.biases)}")
        self._kernels = rocket_conv_kernels(self.channels, len(self.dilations), self.seed)
        flat = np.asarray(self.biases, dtype="float32")
        self._biases, start = [], 0
        for n in self.features_per_dilation:
            self._biases.append(flat[start : start + 84 * n].reshape(84, n))
            start += 84 * n

    @property
    def n_features(self) -> int:
        """Output features."""
        return 84 * sum(self.features_per_dilation)

    def convolve(self, z) -> list:
        """The (batch, steps, 84) convolution outputs, one per dilation (before the biases)."""
        z = ops.cast(z, "float32")
        return [
            ops.conv(z, kernel, strides=1, padding="same", dilation_rate=d)
            for kernel, d in zip(self._kernels, self.dilations)
        ]

    def call(self, inputs):
        z, mask = inputs
        mask = ops.cast(mask, "float32")
        if len(mask.shape) == 2:
            mask = mask[..., None]
        features = []
        for conv, bias in zip(self.convolve(z), self._biases):
            # Padded steps become -inf (never above a bias); (batch, 84, steps) so the count runs along the
            # last, contiguous axis (2-4x faster on CPU than along the steps axis), one bias column at a
            # time so the largest intermediate is (batch, 84, steps), not (batch, 84, features, steps).
            conv = ops.transpose(ops.where(mask > 0, conv, ops.full_like(conv, -np.inf)), (0, 2, 1))
            counts = [
                ops.sum(ops.cast(ops.greater(conv, bias[:, i, None]), "float32"), axis=-1) for i in range(bias.shape[1])
            ]
            features.append(ops.reshape(ops.stack(counts, axis=-1), (-1, bias.size)))
        steps = ops.maximum(ops.sum(mask, axis=1), 1.0)
        # Reshaped so the output's shape is static even when the input's rank is not (a py_function batch).
        return ops.reshape(ops.concatenate(features, axis=-1) / steps, (-1, self.n_features))

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.n_features)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "dilations": self.dilations,
            "features_per_dilation": self.features_per_dilation,
            "biases": self.biases,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedMaxPool1D(keras.layers.Layer):
    """[x (batch, steps, channels), mask (batch, steps[, 1])] -> max pooling over valid steps, "same" size.

    Padded steps are set below any value before pooling (so they never win, as the pooling's own padding
    never does) and to 0 after it, so a series pools the same whatever padding follows it.

    Args:
        pool_size: Window.
    """

    def __init__(self, pool_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)

    def call(self, inputs):
        x, mask = inputs
        mask = ops.cast(mask, x.dtype)
        if len(mask.shape) == 2:
            mask = mask[..., None]
        filled = ops.where(mask > 0, x, ops.full_like(x, NEG_FILL))
        pooled = ops.max_pool(filled, pool_size=self.pool_size, strides=1, padding="same")
        return ops.where(mask > 0, pooled, ops.zeros_like(pooled))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}
