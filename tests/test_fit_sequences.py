"""End to end on real sequences, text and a series: short fits, the exported SavedModel reloaded in a fresh
process on raw strings and raw windows, and `archpick predict` on raw files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import archpick
from archpick.cli import main

from conftest import DATA, serve_in_fresh_process

pytestmark = pytest.mark.slow


def _keras(model_dir: Path, x) -> np.ndarray:
    import keras

    import archpick.hypermodels.layers  # noqa: F401 - registers archpick's custom layers

    return np.asarray(keras.saving.load_model(model_dir / "model.keras")(x, training=False))


def test_reviews_text_model_takes_raw_strings(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA / "reviews" / "reviews.csv")
    subset = pd.concat([group.head(300) for _, group in frame.groupby("label")])
    (tmp_path / "reviews").mkdir()
    subset.to_csv(tmp_path / "reviews" / "reviews.csv", index=False)
    run = archpick.fit(tmp_path / "reviews", "30s", max_trials=1, families="recommended", out=tmp_path / "run")
    rep = run.report
    assert rep["profile"]["modality"] == "text" and rep["recommendation"]["family"] in ("rnn", "hybrid")
    assert rep["final"]["metrics"]["n"] == rep["split"]["test"] and len(rep["baselines"]) == 2
    texts = ["a warm, funny and wise film", "tedious, predictable and far too long", ""]
    import tensorflow as tf

    served = serve_in_fresh_process(run.model_path, f"tf.constant({texts!r})")
    np.testing.assert_allclose(served, _keras(run.model_path, tf.constant(texts)), atol=1e-5)
    assert served.shape == (3, 2) and np.allclose(served.sum(axis=1), 1, atol=1e-5)
    doc = tmp_path / "one.txt"
    doc.write_text(texts[0])
    res = CliRunner().invoke(main, ["predict", str(run.path), str(doc), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[-1])["class"] in ("fresh", "rotten")


def test_vowels_variable_length_sequences(tmp_path: Path) -> None:
    run = archpick.fit(DATA / "vowels", "30s", max_trials=1, families="recommended", out=tmp_path / "run")
    rep = run.report
    assert rep["split"]["test_source"] == "shipped test split" and rep["split"]["test"] == 370
    assert rep["recommendation"]["masking"] is True and rep["final"]["family"] == "rnn"
    assert rep["final"]["metrics"]["accuracy"] > 0.5
    spec = json.loads((run.model_path / "archpick.json").read_text())["input_spec"]
    channels = spec["shape"][-1]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 20, channels)).astype("float32")
    x[1, 12:] = np.nan  # a shorter sequence, NaN-padded
    served = serve_in_fresh_process(
        run.model_path, f"tf.constant(np.array({x.tolist()!r}, dtype='float32'))".replace("nan", "float('nan')")
    )
    np.testing.assert_allclose(served, _keras(run.model_path, x), atol=1e-5)
    short = _keras(run.model_path, x[1:, :12])
    np.testing.assert_allclose(short, served[1:], atol=1e-5)  # padding never reaches the state


def test_airline_forecast_and_predict_after_the_end(tmp_path: Path) -> None:
    run = archpick.fit(DATA / "airline", "30s", max_trials=2, families="recommended", out=tmp_path / "run")
    rep = run.report
    assert rep["task"] == "forecasting" and rep["final"]["metrics"]["mase"] is not None
    assert rep["baselines"][0]["name"].startswith("seasonal naive")
    assert "forecast" in rep["plots"] and (run.path / rep["plots"]["forecast"]).exists()
    spec = json.loads((run.model_path / "archpick.json").read_text())["input_spec"]
    series = pd.read_csv(DATA / "airline" / "airline.csv")["passengers"].to_numpy(dtype="float32")
    window = series[-spec["lookback"] :].reshape(1, spec["lookback"], 1)
    served = serve_in_fresh_process(run.model_path, f"tf.constant(np.array({window.tolist()!r}, dtype='float32'))")
    np.testing.assert_allclose(served, _keras(run.model_path, window), rtol=1e-5, atol=1e-3)
    assert served.shape == (1, spec["horizon"]) and 200 < served.mean() < 1000  # original units
    res = CliRunner().invoke(main, ["predict", str(run.path), str(DATA / "airline" / "airline.csv"), "--json"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.output.strip().splitlines()[-1])
    np.testing.assert_allclose(row["prediction"], served[0], rtol=1e-4)
