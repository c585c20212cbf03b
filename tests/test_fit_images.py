"""End to end on real digits: `archpick fit` through the CLI, the run directory, report, predict, and the
SavedModel reloaded in a fresh process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from archpick.cli import main

from conftest import run_readme_snippet, serve_in_fresh_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits_run(digits_small: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "digits-run"
    result = CliRunner().invoke(
        main, ["fit", str(digits_small), "--time", "60s", "--max-trials", "1", "--seed", "3", "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_run_directory_contents(digits_run: Path) -> None:
    for rel in (
        "report.json",
        "report.md",
        "report.html",
        "leaderboard.csv",
        "status.json",
        "profile.json",
        "model/saved_model.pb",
        "model/model.keras",
        "model/labels.json",
        "model/archpick.json",
        "plots/learning_curves.png",
        "plots/confusion_matrix.png",
        "plots/leaderboard.png",
    ):
        assert (digits_run / rel).exists(), rel
    assert json.loads((digits_run / "status.json").read_text())["status"] == "complete"
    assert json.loads((digits_run / "model/labels.json").read_text()) == {str(i): str(i) for i in range(10)}
    assert list((digits_run / "tuner").rglob("events.out.tfevents.*")), "TensorBoard logs per trial"


def test_report_json_is_complete(digits_run: Path) -> None:
    rep = json.loads((digits_run / "report.json").read_text())
    assert rep["profile"]["n_samples"] == 400 and rep["recommendation"]["family"] == "cnn"
    assert [s["answer"] for s in rep["recommendation"]["steps"]] == ["no", "yes"]
    assert rep["split"]["train"] + rep["split"]["validation"] + rep["split"]["test"] == 400
    assert rep["budget"]["given_s"] == 60 and rep["budget"]["used_s"] <= 60 + 15
    rows = rep["leaderboard"]
    assert rows and all({"hyperparameters", "score", "seconds", "params"} <= set(r) for r in rows)
    assert rows[0]["hyperparameters"]["block"] == "plain"  # the hand-picked first trial
    final = rep["final"]["metrics"]
    assert 0.0 <= final["accuracy"] <= 1.0 and len(final["per_class"]) == 10
    assert np.asarray(final["confusion_matrix"]).sum() == rep["split"]["test"]
    assert any("majority" in b["name"] for b in rep["baselines"])
    assert any("logistic" in b["name"] for b in rep["baselines"])
    assert "Flowchart: CNN" in rep["verdict"]  # after a "Does not beat its baseline" line when it does not
    assert rep["model"]["reload_max_abs_diff"] < 1e-4
    assert rep["hardware"]["device"] == "cpu" and rep["timings"]["search"] > 0
    html = (digits_run / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html


def test_saved_model_in_fresh_process_matches_keras(digits_run: Path, digits_small: Path) -> None:
    files = [str(sorted((digits_small / c).iterdir())[0]) for c in ("0", "3", "7")]
    import keras

    from archpick.datasets.images import decode_image

    raw = np.stack([decode_image(f, 1) for f in files])
    in_memory = np.asarray(keras.saving.load_model(digits_run / "model" / "model.keras")(raw, training=False))
    prelude = "from archpick.datasets.images import decode_image\n"
    inputs = f"tf.constant(np.stack([decode_image(f, 1) for f in {files!r}]))"
    served = serve_in_fresh_process(digits_run / "model", inputs, prelude)
    assert "keras" not in prelude + inputs
    np.testing.assert_allclose(served, in_memory, atol=1e-5)


def test_predict_and_report_commands(digits_run: Path, digits_small: Path) -> None:
    runner = CliRunner()
    file = sorted((digits_small / "4").iterdir())[0]
    res = runner.invoke(main, ["predict", str(digits_run), str(file), "--json"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.output.strip().splitlines()[-1])
    assert row["class"] in [str(i) for i in range(10)] and 0 < row["probability"] <= 1
    assert abs(sum(row["probabilities"].values()) - 1) < 1e-4
    res = runner.invoke(main, ["report", str(digits_run)])
    assert res.exit_code == 0 and "Flowchart: CNN" in res.output and "report.html" in res.output
    res = runner.invoke(main, ["report", str(digits_run), "--format", "json"])
    assert json.loads(res.output)["dataset"] == "digits"


def test_existing_run_dir_is_not_overwritten(digits_run: Path, digits_small: Path) -> None:
    res = CliRunner().invoke(main, ["fit", str(digits_small), "--out", str(digits_run), "--time", "10s"])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert "Traceback" not in res.output


def test_the_answer_card_opens_the_reports(digits_run: Path) -> None:
    """The card: the exported model's test accuracy with its bootstrap interval, beside the best baseline, the
    direction in words, and a next step that follows the evidence (computed here from the report's numbers)."""
    rep = json.loads((digits_run / "report.json").read_text())
    acc = rep["final"]["metrics"]["accuracy"]
    band = rep["final"]["interval"]
    assert band["metric"] == "accuracy" and band["low"] <= acc <= band["high"] and band["high"] - band["low"] > 0
    best = max(b["accuracy"] for b in rep["baselines"])
    md = (digits_run / "report.md").read_text().splitlines()
    assert md[2].startswith("> ") and "**Answer.**" in md[2] and "higher is better" in md[2]
    assert f"test accuracy {acc:.4g} (95% interval {band['low']:.4g}–{band['high']:.4g})" in md[2]
    if acc < best:
        expected = ("❌", "does NOT beat", "use the baseline")
    elif band["low"] <= best <= band["high"]:
        expected = ("⚠️", "within noise", "both are fine")
    else:
        expected = ("✅", "beats the best baseline", "archpick predict")
    assert expected[0] in md[2] and expected[1] in md[4] and expected[2] in md[4]
    html = (digits_run / "report.html").read_text()
    tone = {"❌": "red", "⚠️": "amber", "✅": "good"}[expected[0]]
    assert html.index(f"<div class='answer {tone}'>") < html.index("class='verdict'")


def test_the_serving_contract_is_written_and_its_snippet_runs_without_archpick(digits_run: Path) -> None:
    readme = (digits_run / "model" / "README.md").read_text()
    assert "| `image` | uint8 | (None, None, None, 1) |" in readme  # any size: resized inside the model
    assert "not PNG/JPEG bytes" in readme and "`output_0`" in readme and "0: `0`" in readme
    imported, probs = run_readme_snippet(digits_run)
    probs = np.asarray(probs)
    assert not imported and probs.shape == (1, 10) and abs(probs.sum() - 1) < 1e-4
    md = (digits_run / "report.md").read_text()
    assert "## Serving contract" in md and "Endpoint `serve`" in md
