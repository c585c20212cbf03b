"""One contract check over every HyperModel in FAMILIES that archpick provides (in the style of
scikit-learn's estimator_checks), plus masking-invariance and no-leakage checks.

For each (modality, family), at two input shapes, with the default hyperparameters and each hand-picked
first trial: it builds, gives outputs of the right shape (probabilities summing to 1), and rebuilds
deterministically (what keras-tuner's `get_best_models` relies on). At the first shape, the first
hand-picked trial also trains one step on tiny real-shaped data through archpick's tf.data pipeline, and
archpick's export writes a SavedModel that reproduces the predictions from raw inputs after
`tf.saved_model.load`, and a `.keras` file that loads back (custom layers registered).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import string

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
keras_tuner = pytest.importorskip("keras_tuner")

from archpick import hypermodels  # noqa: E402
from archpick.datasets.inputspec import InputSpec  # noqa: E402
from archpick.export import as_tensor, export_model  # noqa: E402
from archpick.families import FAMILIES  # noqa: E402
from archpick.hypermodels.base import ModelSpec  # noqa: E402
from archpick.hypermodels.stats import tokenize  # noqa: E402
from archpick.kinds import KINDS  # noqa: E402
from archpick.modelmeta import ModelMeta  # noqa: E402
from archpick.pipeline import make_dataset  # noqa: E402

# Image "cnn" is left out: its two cases cost ~15 s (CPU). Its blocks are built, trained a step, rebuilt and
# reloaded below (test_searched_block_builds_trains_and_reloads), its shapes and first trials fit in
# tests/test_cnn_contract.py, and its export is checked on a digits run in tests/test_fit_images.py.
CHECKED_MODULES = {"rnn", "cnn1d", "text", "forecast", "dense", "linear", "transformer"}
MODALITY_KIND = {"sequence": "sequence", "text": "text", "timeseries": "window", "table": "table", "image": "image"}
N = 12
WORDS = ["good", "bad", "great", "awful", "film", "plot", "acting", "boring", "fun", "the", "a", "was"]


def _sequences(rng: np.random.Generator, steps: int, features: int) -> np.ndarray:
    x = rng.normal(size=(N, steps, features)).astype(np.float32)
    for i in range(N):
        x[i, rng.integers(2, steps + 1) :] = np.nan
    return x


def make_data(modality: str, variant: int, task: str = "classification") -> tuple[np.ndarray, np.ndarray, dict]:
    """Tiny (x, y, input_spec) shaped like the Bundles the data modules produce; `variant` picks a shape."""
    rng = np.random.default_rng(variant)
    y_cls = np.arange(N) % 3
    if modality == "sequence":
        steps, features = (9, 3) if variant == 0 else (5, 1)
        x = _sequences(rng, steps, features)
        return (
            x,
            y_cls,
            InputSpec.from_json(
                {"kind": "sequence", "shape": [None, features], "dtype": "float32", "max_length": steps, "pad": "nan"}
            ),
        )
    if modality == "text":
        length = 6 if variant == 0 else 30
        x = np.array([" ".join(rng.choice(WORDS, rng.integers(1, length))) + "!" for _ in range(N)], dtype=object)
        x[0] = "Über-good, GREAT film... naïve"
        return (
            x,
            y_cls % 2,
            InputSpec.from_json(
                {"kind": "text", "shape": [], "dtype": "string", "vocabulary_size": 20, "doc_length_p95": float(length)}
            ),
        )
    if modality == "timeseries":
        lookback, features, horizon = (8, 1, 3) if variant == 0 else (6, 2, 2)
        t = np.arange(N + lookback + horizon)
        series = 100 + 2 * t + 10 * np.sin(t * 2 * np.pi / 4)
        values = np.stack([series * (1 + 0.1 * f) for f in range(features)], axis=1).astype(np.float32)
        x = np.stack([values[i : i + lookback] for i in range(N)])
        y = np.stack([values[i + lookback : i + lookback + horizon, 0] for i in range(N)])
        return (
            x,
            y,
            InputSpec.from_json(
                {
                    "kind": "window",
                    "shape": [lookback, features],
                    "dtype": "float32",
                    "lookback": lookback,
                    "horizon": horizon,
                    "season": 4,
                    "columns": [f"c{f}" for f in range(features)],
                    "target": "c0",
                }
            ),
        )
    if modality == "table":
        features = 4 if variant == 0 else 1
        x = rng.normal(size=(N, features)).astype(np.float32) * 50 + 10
        x[::4, 0] = np.nan
        y = y_cls if task == "classification" else rng.normal(size=N).astype(np.float32)
        return (
            x,
            y,
            InputSpec.from_json(
                {
                    "kind": "table",
                    "shape": [features],
                    "dtype": "float32",
                    "columns": [f"x{i}" for i in range(features)],
                }
            ),
        )
    if modality == "image":
        side, channels = (8, 1) if variant == 0 else (10, 3)
        x = rng.integers(0, 256, size=(N, side, side, channels), dtype=np.uint8)
        return (
            x,
            y_cls,
            InputSpec.from_json(
                {"kind": "image", "shape": [side, side, channels], "dtype": "uint8", "channels": channels}
            ),
        )
    raise AssertionError(modality)


def provided() -> list[tuple[str, str]]:
    """FAMILIES rows served by CHECKED_MODULES whose module exists and whose modality has data here."""
    out = []
    for entry in sorted(FAMILIES, key=lambda f: (f.modality, f.family)):
        modality, family, module = entry.modality, entry.family, entry.builder.split(":")[0]
        if (
            module in CHECKED_MODULES
            and modality in MODALITY_KIND
            and importlib.util.find_spec(f"archpick.hypermodels.{module}")
        ):
            out.append((modality, family))
    return out


def make_spec(modality: str, variant: int, task: str = "classification"):
    x, y, spec_in = make_data(modality, variant, task)
    if modality == "timeseries":
        task = "forecasting"
    n_out = 3 if modality != "text" else 2
    if task != "classification":
        n_out = int(y.shape[1]) if y.ndim == 2 else 1
    stats = hypermodels.fit_stats(spec_in.kind, x, spec_in)
    return x, y, ModelSpec(spec_in, task, n_out, stats=stats, n_train=len(x))


def fixed_hp(values: dict) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


def small(values: dict) -> dict:
    """Hand-picked values with widths cut down so the check stays fast (the structure is what is tested)."""
    out = dict(values)
    for key, cap in (("units", 8), ("filters", 8), ("embedding_dim", 8), ("width", 16), ("dense_units", 8)):
        if key in out and out[key]:
            out[key] = min(out[key], cap)
    return out


def predict(model, x, spec_in) -> np.ndarray:
    return np.asarray(model(as_tensor(x, spec_in), training=False))


def registered(hm, values: dict) -> set[str]:
    """The hyperparameters a build registers once `values` are set, conditional branches included (a
    conditional name such as rocket_l2 exists only once its parent, block, takes the value it hangs on)."""
    hp = keras_tuner.HyperParameters()
    for _ in range(3):
        hm.build(hp)
        hp.values.update({k: v for k, v in values.items() if k in hp.values})
    return set(hp.values)


CASES = [(m, f, v) for m, f in provided() for v in (0, 1)]


@pytest.mark.parametrize(("modality", "family", "variant"), CASES, ids=[f"{m}-{f}-{v}" for m, f, v in CASES])
def test_hypermodel_contract(modality, family, variant, tmp_path):
    x, y, spec = make_spec(modality, variant)
    hm = hypermodels.make(modality, family, spec)
    assert hm.family == family and hm.variant
    trials = hm.initial_hps()
    # At most four: the 1-D CNN's two MiniRocket trials cost seconds (the transform is computed once).
    assert 1 <= len(trials) <= 4, "give one to four hand-picked first trials"
    default_hp = keras_tuner.HyperParameters()
    hm.build(default_hp)  # registers the whole space with its defaults
    for trial in trials:
        for name in trial:
            assert name in registered(hm, trial), f"initial_hps names {name!r}, which build never registers"
    for i, values in enumerate([None, *trials]):
        hp = default_hp if values is None else fixed_hp(small(values))
        model = hm.build(hp)
        trained = i == 1 and variant == 0
        if trained:  # one training step on the first hand-picked trial, through archpick's pipeline
            data = make_dataset(x, y, spec.input_spec, training=True, batch_size=N, seed=0)
            model.fit(data, epochs=1, verbose=0)
        out = predict(model, x, spec.input_spec)
        assert out.shape == (N, spec.n_outputs)
        assert np.isfinite(out).all()
        if spec.task == "classification":
            np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
        rebuilt = hm.build(hp)  # keras-tuner rebuilds from the same hyperparameters, then loads weights
        rebuilt.set_weights(model.get_weights())
        np.testing.assert_allclose(predict(rebuilt, x, spec.input_spec), out, atol=1e-5)
        if trained:
            _check_export(model, x, spec.input_spec, out, tmp_path)


def _check_export(model, x, spec_in, expected, tmp_path):
    """archpick's own export: the SavedModel served from raw inputs, and model.keras, reproduce `model(x)`."""
    n_classes = expected.shape[1] if spec_in.kind != "window" else 0
    info = export_model(
        model, tmp_path / "model", ModelMeta(spec_in, "classification"), [f"c{i}" for i in range(n_classes)], x[:4]
    )
    assert info["reload_max_abs_diff"] <= 1e-5
    reloaded = tf.saved_model.load(str(tmp_path / "model"))  # keep a reference: its variables die with it
    served = np.asarray(reloaded.serve(as_tensor(x, spec_in)))
    np.testing.assert_allclose(served, expected, atol=1e-5)
    loaded = keras.models.load_model(tmp_path / "model" / "model.keras")
    np.testing.assert_allclose(predict(loaded, x, spec_in), expected, atol=1e-5)


