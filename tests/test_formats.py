"""ONNX and LiteRT export (issue 15, item 6): `archpick export RUN --format onnx|litert`.

One real run (the digits subset, a dense network, one trial of one epoch; --time 30s is only a ceiling for a
loaded machine: the fit ends when its one trial does) is converted to both formats through the CLI. Each file is
then reloaded here with its own runtime, through the snippet model/README.md gives, and fed raw pixels decoded
with Pillow; its predictions must match the SavedModel's. The refusals are checked on real
SavedModels: a text model (LiteRT has no StringNGrams), a GRU (its loop needs TensorFlow select ops, which no
runtime installed here runs: refused rather than written unchecked), and ONNX without tf2onnx.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from archpick.cli import main
from archpick.datasets.inputspec import InputSpec
from archpick.errors import OptionError
from archpick.formats import refusal

from conftest import REPO


@pytest.fixture(scope="module")
def digits_run(digits_small: Path, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("formats") / "run"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(digits_small),
            "--families",
            "dense",
            "--time",
            "30s",
            "--max-trials",
            "1",
            "--max-epochs",
            "1",
            "--out",
            str(run_dir),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return run_dir


def _snippets(readme: str) -> dict[str, str]:
    """The python snippets of model/README.md's "Other formats" section, by the file they load."""
    section = readme.split("## Other formats", 1)[1]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    return {name: b for b in blocks for name in ("model.onnx", "model.tflite") if name in b}


def test_onnx_and_litert_files_predict_as_the_saved_model_on_raw_images(
    digits_run: Path, digits_small: Path, monkeypatch
) -> None:
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("ai_edge_litert")
    lines = []
    for fmt in ("onnx", "litert"):  # one at a time: the README keeps the first when the second is added
        result = CliRunner().invoke(main, ["export", str(digits_run), "--format", fmt])
        assert result.exit_code == 0, result.output
        lines += result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["ONNX", "LiteRT"], lines
    for line in lines:
        diff = float(re.search(r"max \|diff\| from the SavedModel (\S+)", line).group(1))
        assert diff <= 1e-5 and "16 read from" in line, line

    files = sorted(digits_small.rglob("*.png"))[::20]  # two images per class
    x = np.stack([np.asarray(Image.open(f).convert("L"), dtype=np.uint8)[..., None] for f in files])
    import tensorflow as tf

    saved = tf.saved_model.load(str(digits_run / "model"))
    want = saved.serve(tf.constant(x)).numpy()
    snippets = _snippets((digits_run / "model" / "README.md").read_text())
    assert set(snippets) == {"model.onnx", "model.tflite"}
    monkeypatch.chdir(digits_run)  # the snippets are written to run from RUN_DIR
    for name, snippet in snippets.items():
        scope = {"x": x}
        exec(snippet, scope)  # noqa: S102 - the README's own code, as a user would run it
        got = np.asarray(scope["y"])
        assert got.shape == want.shape, name
        assert np.abs(got - want).max() < 1e-5, name
        assert (got.argmax(1) == want.argmax(1)).all(), name


def test_string_inputs_are_refused_by_onnx_and_text_by_litert(tmp_path: Path) -> None:
    text = refusal("onnx", InputSpec("text", (), "string"))
    table = refusal("onnx", InputSpec("table", (2,), "string"))
    assert "raw text" in text and "SavedModel" in text
    assert "table rows as strings" in table
    assert refusal("onnx", InputSpec("image", (8, 8, 1), "uint8")) is None
    assert refusal("litert", InputSpec("text", (), "string")) is None  # decided by the graph's ops, below

    import keras

    from archpick.export import write_saved_model
    from archpick.formats import litert_refusal

    inputs = keras.Input(shape=(), dtype="string", name="text")
    words = keras.layers.TextVectorization(
        ngrams=2, output_mode="tf_idf", vocabulary=["good", "bad", "good film"], idf_weights=[1.0, 1.0, 2.0]
    )(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(words))
    write_saved_model(model, tmp_path / "model")
    why = litert_refusal(tmp_path / "model")
    assert why and "StringNGrams" in why and "SavedModel" in why


