"""`archpick predict` in bulk (issue 15) on real run directories from short real fits: folders and globs in,
a CSV with a header out (one row per file, one probability column per class, forecast dates), a bad file
skipped with an error row while the rest are predicted, the exit codes; and model.keras, loaded in a fresh
process after `import archpick.layers` and served by `archpick predict` once the SavedModel is removed, for
sequence, series and text runs."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from archpick.batchpredict import expand_paths
from archpick.cli import main

from conftest import DATA, REPO, copy_class_subset

pytestmark = pytest.mark.slow


def _fit(data: Path, out: Path) -> Path:
    """A real, short fit (one trial of the recommended family) through the CLI."""
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(data),
            "--time",
            "20s",
            "--max-trials",
            "1",
            "--families",
            "recommended",
            "--seed",
            "0",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Run directories for images (10 digits per class), sequences (vowels), a series (airline) and text (a
    300-review subset), fitted once for the module."""
    root = tmp_path_factory.mktemp("bulk")
    digits = copy_class_subset(DATA / "digits", root / "digits", 10)
    frame = pd.read_csv(DATA / "reviews" / "reviews.csv")
    (root / "reviews").mkdir()
    pd.concat([group.head(150) for _, group in frame.groupby("label")]).to_csv(
        root / "reviews" / "reviews.csv", index=False
    )
    return {
        "digits": _fit(digits, root / "run-digits"),
        "vowels": _fit(DATA / "vowels", root / "run-vowels"),
        "airline": _fit(DATA / "airline", root / "run-airline"),
        "reviews": _fit(root / "reviews", root / "run-reviews"),
    }


