"""The Transformer family (issue 14): padding changes nothing (numeric sequences and text), when the race takes
it as a challenger, and a real `archpick fit --families transformer` that exports and predicts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from archpick.flowchart import Recommendation
from archpick.race import TRANSFORMER_MIN_LEG_SECONDS, choose_families, split_budget

from conftest import DATA

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
keras_tuner = pytest.importorskip("keras_tuner")

from archpick import hypermodels  # noqa: E402
from archpick.cli import main  # noqa: E402
from archpick.datasets.inputspec import InputSpec  # noqa: E402
from archpick.export import as_tensor  # noqa: E402
from archpick.hypermodels.base import ModelSpec  # noqa: E402

N, STEPS, FEATURES = 8, 9, 3
WORDS = ["good", "bad", "great", "awful", "film", "plot", "acting", "boring", "fun", "the", "a", "was"]


def _hp(values: dict) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


def _trials(hm) -> list[dict]:
    """The hand-picked trials (learned positions, then sinusoidal), narrowed for speed (the structure is what
    is tested)."""
    out = []
    for trial in hm.initial_hps():
        small = {**trial, "dense_units": min(trial.get("dense_units", 0), 8)}
        for key in ("model_dim", "embedding_dim"):
            if key in small:
                small[key] = 16
        out.append(small)
    assert [t["positions"] for t in out] == ["learned", "sinusoidal"]
    return out


def _randomise(model, seed: int) -> None:
    """Every weight random (biases, layer-norm scales and offsets, position table included), as after training
    and unlike at initialisation, where zero biases and unit scales could hide a leak."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype(w.dtype) for w in model.get_weights()])


def _predict(model, x, spec_in: InputSpec) -> np.ndarray:
    return np.asarray(model(as_tensor(x, spec_in), training=False))


def _sequences() -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, STEPS, FEATURES)).astype(np.float32) * 3 + 1
    lengths = [2, 3, 4, 5, 6, 7, 9, 9]
    for i, length in enumerate(lengths):
        x[i, length:] = np.nan
    return (
        x,
        np.arange(N) % 3,
        InputSpec.from_json(
            {"kind": "sequence", "shape": [None, FEATURES], "dtype": "float32", "max_length": STEPS, "pad": "nan"}
        ),
    )


def test_padding_changes_nothing_on_sequences() -> None:
    x, _, spec_in = _sequences()
    spec = ModelSpec(spec_in, "classification", 3, stats=hypermodels.fit_stats("sequence", x, spec_in), n_train=N)
    hm = hypermodels.make("sequence", "transformer", spec)
    assert hm.variant == "Transformer encoder"
    for i, values in enumerate(_trials(hm)):
        model = hm.build(_hp(values))
        _randomise(model, i)
        base = _predict(model, x, spec_in)
        # 20 extra padded steps: past the learned position table's 9 rows, so clipped positions are exercised
        padded = np.concatenate([x, np.full((N, 20, FEATURES), np.nan, np.float32)], axis=1)
        np.testing.assert_allclose(_predict(model, padded, spec_in), base, atol=1e-5)
        for row in (0, 3, 6):  # alone, cropped to its own length: no other sample's length reaches it
            length = int(np.isfinite(x[row]).any(axis=1).sum())
            np.testing.assert_allclose(
                _predict(model, x[row : row + 1, :length], spec_in), base[row : row + 1], atol=1e-5
            )
        # The invariance is the mask's doing: padded steps filled with the training mean standardise to the
        # same zeros as NaN padding, yet as real steps they change the predictions of the shorter samples.
        filled = np.where(np.isfinite(x), x, np.asarray(spec.stats["mean"], np.float32))
        assert np.abs(_predict(model, filled, spec_in)[:4] - base[:4]).max() > 1e-4


def _text_model(hm_values: dict, texts: np.ndarray, length: int):
    spec_in = InputSpec.from_json(
        {"kind": "text", "shape": [], "dtype": "string", "vocabulary_size": len(WORDS), "doc_length_p95": 6.0}
    )
    stats = {**hypermodels.fit_stats("text", texts, spec_in), "output_sequence_length": length}
    spec = ModelSpec(spec_in, "classification", 2, stats=stats, n_train=len(texts))
    return hypermodels.make("text", "transformer", spec).build(_hp(hm_values)), spec_in