def test_a_litert_file_no_runtime_here_can_check_is_not_written(tmp_path: Path) -> None:
    """A GRU's loop needs TensorFlow select ops in LiteRT; without a runtime that runs them here (TensorFlow 2.21,
    ai_edge_litert), the file is refused and nothing is left behind; with one, it must match."""
    import keras
    import tensorflow as tf

    from archpick.export import write_saved_model
    from archpick.formats import check_inputs, convert_and_check

    inputs = keras.Input(shape=(None, 3), name="sequence")
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.GRU(4)(inputs)))
    model_dir = tmp_path / "model"
    write_saved_model(model, model_dir)
    spec = InputSpec("sequence", (None, 3), "float32")
    batch = check_inputs(None, spec, [None, 5, 3])
    assert batch.count == 6 and "made in the model's shape" in batch.source
    loaded = tf.saved_model.load(str(model_dir))
    try:
        result = convert_and_check("litert", model_dir, loaded, spec, batch)
    except OptionError as exc:
        assert "Flex delegate" in str(exc) and "TensorList" in str(exc) and "nothing was written" in str(exc)
        assert sorted(p.name for p in model_dir.glob("model.tflite*")) == []
    else:
        assert result.max_abs_diff <= result.tolerance and result.path.exists()


def test_missing_onnx_packages_is_one_line_naming_pip(digits_run: Path) -> None:
    """tf2onnx made unimportable (Python's own None entry in sys.modules), not mocked."""
    code = (
        "import sys; sys.modules['tf2onnx'] = None\nfrom archpick.cli import main\n"
        f"main(['export', {str(digits_run)!r}, '--format', 'onnx'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().count("\n") == 0 and "pip install 'archpick[onnx]'" in out.stderr, out.stderr


def test_nan_padded_sequences_convert_to_onnx_as_served(tmp_path: Path) -> None:
    """Two tf2onnx faults that formats.py works around, on archpick's own layer: a float Select written as
    cond * x + (1 - cond) * y is NaN wherever the branch not taken is NaN (every NaN-padded sequence), and a
    Normalization's constants became extra graph inputs (Keras 3.15's own ONNX export still has both)."""
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    import keras
    import tensorflow as tf

    from archpick.export import write_saved_model
    from archpick.formats import CheckInputs, convert_and_check
    from archpick.hypermodels.layers import MaskedStandardize

    inputs = keras.Input((None, 3), name="sequence")
    z = MaskedStandardize([0.5] * 3, [2.0] * 3, mask_output=False)(inputs)
    pooled = keras.layers.Normalization(mean=[0.1] * 3, variance=[4.0] * 3)(keras.layers.GlobalAveragePooling1D()(z))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(pooled))
    write_saved_model(model, tmp_path / "model")
    x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype(np.float32)
    x[0, 3:] = np.nan
    x[1, 5:] = np.nan
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    result = convert_and_check(
        "onnx", tmp_path / "model", loaded, InputSpec("sequence", (None, 3), "float32"), CheckInputs([x], "NaN-padded")
    )
    assert result.max_abs_diff < 1e-5 and result.path.exists()
    import onnxruntime

    session = onnxruntime.InferenceSession(str(result.path))
    assert [i.name for i in session.get_inputs()] == ["sequence"]
    assert [o.name for o in session.get_outputs()] == ["output_0"]


def test_export_refuses_a_run_another_process_holds(digits_run: Path, holder) -> None:
    proc = holder(digits_run)  # e.g. a fit resuming this run, or another export
    out = subprocess.run(
        [sys.executable, "-m", "archpick", "export", str(digits_run), "--format", "onnx"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "another archpick process" in out.stderr and f"pid {proc.pid}" in out.stderr