def _predict(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `archpick predict ARGS`."""
    result = CliRunner().invoke(main, ["predict", *args])
    return result.exit_code, result.stdout, result.stderr


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_folder_of_images_gives_a_csv_with_one_row_per_file_and_an_error_row(runs, tmp_path: Path) -> None:
    folder = tmp_path / "new"
    (folder / "more").mkdir(parents=True)
    images = sorted((DATA / "digits" / "3").iterdir())[-3:]  # not in the 10-per-class training subset
    for image in images[:2]:
        shutil.copy2(image, folder / image.name)
    shutil.copy2(images[2], folder / "more" / images[2].name)
    (folder / "broken.png").write_bytes(b"not a png at all")
    (folder / "notes.md").write_text("not data")  # another type: ignored, not an error
    os.mkfifo(folder / "pipe.png")  # never opened: refused as not a regular file
    out = tmp_path / "out.csv"
    code, stdout, stderr = _predict(str(runs["digits"]), str(folder), "--out", str(out))
    assert code == 0, stderr
    labels = list(json.loads((runs["digits"] / "model" / "labels.json").read_text()).values())
    text = out.read_text()
    assert text.splitlines()[0] == ",".join(["path", "prediction", *labels, "error"])
    rows = _csv(text)
    expected = sorted(
        [
            folder / "broken.png",
            folder / "pipe.png",
            folder / images[0].name,
            folder / images[1].name,
            folder / "more" / images[2].name,
        ],
        key=lambda p: p.parts,
    )
    assert [row["path"] for row in rows] == [str(p) for p in expected]
    by_path = {row["path"]: row for row in rows}
    assert "cannot read this image" in by_path[str(folder / "broken.png")]["error"]
    assert "not a regular file" in by_path[str(folder / "pipe.png")]["error"]
    for image in (folder / images[0].name, folder / "more" / images[2].name):
        row = by_path[str(image)]
        assert row["error"] == "" and row["prediction"] in labels
        probs = [float(row[label]) for label in labels]
        assert abs(sum(probs) - 1) < 1e-3 and row["prediction"] == labels[probs.index(max(probs))]
    summary = [line for line in stderr.splitlines() if line.strip()]
    assert len(summary) == 1 and "predicted 3 files" in summary[0] and "skipped 2" in summary[0]
    assert "ignored 1 file" in summary[0]
    # --json keeps its lines, one per input, and a line with the error for each skipped file
    code, stdout, _ = _predict(str(runs["digits"]), str(folder), "--json")
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert code == 0 and len(lines) == 5 and sum("error" in line for line in lines) == 2
    assert {line["class"] for line in lines if "class" in line} <= set(labels)


def test_exit_codes_when_nothing_can_be_predicted(runs, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG but truncated")
    code, stdout, stderr = _predict(str(runs["digits"]), str(bad))  # alone: the one-line error, exit 2
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2 and stdout == "" and len(lines) == 1 and lines[0].startswith(f"error: {bad}:")
    assert "Traceback" not in stderr
    other = tmp_path / "other.png"
    other.write_text("text, not pixels")
    code, stdout, stderr = _predict(str(runs["digits"]), str(bad), str(other))  # none predicted: rows, exit 2
    rows = _csv(stdout)
    assert code == 2 and [row["path"] for row in rows] == [str(bad), str(other)] and all(r["error"] for r in rows)
    assert "predicted 0 files" in stderr and "skipped 2" in stderr
    code, _, stderr = _predict(str(runs["digits"]), str(DATA / "vowels"))  # a folder with no image in it
    assert code == 2 and "holds no image file" in stderr
    code, stdout, _ = _predict(str(runs["digits"]), str(DATA / "digits" / "3" / "digit_00*.png"))  # a quoted glob
    assert code == 0 and len(_csv(stdout)) == len(list((DATA / "digits" / "3").glob("digit_00*.png")))


def test_a_forecast_carries_its_dates(runs, tmp_path: Path) -> None:
    spec = json.loads((runs["airline"] / "model" / "archpick.json").read_text())["input_spec"]
    code, stdout, _ = _predict(str(runs["airline"]), str(DATA / "airline"))
    rows = _csv(stdout)
    assert code == 0 and stdout.splitlines()[0] == "path,step,date,prediction,error"
    assert len(rows) == spec["horizon"] == 12  # one row per step of the horizon
    assert [row["date"] for row in rows[:3]] == ["1961-01-01", "1961-02-01", "1961-03-01"]  # after 1960-12
    assert [int(row["step"]) for row in rows] == list(range(1, 13))
    assert all(100 < float(row["prediction"]) < 2000 for row in rows)  # passengers, original units
    _, stdout, _ = _predict(str(runs["airline"]), str(DATA / "airline" / "airline.csv"), "--json")
    line = json.loads(stdout)
    assert line["dates"][0] == "1961-01-01" and len(line["prediction"]) == 12
    frame = pd.read_csv(DATA / "airline" / "airline.csv").drop(columns="month")  # no time index: step numbers
    frame.to_csv(tmp_path / "undated.csv", index=False)
    code, stdout, _ = _predict(str(runs["airline"]), str(tmp_path / "undated.csv"))
    assert code == 0 and stdout.splitlines()[0] == "path,step,prediction,error" and len(_csv(stdout)) == 12


def test_a_folder_of_sequence_files_gives_a_row_per_sequence(runs, tmp_path: Path) -> None:
    folder = tmp_path / "seqs"
    folder.mkdir()
    lines = (DATA / "vowels" / "JapaneseVowels_TEST.ts").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().lower() == "@data") + 1
    (folder / "a.ts").write_text("\n".join(lines[: start + 3]) + "\n")  # header and three series
    (folder / "b.ts").write_text("this is not a ts file\n")
    code, stdout, stderr = _predict(str(runs["vowels"]), str(folder))
    rows = _csv(stdout)
    assert code == 0 and stdout.splitlines()[0].startswith("path,row,prediction,")
    assert [row["path"] for row in rows] == [str(folder / "a.ts")] * 3 + [str(folder / "b.ts")]
    assert [row["row"] for row in rows[:3]] == [str(start + 1), str(start + 2), str(start + 3)]  # file lines
    assert rows[3]["error"] and not rows[3]["prediction"] and "skipped 1" in stderr


def test_video_folders_are_clips_and_frame_folders_are_one_clip(tmp_path: Path) -> None:
    clips = expand_paths([DATA / "clips"], "video")
    assert len(clips.targets) == len(list((DATA / "clips").rglob("*.mp4"))) > 100
    assert not any(target.clip_folder for target in clips.targets)  # a folder of clips is not a frame folder
    frames = tmp_path / "clip_a"
    frames.mkdir()
    for i, image in enumerate(sorted((DATA / "digits" / "1").iterdir())[:4]):
        shutil.copy2(image, frames / f"frame_{i}.png")
    one = expand_paths([frames], "video").targets
    assert [(t.path, t.clip_folder) for t in one] == [(frames, True)]
    shutil.copy2(sorted((DATA / "clips" / "up").iterdir())[0], tmp_path / "b.mp4")
    both = expand_paths([tmp_path], "video").targets
    assert [(t.path.name, t.clip_folder) for t in both] == [("b.mp4", False), ("clip_a", True)]


def _without_saved_model(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / f"{run.name}-keras-only"
    shutil.copytree(run, copy)
    for item in (copy / "model").iterdir():
        if item.name not in ("model.keras", "labels.json", "archpick.json"):
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    return copy


def test_model_keras_loads_and_predicts_for_sequence_series_and_text(runs, tmp_path: Path) -> None:
    kinds = ("vowels", "airline", "reviews")
    code = (
        "import sys, keras\nimport archpick.layers\n"
        "for path in sys.argv[1:]:\n"
        "    model = keras.saving.load_model(path, compile=False)\n"
        "    print('loaded', type(model).__name__)\n"
    )
    paths = [str(runs[kind] / "model" / "model.keras") for kind in kinds]
    proc = subprocess.run(
        [sys.executable, "-c", code, *paths],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("loaded") == 3
    doc = tmp_path / "review.txt"
    doc.write_text("a warm, funny and wise film")
    inputs = {
        "vowels": DATA / "vowels" / "JapaneseVowels_TEST.ts",
        "airline": DATA / "airline" / "airline.csv",
        "reviews": doc,
    }
    for kind in kinds:
        saved = _csv(_predict(str(runs[kind]), str(inputs[kind]))[1])
        code, stdout, stderr = _predict(str(_without_saved_model(runs[kind], tmp_path)), str(inputs[kind]))
        assert code == 0, f"{kind}: {stderr}"
        keras_rows = _csv(stdout)
        assert len(keras_rows) == len(saved) > 0
        for a, b in zip(saved, keras_rows, strict=True):  # the same function: probabilities or forecast
            numbers = [k for k in a if k not in ("path", "row", "step", "date", "prediction", "error")]
            for key in numbers if numbers else ["prediction"]:
                assert abs(float(a[key]) - float(b[key])) <= 1e-3 * max(1.0, abs(float(a[key]))), (kind, key)