def test_padding_changes_nothing_on_text() -> None:
    """The tokeniser pads every text to the model's sequence length with id 0: the same weights at 12 and at 40
    tokens (the longer learned table's first rows set to the shorter one's) give the same predictions."""
    rng = np.random.default_rng(1)
    texts = np.array([" ".join(rng.choice(WORDS, rng.integers(1, 10))) for _ in range(N)], dtype=object)
    spec = ModelSpec(InputSpec("text", (), "string"), "classification", 2)
    for i, values in enumerate(_trials(hypermodels.make("text", "transformer", spec))):
        short, spec_in = _text_model(values, texts, 12)
        _randomise(short, i)
        long, _ = _text_model(values, texts, 40)
        weights = []
        for mine, theirs in zip(short.get_weights(), long.get_weights()):
            if mine.shape != theirs.shape:  # the learned position table: (12, dim) inside (40, dim)
                theirs = theirs.copy()
                theirs[: mine.shape[0]] = mine
                mine = theirs
            weights.append(mine)
        long.set_weights(weights)
        names = [w.path for w in long.weights]
        assert any("positions" in n for n in names) == (values["positions"] == "learned")
        np.testing.assert_allclose(_predict(long, texts, spec_in), _predict(short, texts, spec_in), atol=1e-5)


REC_SEQUENCE = Recommendation(
    family="rnn", runner_up="cnn", variant="LSTM/GRU with masking", runner_up_variant="1-D CNN"
)


def test_the_transformer_is_a_challenger_only_when_the_budget_allows() -> None:
    minutes = 60.0
    assert choose_families(REC_SEQUENCE, "sequence", None, budget=5 * minutes) == [
        ("rnn", "recommended"),
        ("cnn", "runner-up"),
    ]
    legs = choose_families(REC_SEQUENCE, "sequence", None, budget=12 * minutes)
    assert legs == [("rnn", "recommended"), ("cnn", "runner-up"), ("transformer", "challenger")]
    assert min(leg.budget for leg in split_budget(12 * minutes, legs)) >= TRANSFORMER_MIN_LEG_SECONDS
    text = Recommendation(family="rnn", runner_up="cnn")
    assert [f for f, _ in choose_families(text, "text", None, budget=10 * minutes)] == ["rnn", "cnn", "dense"]
    assert choose_families(text, "text", None, budget=18 * minutes)[2:] == [
        ("dense", "challenger"),
        ("transformer", "challenger"),
    ]
    assert [f for f, _ in choose_families(text, "text", None)] == ["rnn", "cnn", "dense"]  # no budget known
    assert choose_families(REC_SEQUENCE, "sequence", "attention") == [("transformer", "requested")]
    assert choose_families(text, "text", "transformer,rnn") == [("transformer", "requested"), ("rnn", "recommended")]


def test_fit_vowels_exports_and_predicts(tmp_path: Path) -> None:
    """A real CLI fit on data/vowels (270 training series): the SavedModel serves raw NaN-padded series as the
    Keras model does, `archpick predict` reads the raw .ts file, and the report places the Transformer."""
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main,
        [
            "fit",
            str(DATA / "vowels"),
            "--families",
            "transformer",
            "--time",
            "20s",
            "--max-trials",
            "1",
            "--max-epochs",
            "2",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert [(f["family"], f["role"]) for f in report["race"]["families"]] == [("transformer", "requested")]
    assert report["final"]["family"] == "transformer" and report["final"]["metrics"]["n"] == 370
    assert "Also raced, not the flowchart's pick: Transformer encoder (requested with --families)." in (
        (out / "report.md").read_text()
    )
    x = np.full((2, 30, 12), np.nan, np.float32)  # a 7-step and a 12-step utterance, padded to 30
    x[0, :7] = np.linspace(-1, 1, 7 * 12).reshape(7, 12)
    x[1, :12] = np.linspace(1, -0.5, 12 * 12).reshape(12, 12)
    saved = tf.saved_model.load(str(out / "model"))  # keep a reference: its variables die with it
    served = np.asarray(saved.serve(tf.constant(x)))
    hypermodels.register_layers()
    loaded = keras.saving.load_model(out / "model" / "model.keras")
    np.testing.assert_allclose(served, np.asarray(loaded(tf.constant(x), training=False)), atol=1e-5)
    np.testing.assert_allclose(served[:1], np.asarray(loaded(tf.constant(x[:1, :7]), training=False)), atol=1e-5)
    csv = tmp_path / "predictions.csv"
    res = CliRunner().invoke(
        main, ["predict", str(out), str(DATA / "vowels" / "JapaneseVowels_TEST.ts"), "--out", str(csv), "-q"]
    )
    assert res.exit_code == 0, res.output
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("path,row,prediction,1,2,") and len(lines) == 371
    probabilities = np.array([[float(v) for v in line.split(",")[3:12]] for line in lines[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