def test_table_regression_head():
    x, y, spec = make_spec("table", 0, task="regression")
    model = hypermodels.make("table", "dense", spec).build(keras_tuner.HyperParameters())
    assert predict(model, x, spec.input_spec).shape == (N, 1)


@pytest.mark.parametrize("family", ["rnn", "cnn"])
def test_padding_does_not_change_predictions(family):
    x, y, spec = make_spec("sequence", 0)
    hm = hypermodels.make("sequence", family, spec)
    for i, values in enumerate([*hm.initial_hps(), None]):
        model = hm.build(keras_tuner.HyperParameters() if values is None else fixed_hp(small(values)))
        if i == 0:
            model.fit(x, y, epochs=1, verbose=0, batch_size=N)  # moves batch-norm statistics off their init
        base = predict(model, x, spec.input_spec)
        padded = np.concatenate([x, np.full((N, 11, x.shape[2]), np.nan, np.float32)], axis=1)
        np.testing.assert_allclose(predict(model, padded, spec.input_spec), base, atol=1e-5)
        for row in range(3):
            length = int(np.isfinite(x[row]).any(axis=1).sum())
            alone = predict(model, x[row : row + 1, :length], spec.input_spec)
            np.testing.assert_allclose(alone, base[row : row + 1], atol=1e-5)


