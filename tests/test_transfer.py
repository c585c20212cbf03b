"""Transfer learning without downloads (issue 14): a named backbone loads the weights file it is given (or finds
in Keras's cache), an empty cache or a missing file is one line with exit 2, and a run that starts from an
earlier archpick image run trains, names its backbone in the report and exports a SavedModel that takes raw
pixels in a fresh process; video runs the same extractor on every frame."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from archpick.cli import main
from archpick.datasets.inputspec import InputSpec

from conftest import DATA, REPO

pytestmark = pytest.mark.slow
MOBILENET_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}


def _archpick(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m archpick ARGS` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "archpick", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**ENV, **(env or {})},
    )


def _copy_classes(classes: str, per_class: int, dst: Path) -> Path:
    """The first `per_class` real digit PNGs of each of `classes` from data/digits."""
    for name in classes:
        (dst / name).mkdir(parents=True)
        for f in sorted((DATA / "digits" / name).iterdir())[:per_class]:
            shutil.copy2(f, dst / name / f.name)
    return dst


def _image_spec(side: int = 8, channels: int = 1):
    from archpick.hypermodels.base import ModelSpec

    return ModelSpec(
        InputSpec.from_json({"kind": "image", "shape": [side, side, channels], "dtype": "uint8", "channels": channels}),
        "classification",
        5,
    )


def test_named_backbone_loads_the_weights_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keras
    import keras_tuner

    from archpick import backbone, hypermodels
    from archpick.hypermodels.transfer import application_backbone

    reference = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(96, 96, 3), alpha=0.35)
    rng = np.random.default_rng(7)  # values no fresh initialisation could give: equal after loading means loaded
    reference.set_weights([w + rng.uniform(0.5, 1.0, w.shape).astype(w.dtype) for w in reference.get_weights()])
    expected = reference.get_weights()
    weights_file = tmp_path / "mine.weights.h5"
    reference.save_weights(weights_file)
    cache = tmp_path / "keras_home"
    (cache / "models").mkdir(parents=True)
    reference.save(cache / "models" / MOBILENET_035)  # the legacy .h5 keras.applications keeps in its cache
    monkeypatch.setenv("KERAS_HOME", str(cache))
    cached = backbone.check("MobileNetV2_0.35", None)
    assert cached.origin == "Keras cache" and cached.path == str(cache / "models" / MOBILENET_035)
    assert all(np.array_equal(a, b) for a, b in zip(application_backbone(cached, 96).get_weights(), expected))

    given = backbone.check("mobilenet_v2_0.35", str(weights_file))  # what --backbone-weights FILE resolves to
    assert given.origin == "--backbone-weights" and given.alpha == 0.35
    hm = hypermodels.make("image", "cnn", _image_spec(), backbone=given)
    frozen = hm.build(keras_tuner.HyperParameters())
    loaded = frozen.get_layer("backbone")
    assert loaded.input.shape[1:] == (96, 96, 3)  # 8x8 digits are resized inside, to MobileNetV2's smallest side
    assert len(loaded.get_weights()) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), expected))
    assert not loaded.trainable_weights and frozen.get_layer("fixed_features")  # a fixed front: computed once

    hp = keras_tuner.HyperParameters()
    hp.Choice("unfreeze_layers", hm.unfreeze_choices(), default=5)
    tuned = hm.build(hp)
    trainable = {layer.name for layer in tuned.get_layer("backbone").layers if layer.trainable_weights}
    assert trainable == {"Conv_1", "block_16_project", "block_16_depthwise", "block_16_expand", "block_15_project"}
    assert np.isclose(float(tuned.optimizer.learning_rate.numpy()), 1e-3 * 0.3)  # fine-tuned at a lower rate
    assert "top 5 of 52 layers with weights fine-tuned" in hm.describe(hp.values)["frozen"]


def test_missing_weights_are_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty_keras_home"
    empty.mkdir()
    out = _archpick("fit", str(DATA / "digits"), "--backbone", "mobilenet_v2", env={"KERAS_HOME": str(empty)})
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in lines[0]
    assert str(empty / "models") in lines[0] and "never downloads" in lines[0]
    assert not (empty / "models").exists() and not out.stdout

    missing = tmp_path / "not_there.h5"
    out = _archpick("fit", str(DATA / "digits"), "--backbone", "mobilenet_v2", "--backbone-weights", str(missing))
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "--backbone-weights" in lines[0], out.stderr


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    """A short archpick CNN run on real digits 0-4: the backbone the transfer runs start from."""
    data = _copy_classes("01234", 40, tmp_path_factory.mktemp("pretrain") / "digits_0_4")
    out = tmp_path_factory.mktemp("runs") / "digits-0-4"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(data),
            "--families",
            "cnn",
            "--time",
            "25s",
            "--max-epochs",
            "2",
            "--max-trials",
            "1",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_transfer_from_a_run_trains_reports_and_serves_raw_pixels(pretrained: Path, tmp_path: Path) -> None:
    small = _copy_classes("56789", 12, tmp_path / "digits_5_9")  # classes the backbone never saw
    out = tmp_path / "transfer"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(small),
            "--backbone",
            str(pretrained),
            "--families",
            "cnn",
            "--time",
            "20s",
            "--max-epochs",
            "2",
            "--max-trials",
            "1",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["backbone"]["kind"] == "run" and report["backbone"]["path"] == str(pretrained.resolve())
    assert report["backbone"]["dataset"] == "digits_0_4" and report["backbone"]["exported"]
    assert "frozen" in report["backbone"]["frozen"]
    assert report["final"]["variant"] == "run digits-0-4 backbone + new head"
    markdown = (out / "report.md").read_text()
    assert "## Transfer learning: the backbone" in markdown and "archpick run digits-0-4" in markdown

    files = [str(sorted((small / c).iterdir())[-1]) for c in "5799"]
    import keras

    import archpick.layers  # noqa: F401 - registers archpick's layers
    from archpick.datasets.images import decode_image

    raw = np.stack([decode_image(f, 1) for f in files])
    model = keras.saving.load_model(out / "model" / "model.keras")
    assert model.get_layer("pretrained_features") is not None
    in_memory = np.asarray(model(raw, training=False))
    code = (
        "import json, numpy as np, tensorflow as tf\nfrom PIL import Image\n"
        f"m = tf.saved_model.load({str(out / 'model')!r})\n"
        f"x = np.stack([np.asarray(Image.open(f))[..., None] for f in {files!r}])\n"
        "print(json.dumps(np.asarray(m.serve(tf.constant(x))).tolist()))\n"
    )
    served = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120
    )
    assert served.returncode == 0, served.stderr[-2000:]
    probabilities = np.asarray(json.loads(served.stdout.strip().splitlines()[-1]))
    assert probabilities.shape == (4, 5)
    np.testing.assert_allclose(probabilities, in_memory, atol=1e-5)


def test_video_runs_the_extractor_on_every_frame(pretrained: Path, tmp_path: Path) -> None:
    import keras_tuner

    from archpick import backbone, hypermodels
    from archpick.export import export_model
    from archpick.hypermodels.base import ModelSpec
    from archpick.modelmeta import ModelMeta

    source = backbone.check(str(pretrained), None, "video")
    spec = ModelSpec(
        InputSpec.from_json({"kind": "video", "shape": [3, 16, 16, 3], "dtype": "uint8", "frames": 3, "size": 16}),
        "classification",
        2,
    )
    hm = hypermodels.make("video", "hybrid", spec, backbone=source)
    hp = keras_tuner.HyperParameters()
    hp.Choice("unfreeze_layers", hm.unfreeze_choices(), default=hm.unfreeze_choices()[-1])  # all fine-tuned
    model = hm.build(hp)
    assert type(model.get_layer("frame_backbone").layer).__name__ == "Functional"
    clips = np.random.default_rng(1).integers(0, 256, (4, 3, 16, 16, 3), dtype=np.uint8)  # colour frames: to grey
    before = [np.array(w) for w in model.get_layer("frame_backbone").get_weights()]
    model.fit(clips, np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    after = model.get_layer("frame_backbone").get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))  # fine-tuned, not frozen
    info = export_model(model, tmp_path / "model", ModelMeta(spec.input_spec, "classification"), ["a", "b"], clips)
    assert info["reload_max_abs_diff"] < 1e-4


def test_a_collection_notes_which_members_the_backbone_skipped(pretrained: Path, tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    root = tmp_path / "mixed"
    _copy_classes("56789", 12, root / "digits")
    (root / "iris").mkdir()
    load_iris(as_frame=True).frame.to_csv(root / "iris" / "iris.csv", index=False)
    out = tmp_path / "out"
    args = ["fit", str(root), "--backbone", str(pretrained), "--time", "60s", "--max-epochs", "2"]
    result = CliRunner().invoke(main, [*args, "--max-trials", "1", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    table = json.loads((out / "iris" / "report.json").read_text())
    assert (
        f"--backbone {pretrained} applies to images and video only; this table dataset trained from scratch"
        in (table["notes"])
    )
    images = json.loads((out / "digits" / "report.json").read_text())
    assert images["backbone"] and not any("--backbone" in n for n in images["notes"])
