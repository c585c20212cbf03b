"""The image CNN HyperModel contract at several input shapes: builds (default and hand-picked trials), fits one
step, never pools a small image away, scales to 224x224, and takes raw uint8 images of any size."""

from __future__ import annotations

import keras_tuner
import numpy as np
import pytest

from archpick.datasets.inputspec import InputSpec
from archpick.hypermodels.base import ModelSpec
from archpick.hypermodels.cnn import CNNHyperModel

SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3)]


def _spec(shape) -> ModelSpec:
    return ModelSpec(
        InputSpec.from_json({"kind": "image", "shape": list(shape), "dtype": "uint8", "channels": shape[-1]}),
        "classification",
        3,
    )


def _configs(hm: CNNHyperModel) -> list[keras_tuner.HyperParameters]:
    out = [keras_tuner.HyperParameters()]
    for values in hm.initial_hps():
        hp = keras_tuner.HyperParameters()
        hm.build(hp)
        hp.values.update(values)
        out.append(hp)
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_builds_and_fits_one_step(shape) -> None:
    hm = CNNHyperModel(_spec(shape))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(6, *shape), dtype=np.uint8)
    y = np.array([0, 1, 2, 0, 1, 2])
    for hp in _configs(hm):
        model = hm.build(hp)
        model.fit(x, y, epochs=1, batch_size=6, verbose=0)
        proba = np.asarray(model(x, training=False))
        assert proba.shape == (6, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
        spatial = [layer.output.shape[1:3] for layer in model.layers[1:] if len(layer.output.shape) == 4]
        assert spatial and min(min(s) for s in spatial) >= 2  # never pooled away to nothing


def test_every_depth_keeps_a_feature_map_on_8x8() -> None:
    hm = CNNHyperModel(_spec((8, 8, 1)))
    hp = keras_tuner.HyperParameters()
    hm.build(hp)
    for blocks in range(1, hm.max_blocks() + 1):
        hp.values["blocks"] = blocks
        model = hm.build(hp)
        last = [layer.output.shape for layer in model.layers if len(layer.output.shape) == 4][-1]
        assert last[1] >= 2 and last[2] >= 2


def test_scales_to_224() -> None:
    hm = CNNHyperModel(_spec((224, 224, 3)))
    assert hm.max_blocks() == 5
    hp = keras_tuner.HyperParameters()
    hm.build(hp)
    hp.values.update({"blocks": 5, "pooling": "flatten"})
    model = hm.build(hp)
    assert model.count_params() < 20_000_000  # flatten falls back to global pooling on big maps
    assert np.asarray(model(np.zeros((1, 224, 224, 3), np.uint8))).shape == (1, 3)


def test_raw_images_of_mixed_sizes() -> None:
    hm = CNNHyperModel(_spec((16, 16, 3)))
    model = hm.build(keras_tuner.HyperParameters())
    for size in ((16, 16), (40, 30), (9, 64)):
        img = np.random.default_rng(1).integers(0, 256, size=(1, *size, 3), dtype=np.uint8)
        assert np.asarray(model(img, training=False)).shape == (1, 3)