def test_forecaster_starts_at_the_seasonal_naive_forecast():
    x, y, spec = make_spec("timeseries", 0)
    for family in ("rnn", "cnn"):
        hm = hypermodels.make("timeseries", family, spec)
        model = hm.build(fixed_hp(small(hm.initial_hps()[0])))
        season = spec.input_spec.season
        naive = x[:, -season:, 0][:, [h % season for h in range(y.shape[1])]]
        np.testing.assert_allclose(predict(model, x, spec.input_spec), naive, rtol=1e-4)


# --- statistics: training rows only --------------------------------------------------------------------


@pytest.mark.parametrize("modality", ["sequence", "text", "timeseries", "table"])
def test_stats_come_from_training_rows_only(modality):
    x, y, spec = make_spec(modality, 0)
    kind = spec.input_spec.kind
    train, test = np.arange(8), np.arange(8, N)
    before = hypermodels.fit_stats(kind, x[train], spec.input_spec)
    changed = x.copy()
    if modality == "text":
        changed[test] = "zebra unseen words only in test"
    else:
        changed[test] = changed[test] * 1000 + 7
    after = hypermodels.fit_stats(kind, changed[train], spec.input_spec)
    assert before == after
    assert set(KINDS) >= {"sequence", "text", "window", "table"}
    if modality == "text":
        assert "zebra" not in after["vocabulary"]
    else:  # the hook does use the training rows
        moved = changed.copy()
        moved[train] = moved[train] * 3 + 1
        assert hypermodels.fit_stats(kind, moved[train], spec.input_spec) != before


