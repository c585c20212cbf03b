"""The text n-gram MLP ("dense" family on text) on real movie-review snippets: it matches TF-IDF + logistic
regression on a held-out split, and its exported SavedModel and model.keras reproduce it on raw strings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
keras_tuner = pytest.importorskip("keras_tuner")

from archpick import hypermodels  # noqa: E402
from archpick.datasets.inputspec import InputSpec  # noqa: E402
from archpick.export import write_saved_model  # noqa: E402
from archpick.hypermodels.base import ModelSpec  # noqa: E402

from conftest import DATA, serve_in_fresh_process  # noqa: E402

pytestmark = pytest.mark.slow

N_TRAIN, N_TEST = 3000, 1000
EPOCHS = 5
BATCH = 64  # what runner.batch_size_for gives for a few thousand samples
# Held-out accuracy on this split (4,000 reviews drawn stratified with seed 0, 3,000 train / 1,000 test),
# measured with the first hand-picked trial after 5 epochs, keras seeds 0 / 1 / 2:
#   TF-IDF 1-2-grams + logistic regression (archpick's baseline: sublinear tf, C=4): 0.731
#   n-gram MLP (TF-IDF bigrams, 2 x 64, dropout 0.2, Adam 1e-3):                      0.728 / 0.730 / 0.737
# (On the full data, stratified 70/15/15 with early stopping, the MLP leads by ~0.6 points: 0.754 vs 0.748.)
# Here it trails by at most 0.003 (5 fixed epochs, no early stopping); the tolerance leaves room for seed and
# CPU-thread noise (~0.5 points on 1,000 texts) without letting a broken model (majority class: 0.578) pass.
TOLERANCE = 0.015
TEXTS = [
    "a warm, funny and wise film",
    "tedious, predictable and far too long",
    "",
    "Über-naïve but GREAT!!",
    "the the the",
]


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> pd.DataFrame:
    """A stratified sample of data/reviews, copied to a temporary CSV and read back from there."""
    frame = pd.read_csv(DATA / "reviews" / "reviews.csv")
    share = (N_TRAIN + N_TEST) / len(frame)
    subset = frame.groupby("label", group_keys=False).sample(frac=share, random_state=0)
    path = tmp_path_factory.mktemp("reviews") / "reviews.csv"
    subset.to_csv(path, index=False)
    return pd.read_csv(path, keep_default_na=False)


def split(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): a stratified N_TEST-row hold-out, seed 0."""
    from sklearn.model_selection import train_test_split

    x = frame["text"].astype(str).to_numpy(dtype=object)
    classes = sorted(frame["label"].unique())
    y = np.array([classes.index(v) for v in frame["label"]])
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=N_TEST, stratify=y, random_state=0)
    return x_train, y_train, x_test, y_test


def baseline_accuracy(x_train, y_train, x_test, y_test) -> float:
    """scikit-learn TF-IDF word 1-2-grams + logistic regression, configured as archpick.baselines."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    model = LogisticRegression(max_iter=2000, C=4.0).fit(vec.fit_transform(x_train), y_train)
    return float(np.mean(model.predict(vec.transform(x_test)) == y_test))


def train_ngram_model(x_train, y_train, seed: int = 0):
    """The first hand-picked trial, built by hypermodels.make from training-split statistics only."""
    spec_in = InputSpec.from_json({"kind": "text", "shape": [], "dtype": "string"})
    stats = hypermodels.fit_stats("text", x_train, spec_in)
    spec = ModelSpec(spec_in, "classification", 2, stats=stats, n_train=len(x_train))
    hm = hypermodels.make("text", "dense", spec)
    hp = keras_tuner.HyperParameters()
    for name, value in hm.initial_hps()[0].items():
        hp.Fixed(name, value)
    keras.utils.set_random_seed(seed)
    model = hm.build(hp)
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    return model


@pytest.fixture(scope="module")
def trained(reviews):
    x_train, y_train, x_test, y_test = split(reviews)
    return train_ngram_model(x_train, y_train), (x_train, y_train, x_test, y_test)


def test_ngram_model_is_registered_as_the_text_dense_family():
    from archpick.families import design_for
    from archpick.hypermodels.text import TextNgramHyperModel

    spec = ModelSpec(InputSpec.from_json({"kind": "text", "shape": [], "dtype": "string"}), "classification", 2)
    hm = hypermodels.make("text", "dense", spec)
    assert isinstance(hm, TextNgramHyperModel) and hm.family == "dense"
    assert design_for("text", "dense")
    first, second = hm.initial_hps()
    assert first["hidden_layers"] == 2 and first["units"] == 64 and second["hidden_layers"] == 0


def test_ngram_mlp_matches_tfidf_logistic_regression(trained):
    model, (x_train, y_train, x_test, y_test) = trained
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    baseline = baseline_accuracy(x_train, y_train, x_test, y_test)
    assert baseline > 0.7  # the split is real, learnable data
    assert accuracy >= baseline - TOLERANCE, f"n-gram MLP {accuracy:.4f} vs TF-IDF + LR {baseline:.4f}"


def test_saved_model_serves_raw_strings_in_a_fresh_process(trained, tmp_path):
    model, _ = trained
    write_saved_model(model, tmp_path / "saved")
    expected = np.asarray(model(tf.constant(TEXTS), training=False))
    np.testing.assert_allclose(
        serve_in_fresh_process(tmp_path / "saved", f"tf.constant({TEXTS!r})"), expected, atol=1e-5
    )
    np.testing.assert_allclose(expected.sum(axis=1), 1.0, atol=1e-5)


def test_keras_file_reloads(trained, tmp_path):
    import archpick.hypermodels.layers  # noqa: F401 - registers archpick's custom layers

    model, _ = trained
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    texts = tf.constant(TEXTS)
    np.testing.assert_allclose(
        np.asarray(loaded(texts, training=False)), np.asarray(model(texts, training=False)), atol=1e-5
    )


@pytest.mark.parametrize(
    "values",
    [
        {"ngram_mode": "multi_hot", "l2_normalize": False, "hidden_layers": 1},
        {"ngram_mode": "count", "l2_normalize": True, "hidden_layers": 0, "l2": 1e-4},
    ],
)
def test_other_modes_build_and_predict(values):
    spec_in = InputSpec.from_json({"kind": "text", "shape": [], "dtype": "string"})
    x = np.array(["good film", "bad film", "good good plot", "awful plot"], dtype=object)
    spec = ModelSpec(spec_in, "classification", 2, stats=hypermodels.fit_stats("text", x, spec_in), n_train=4)
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    model = hypermodels.make("text", "dense", spec).build(hp)
    model.fit(x, np.array([1, 0, 1, 0]), epochs=1, verbose=0)
    out = np.asarray(model(tf.constant(TEXTS), training=False))
    assert out.shape == (len(TEXTS), 2) and np.isfinite(out).all()
