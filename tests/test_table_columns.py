"""Every column used, inside the model (issue 12, item 1).

The mixed table is scikit-learn's bundled diabetes data (real, offline) with its sex column written as words,
a clinic column of seven named values, a whole-number grade, a visit date, a free-text remark and a
130-valued referrer code beside the measurements. One small fit (`--time 20s --max-trials 1`) is exported;
its SavedModel is reloaded in a fresh process that imports TensorFlow only, and fed the raw CSV's fields.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_diabetes

from archpick.cli import main
from archpick.datasets import encodings
from archpick.datasets.base import DataOptions
from archpick.datasets.inputspec import InputSpec
from archpick.datasets.tables import load, profile

from conftest import run_readme_snippet

WORDS = (
    "steady stable improving worse tired active smoker walks daily rarely sleeps poorly diet "
    "changed recently follow up needed"
).split()


def _diabetes_mixed(rows: slice = slice(None)) -> pd.DataFrame:
    d = load_diabetes(scaled=False, as_frame=True).frame.iloc[rows].reset_index(drop=True)
    rng = np.random.default_rng(0)
    n = len(d)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:04d}" for i in range(n)],
            "age": d["age"].astype(int),
            "sex": np.where(d["sex"] == 1, "female", "male"),
            "bmi": d["bmi"],
            "bp": d["bp"],
            "s5": d["s5"],
            "clinic": [f"clinic {'ABCDEFG'[int(a) % 7]}" for a in d["age"]],
            "grade": np.digitize(d["s4"], [3, 4, 5, 6]),
            "visit": (pd.Timestamp("2019-01-01") + pd.to_timedelta(np.arange(n) * 3 % 700, unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "referrer": [f"R{int(v) % 130:03d}" for v in d["s1"]],
            "remark": [" ".join(rng.choice(WORDS, 6)) for _ in range(n)],
            "country": "NZ",
            "target": d["target"],
        }
    )


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mixed") / "diabetes_mixed.csv"
    _diabetes_mixed().to_csv(path, index=False)
    return path


def _uses(path: Path, kind: str | None = "table") -> dict[str, tuple[str, bool, str]]:
    prof = profile(path, DataOptions(kind=kind))
    return {u.name: (u.role, u.used, u.reason) for u in prof.column_uses}


def test_each_column_kind_has_its_treatment(mixed_csv: Path) -> None:
    uses = _uses(mixed_csv)
    assert uses["age"][:2] == ("numeric", True) and uses["age"][2] == "numeric values"
    assert uses["sex"][:2] == ("categorical", True) and uses["sex"][2].startswith("one-hot, 2 values")
    assert uses["clinic"][2].startswith("one-hot, 7 values")
    assert uses["grade"][:2] == ("numeric", True) and "one-hot of its 5 whole-number codes" in uses["grade"][2]
    assert uses["visit"][:2] == ("date", True) and uses["visit"][2].startswith("calendar features")
    assert uses["referrer"][:2] == ("categorical", True) and uses["referrer"][2].startswith("embedding, 1")
    assert uses["remark"][:2] == ("text", True) and uses["remark"][2].startswith("bag of words")
    assert uses["patient_id"][:2] == ("id", False) and "an ID" in uses["patient_id"][2]
    assert uses["country"][:2] == ("constant", False) and "one value" in uses["country"][2]


def test_a_numeric_table_keeps_its_float_input(tmp_path: Path) -> None:
    path = tmp_path / "diabetes.csv"
    load_diabetes(scaled=False, as_frame=True).frame.to_csv(path, index=False)
    prof = profile(path, DataOptions())
    bundle = load(prof, DataOptions())
    assert bundle.input_spec == InputSpec("table", (10,), "float32", columns=tuple(prof.facts["columns"]))
    assert bundle.x.dtype == np.float32


def test_string_rows_parse_like_the_model() -> None:
    from archpick.hypermodels.table_layers import ParseNumbers

    fields = ["1.5", " -2 ", "", "n/a", "3e2", ".5", "7.", "1,5"]
    rows = np.array([fields], dtype=object)
    inside = np.asarray(ParseNumbers(list(range(len(fields))))(np.array([fields])))
    outside = encodings.parse_numbers(rows, list(range(len(fields))))
    np.testing.assert_array_equal(np.isnan(inside), np.isnan(outside))
    np.testing.assert_allclose(inside[np.isfinite(inside)], outside[np.isfinite(outside)])


def test_calendar_features_match_pandas() -> None:
    from archpick.hypermodels.table_layers import CalendarFeatures

    dates = ["1900-03-01", "1969-12-31", "2000-02-29", "2024-12-31 10:00", "not a date", ""]
    out = np.asarray(CalendarFeatures(0, 2000.0, 10.0)(np.array([[d] for d in dates])))
    for date, row in zip(dates[:4], out[:4]):
        stamp = pd.Timestamp(date)
        assert row[0] == pytest.approx((stamp.year - 2000) / 10)
        assert np.arctan2(row[1], row[2]) == pytest.approx(np.angle(np.exp(2j * np.pi * (stamp.month - 1) / 12)))
        assert np.arctan2(row[3], row[4]) == pytest.approx(np.angle(np.exp(2j * np.pi * stamp.dayofweek / 7)), abs=1e-5)
        assert np.arctan2(row[5], row[6]) == pytest.approx(
            np.angle(np.exp(2j * np.pi * (stamp.dayofyear - 1) / 365.25)), abs=1e-5
        )
        assert row[7] == 0
    assert (out[4:, :7] == 0).all() and (out[4:, 7] == 1).all()


def test_baselines_one_hot_the_string_columns() -> None:
    train = np.array([["1.5", "red"], ["2", "blue"], ["", "red"]], dtype=object)
    test = np.array([["3", "green"]], dtype=object)
    f_train, f_test = encodings.baseline_features(train, test)
    assert f_train.shape == (3, 3) and f_train[2, 0] == pytest.approx(1.75)
    assert f_test.tolist() == [[3.0, 0.0, 0.0]]


SERVE = """
import csv, json, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
columns = json.load(open(sys.argv[1] + "/archpick.json"))["input_spec"]["columns"]
rows = [[row[c] for c in columns] for row in csv.DictReader(open(sys.argv[2], newline=""))]
print(json.dumps(np.asarray(model.serve(tf.constant(rows))).ravel().tolist()))
"""


@pytest.fixture(scope="module")
def fitted(mixed_csv: Path, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("run") / "run"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(mixed_csv),
            "--kind",
            "table",
            "--time",
            "20s",
            "--max-trials",
            "1",
            "--out",
            str(run_dir),
            "--seed",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    return run_dir


def test_the_model_takes_raw_strings(fitted: Path) -> None:
    meta = json.loads((fitted / "model" / "archpick.json").read_text())
    spec = meta["input_spec"]
    assert spec["dtype"] == "string" and spec["columns"][:3] == ["age", "sex", "bmi"]
    assert {e["name"]: e["how"] for e in spec["encodings"]}["remark"] == "text"
    report = json.loads((fitted / "report.json").read_text())
    assert report["model"]["reload_max_abs_diff"] < 1e-4
    ridge = next(b for b in report["baselines"] if b["name"] == "ridge regression")  # on one-hot categories
    assert ridge["r2"] is not None and ridge["r2"] > 0.2


def test_fresh_process_predicts_as_archpick_on_raw_rows(fitted: Path, tmp_path: Path) -> None:
    from archpick.predict import predict

    frame = _diabetes_mixed(slice(0, 6)).drop(columns="target")
    frame.loc[0, "clinic"] = "clinic Z"  # unseen values take the OOV slot
    frame.loc[1, "sex"] = "unknown"
    frame.loc[2, "referrer"] = "R999"
    frame.loc[3, "bmi"] = np.nan  # a blank number is imputed
    frame.loc[4, "visit"] = ""
    frame.loc[5, "remark"] = "entirely new words here"
    file = tmp_path / "new_patients.csv"
    frame.to_csv(file, index=False)
    ours = [row["prediction"][0] for row in predict(fitted, [file])]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", SERVE, str(fitted / "model"), str(file)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    assert np.isfinite(ours).all() and len(ours) == 6
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-3)
    with open(file, newline="") as fh:
        assert "archpick" not in fh.read()


def test_model_keras_reloads_and_matches(fitted: Path) -> None:
    import keras

    import archpick.layers  # noqa: F401 - registers the layers
    from archpick.export import as_tensor

    spec = InputSpec.from_json(json.loads((fitted / "model" / "archpick.json").read_text())["input_spec"])
    model = keras.saving.load_model(fitted / "model" / "model.keras", compile=False)
    rows = encodings.raw_rows(_diabetes_mixed(slice(0, 4)), spec.column_encodings())
    import tensorflow as tf

    loaded = tf.saved_model.load(str(fitted / "model"))  # keep a reference: its variables die with it
    served = loaded.serve(as_tensor(rows, spec))
    np.testing.assert_allclose(np.asarray(model(as_tensor(rows, spec))), np.asarray(served), rtol=1e-5, atol=1e-5)


def test_predict_refuses_a_table_without_the_columns(fitted: Path, tmp_path: Path) -> None:
    file = tmp_path / "partial.csv"
    _diabetes_mixed(slice(0, 3))[["age", "bmi"]].to_csv(file, index=False)
    result = CliRunner().invoke(main, ["predict", str(fitted), str(file)])
    assert "missing" in result.output and str(file) in result.output
    with open(file, newline="") as fh:
        assert len(list(csv.reader(fh))) == 4


def test_the_serving_contract_of_a_string_table_runs_as_written(fitted: Path) -> None:
    """model/README.md's snippet, run as written from the run directory with TensorFlow alone."""
    readme = (fitted / "model" / "README.md").read_text()
    assert "| `row` | string |" in readme and "one string per column" in readme
    imported, values = run_readme_snippet(fitted)
    assert not imported and np.isfinite(np.asarray(values)).all()  # a row of blanks: every value missing