def test_sequence_stats_ignore_padding():
    x, _, spec = make_spec("sequence", 0)
    stats = hypermodels.fit_stats("sequence", x, spec.input_spec)
    valid = x[np.isfinite(x).all(axis=2)]
    np.testing.assert_allclose(stats["mean"], valid.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(stats["std"], valid.std(axis=0), rtol=1e-5)


def test_window_stats_find_the_target_column():
    _, _, spec = make_spec("timeseries", 1)
    spec_in = dataclasses.replace(spec.input_spec, target="c1", target_index=None)
    x, _, _ = make_data("timeseries", 1)
    assert hypermodels.fit_stats("window", x, spec_in)["target_index"] == 1


def test_tokenize_matches_text_vectorization():
    texts = [
        "Hello, World!  It's  GREAT...",
        "Über naïve café — déjà-vu",
        "tabs\tand\nnewlines",
        "",
        string.punctuation + " word",
    ]
    layer = keras.layers.TextVectorization(output_mode="int", vocabulary=["placeholder"])
    standardized = layer._preprocess(tf.constant(texts))  # the layer's own standardise + split
    expected = [[t.decode("utf-8") for t in row] for row in standardized.to_list()]
    assert [tokenize(t) for t in texts] == expected


# --- the seeds' blocks (issue 14): each forced through its hyperparameter -----------------------------------

BLOCK_CASES = [
    ("image", "cnn", {"block": "inception", "factorise_5x5": True}),
    ("image", "cnn", {"block": "inception", "factorise_5x5": False}),
    ("image", "cnn", {"block": "inverted_residual", "expansion": 2}),
    ("sequence", "rnn", {"cell": "simple_rnn"}),
    ("text", "rnn", {"cell": "simple_rnn"}),
    ("timeseries", "rnn", {"cell": "simple_rnn"}),
]
SMALL_BLOCK = {"blocks": 2, "filters": 16, "units": 8, "embedding_dim": 8, "dense_units": 0, "rnn_layers": 2}


def block_hp(hm, values: dict) -> keras_tuner.HyperParameters:
    """Every hyperparameter at its default, then `values` (as BudgetOracle serves a hand-picked trial, so a
    conditional one such as "expansion" takes its value once its parent "block" takes the one it hangs on)."""
    hp = keras_tuner.HyperParameters()
    hm.build(hp)
    hp.values = {h.name: h.default for h in hp.space}
    hp.values.update({k: v for k, v in {**SMALL_BLOCK, **values}.items() if k in hp.values})
    return hp


def _kinds(model) -> list[str]:
    from archpick.hypermodels.heads import sublayers

    return [type(layer).__name__ for layer in sublayers(model)]


def _check_block_structure(model, values: dict) -> None:
    kinds = _kinds(model)
    block = values.get("block")
    if block == "inception":
        joins = [layer for layer in model.layers if isinstance(layer, keras.layers.Concatenate)]
        assert len(joins) == SMALL_BLOCK["blocks"] and all(len(j.input) == 4 for j in joins)
        sizes = {layer.kernel_size for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}
        assert {(1, 1), (3, 3)} <= sizes and ((5, 5) in sizes) is not values["factorise_5x5"]
    elif block == "inverted_residual":
        assert "SeparableConv2D" not in kinds and kinds.count("DepthwiseConv2D") == 2 * SMALL_BLOCK["blocks"]
        relus = [layer for layer in model.layers if isinstance(layer, keras.layers.ReLU)]
        assert all(float(r.max_value) == 6.0 for r in relus)
        # Linear bottleneck: the stem's ReLU6 and two per bottleneck (after expansion and depthwise), no other.
        assert len(relus) == 1 + 2 * 2 * SMALL_BLOCK["blocks"] and "Activation" not in kinds
        # Shortcuts wherever the widths match: both bottlenecks of block 1, the second of block 2.
        assert kinds.count("Add") == 3
        widths = {layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}
        assert 16 * values["expansion"] in widths
    else:
        assert "SimpleRNN" in kinds and "LSTM" not in kinds and "GRU" not in kinds


def _train_one_step(model, x, y, spec_in) -> None:
    """One eager step of the compiled loss and optimizer (no tf.function tracing: seconds saved per case). Every
    trainable weight gets a finite gradient, so no branch of the block is left unconnected (a forecaster's
    zero-initialised output layer stops the deeper ones moving on the first step, so only some must move)."""
    weights = model.trainable_variables
    before = [np.array(w) for w in weights]
    with tf.GradientTape() as tape:
        y_pred = model(as_tensor(x, spec_in), training=True)
        loss = model.compute_loss(y=tf.constant(y), y_pred=y_pred)
    grads = tape.gradient(loss, weights)
    assert all(g is not None and np.isfinite(np.asarray(tf.convert_to_tensor(g))).all() for g in grads)  # dense
    model.optimizer.apply(grads, weights)
    assert any(not np.array_equal(b, np.array(w)) for b, w in zip(before, weights))


@pytest.mark.parametrize(
    ("modality", "family", "values"),
    BLOCK_CASES,
    ids=[f"{m}-{f}-" + "-".join(map(str, v.values())) for m, f, v in BLOCK_CASES],
)
def test_searched_block_builds_trains_and_reloads(modality, family, values, tmp_path):
    from archpick.blocks import blocks_for
    from archpick.hypermodels.heads import SIMPLE_RNN_CLIPNORM

    x, y, spec = make_spec(modality, 0)
    hm = hypermodels.make(modality, family, spec)
    block_name = values.get("block", values.get("cell"))
    assert block_name in {b.name for b in blocks_for(modality, family)}  # the report lists what is built
    hp = block_hp(hm, values)
    model = hm.build(hp)
    _check_block_structure(model, values)
    simple = values.get("cell") == "simple_rnn"
    assert model.optimizer.clipnorm == (SIMPLE_RNN_CLIPNORM if simple else None)
    _train_one_step(model, x, y, spec.input_spec)
    out = predict(model, x, spec.input_spec)
    assert out.shape == (N, spec.n_outputs) and np.isfinite(out).all()
    if spec.task == "classification":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    rebuilt = hm.build(hp)  # keras-tuner rebuilds from the same hyperparameters, then loads weights
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(predict(rebuilt, x, spec.input_spec), out, atol=1e-5)
    model.save(tmp_path / "model.keras")
    hypermodels.register_layers()
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(predict(loaded, x, spec.input_spec), out, atol=1e-5)
    assert loaded.optimizer.clipnorm == model.optimizer.clipnorm  # the clip travels with the model


def test_only_a_simple_rnn_is_clipped():
    x, y, spec = make_spec("sequence", 0)
    hm = hypermodels.make("sequence", "rnn", spec)
    for cell, clip in (("gru", None), ("lstm", None), ("simple_rnn", 1.0)):
        model = hm.build(block_hp(hm, {"cell": cell, "rnn_layers": 1, "bidirectional": True}))
        assert model.optimizer.clipnorm == clip, cell
