"""Detectors and loaders for tables, text, series, .ts files and arrays.

Behaviour is pinned by data-driven cases: each folder under tests/cases/detect holds a small dataset and a
case.json (which sniffer claims it, the options, the expected profile fields or error, the bundle shapes).
Binary cases (arrays, non-UTF-8 text, hidden files) are built in tmp_path by the builders below and checked
the same way.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from archpick.datasets import arrays, columns, readers, series, tables, text, tsfile
from archpick.datasets.base import Bundle, DataOptions
from archpick.datasets.inputspec import InputSpec
from archpick.datasets.series import season
from archpick.errors import DataError, OptionError
from archpick.profile import DatasetProfile

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).parent / "cases" / "detect"
MODULES = {"tables": tables, "text": text, "tsfile": tsfile, "arrays": arrays}
ROUTE_ORDER = (text, tsfile, arrays, tables)
ERRORS = {"DataError": DataError, "OptionError": OptionError}


def route(profile: DatasetProfile):
    """The module whose SOURCE_NAMES lists the profile's source (first in the dispatcher's order)."""
    for module in ROUTE_ORDER:
        if profile.source in module.SOURCE_NAMES:
            return module
    raise AssertionError(f"no module lists source {profile.source!r}")


def check_subset(actual: Any, expected: Any, where: str = "profile") -> None:
    """Every key of `expected` is in `actual` with an equal value (dicts compared recursively)."""
    if dataclasses.is_dataclass(actual) and isinstance(expected, dict):
        actual = dataclasses.asdict(actual)
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected a dict, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: missing {key!r} in {sorted(actual)}"
            check_subset(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected), f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def check_bundle(bundle: Bundle, profile: DatasetProfile, expect: dict[str, Any]) -> None:
    """Shapes, dtypes and the input_spec of a loaded bundle agree with the profile and the case."""
    assert len(bundle.x) == len(bundle.y)
    if profile.task != "forecasting":
        assert len(bundle.x) == profile.n_samples
    if profile.n_test is not None:
        assert bundle.x_test is not None and len(bundle.x_test) == profile.n_test == len(bundle.y_test)
    spec = bundle.input_spec.to_json()
    assert InputSpec.from_json(spec) == bundle.input_spec
    assert spec["kind"] in ("image", "video", "text", "sequence", "window", "table")
    if spec["kind"] == "text":
        assert bundle.x.dtype == object and all(isinstance(s, str) and s.strip() for s in bundle.x)
    elif spec["kind"] == "table" and spec.get("dtype") == "string":  # a row of raw strings, one per column
        assert bundle.x.dtype == object and bundle.x.shape[1] == len(spec["columns"])
        assert all(isinstance(v, str) for v in bundle.x.ravel())
    elif spec["kind"] in ("sequence", "window", "table"):
        assert bundle.x.dtype == np.float32
    if spec["kind"] == "sequence":
        assert bundle.x.shape[1] == spec["max_length"] and bundle.x.shape[2] == spec["shape"][-1]
    if profile.task == "classification":
        assert bundle.y.dtype == np.int64
        assert bundle.class_names == sorted(bundle.class_names, key=_natural)
        assert set(profile.classes) <= set(bundle.class_names)
    json.dumps(spec)
    for key, value in expect.items():
        if key == "input_spec":
            check_subset(spec, value, "input_spec")
        elif key.endswith("_shape"):
            check_subset(list(getattr(bundle, key[: -len("_shape")]).shape), value, f"bundle.{key}")
        elif key.endswith("_dtype"):
            assert str(getattr(bundle, key[: -len("_dtype")]).dtype) == value
        else:
            check_subset(getattr(bundle, key), value, f"bundle.{key}")


def _natural(name: str) -> tuple:
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def run_case(path: Path, spec: dict[str, Any]) -> DatasetProfile | None:
    """Sniff, profile and load one case; returns the profile (None for an error case)."""
    claimed = [name for name, module in MODULES.items() if module.sniff(path)]
    assert claimed == [spec["module"]], f"sniffers claiming {path.name}: {claimed}"
    module = MODULES[spec["module"]]
    opts = DataOptions(**spec.get("opts", {}))
    if "error" in spec:
        with pytest.raises(ERRORS[spec.get("error_type", "DataError")]) as info:
            module.profile(path, opts)
        assert spec["error"] in str(info.value)
        assert "\n" not in str(info.value)
        return None
    profile = module.profile(path, opts)
    data = profile.to_dict()
    json.dumps(data)
    assert DatasetProfile.from_dict(json.loads(json.dumps(data))).to_dict() == data
    check_subset(data, spec.get("expect", {}))
    flags = {k: v for k, v in data["structure"].items() if k != "evidence" and v}
    for flag in flags:
        assert profile.structure.evidence.get(flag), f"flag {flag} set without evidence"
    for key in spec.get("evidence", []):
        assert profile.structure.evidence.get(key), f"no evidence for {key}"
    for part in spec.get("notes_contain", []):
        assert any(part in note for note in profile.notes), f"{part!r} not in notes {profile.notes}"
    for part in spec.get("skipped_contain", []):
        assert any(part in s.reason for s in profile.skipped), f"{part!r} not in skipped {profile.skipped}"
    bundle = route(profile).load(profile, opts)
    check_bundle(bundle, profile, spec.get("bundle", {}))
    return profile


CASE_DIRS = sorted(d for d in CASES.iterdir() if (d / "case.json").is_file())


@pytest.mark.parametrize("case", CASE_DIRS, ids=[d.name for d in CASE_DIRS])
def test_detect_case(case: Path) -> None:
    spec = json.loads((case / "case.json").read_text())
    run_case(case / spec["path"], spec)


# ----- binary cases, built in tmp_path --------------------------------------------------------------


def _npz(name: str, **arrays_: np.ndarray) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        np.savez(path, **arrays_)
        return path

    return build


rng = np.random.default_rng(0)
LABELS = np.arange(20) % 2
NAN_SEQ = rng.normal(size=(20, 29, 12))
for i in range(20):
    NAN_SEQ[i, 7 + i :] = np.nan
RAGGED_LENGTHS = np.array([3, 5, 4, 6, 2, 5])


def _object_npz(tmp: Path) -> Path:
    path = tmp / "ragged.npz"
    x = np.empty(3, dtype=object)
    x[:] = [np.zeros(2), np.zeros(3), np.zeros(4)]
    np.savez(path, X=x, y=np.arange(3))
    return path


def _split_npz_folder(tmp: Path) -> Path:
    folder = tmp / "digits_arrays"
    folder.mkdir()
    np.savez(folder / "train.npz", X=rng.integers(0, 256, (12, 8, 8), dtype=np.uint8), y=np.arange(12) % 3)
    np.savez(folder / "test.npz", X=rng.integers(0, 256, (6, 8, 8), dtype=np.uint8), y=np.arange(6) % 3)
    (folder / ".DS_Store").write_bytes(b"\0\1")
    return folder


def _npy_folder(tmp: Path) -> Path:
    folder = tmp / "npy"
    folder.mkdir()
    np.save(folder / "X.npy", rng.normal(size=(15, 3)).astype(np.float32))
    np.save(folder / "y.npy", np.array(["a", "b", "c"] * 5))
    return folder


def _single_npy(tmp: Path) -> Path:
    np.save(tmp / "x.npy", np.zeros((4, 3)))
    return tmp / "x.npy"


def _non_utf8_text(tmp: Path) -> Path:
    root = tmp / "letters"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            (root / cls / f"{i}.txt").write_text(f"plain words for class {cls} number {i}", encoding="utf-8")
    (root / "a" / "latin.txt").write_bytes("caf\xe9 na\xefve r\xe9sum\xe9 words".encode("latin-1"))
    (root / "a" / ".hidden.txt").write_text("never read")
    (root / "b" / "._resource.txt").write_bytes(b"\x00\x05\x16\x07")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    return root


def _hidden_table_folder(tmp: Path) -> Path:
    folder = tmp / "table"
    folder.mkdir()
    pd.DataFrame({"a": range(12), "b": [i * 0.5 for i in range(12)], "label": ["x", "y"] * 6}).to_csv(
        folder / "data.csv", index=False
    )
    (folder / ".old.csv").write_text("garbage\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "notes.txt").write_text("about the data")
    return folder


def _parquet_series(tmp: Path) -> Path:
    t = np.arange(96)
    frame = pd.DataFrame(
        {"ds": pd.date_range("2020-01-01", periods=96, freq="h"), "load": 50 + 10 * np.sin(2 * np.pi * t / 24)}
    )
    frame.sample(frac=1.0, random_state=0).to_parquet(tmp / "load.parquet")
    return tmp / "load.parquet"


def _parquet_table(tmp: Path) -> Path:
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20) % 4, "label": ["u", "v"] * 10})
    frame.to_parquet(tmp / "t.parquet")
    return tmp / "t.parquet"


def _png_named_csv(tmp: Path) -> Path:
    (tmp / "t.csv").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    return tmp / "t.csv"


def _empty_documents(tmp: Path) -> Path:
    for cls in ("a", "b"):
        (tmp / "docs" / cls).mkdir(parents=True)
        (tmp / "docs" / cls / "0.txt").write_bytes(b"")
    return tmp / "docs"


def _hidden_ts_folder(tmp: Path) -> Path:
    src = CASES / "ts_folder_pair" / "Toy"
    folder = tmp / "Toy"
    folder.mkdir()
    for f in src.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / ".Toy_OLD_TRAIN.ts").write_text("not parsed")
    return folder


BINARY_CASES: dict[str, tuple[Callable[[Path], Path], dict[str, Any]]] = {
    "npz_gray_uint8_images": (
        _npz("gray.npz", X=rng.integers(0, 256, (20, 8, 8), dtype=np.uint8), y=LABELS),
        {
            "module": "arrays",
            "expect": {
                "modality": "image",
                "source": "npz",
                "n_samples": 20,
                "classes": {"0": 10, "1": 10},
                "structure": {"spatial": True},
                "facts": {"height": 8, "width": 8, "channels": 1},
            },
            "bundle": {
                "x_shape": [20, 8, 8, 1],
                "x_dtype": "uint8",
                "input_spec": {"kind": "image", "shape": [8, 8, 1], "dtype": "uint8"},
            },
        },
    ),
    "npz_rgb_images_int_values": (
        _npz("rgb.npz", X=rng.integers(0, 256, (12, 6, 5, 3)).astype(np.int64), y=np.arange(12) % 3),
        {
            "module": "arrays",
            "expect": {"modality": "image", "facts": {"channels": 3}},
            "bundle": {"x_shape": [12, 6, 5, 3]},
        },
    ),
    "npz_square_float_images": (
        _npz("sq.npz", X=rng.normal(size=(10, 16, 16)).astype(np.float32), y=np.arange(10) % 2),
        {
            "module": "arrays",
            "expect": {"modality": "image", "structure": {"spatial": True}},
            "evidence": ["spatial"],
            "bundle": {"x_shape": [10, 16, 16, 1], "x_dtype": "float32"},
        },
    ),
    "npz_nan_padded_sequences": (
        _npz("seq.npz", X=NAN_SEQ, y=LABELS),
        {
            "module": "arrays",
            "expect": {
                "modality": "sequence",
                "structure": {"temporal": True, "variable_length": True},
                "facts": {"channels": 12, "lengths": {"min": 7, "median": 16.5, "max": 26}},
            },
            "evidence": ["temporal", "variable_length"],
            "bundle": {
                "x_shape": [20, 26, 12],
                "input_spec": {"kind": "sequence", "shape": [None, 12], "max_length": 26},
            },
        },
    ),
    "npz_rect_float_sequences": (
        _npz("rect.npz", x=rng.normal(size=(10, 20, 3)), Y=np.arange(10) % 2),
        {
            "module": "arrays",
            "expect": {"modality": "sequence", "structure": {"variable_length": False}},
            "bundle": {"input_spec": {"shape": [20, 3]}},
        },
    ),
    "npz_table_regression": (
        _npz("tab.npz", X=rng.normal(size=(30, 4)), y=rng.normal(size=30)),
        {
            "module": "arrays",
            "expect": {
                "modality": "table",
                "task": "regression",
                "structure": {"tabular": True},
                "facts": {"n_features": 4},
            },
            "bundle": {
                "x_shape": [30, 4],
                "y_dtype": "float32",
                "input_spec": {"kind": "table", "shape": [4]},
            },
        },
    ),
    "npz_video_4d": (
        _npz("clips.npz", X=rng.integers(0, 256, (6, 5, 10, 10), dtype=np.uint8), y=np.arange(6) % 2),
        {
            "module": "arrays",
            "expect": {
                "modality": "video",
                "structure": {"spatial": True, "temporal": True},
                "facts": {"frames": 5},
            },
            "bundle": {"x_shape": [6, 5, 10, 10, 1]},
        },
    ),
    "npz_video_5d": (
        _npz("clips5.npz", X=rng.integers(0, 256, (6, 4, 8, 8, 3), dtype=np.uint8), y=np.arange(6) % 2),
        {
            "module": "arrays",
            "expect": {"modality": "video", "facts": {"frames": 4, "channels": 3}},
            "bundle": {"x_shape": [6, 4, 8, 8, 3]},
        },
    ),
    "npz_ragged_lengths": (
        _npz(
            "rag.npz",
            X=rng.normal(size=(int(RAGGED_LENGTHS.sum()), 2)),
            lengths=RAGGED_LENGTHS,
            y=np.arange(6) % 2,
        ),
        {
            "module": "arrays",
            "expect": {"modality": "sequence", "n_samples": 6, "facts": {"lengths": {"min": 2, "max": 6}}},
            "bundle": {"x_shape": [6, 6, 2], "input_spec": {"shape": [None, 2]}},
        },
    ),
    "npz_one_hot_and_test_keys": (
        _npz(
            "oh.npz",
            X=rng.normal(size=(10, 3)),
            y=np.eye(2)[np.arange(10) % 2],
            X_test=rng.normal(size=(4, 3)),
            y_test=np.arange(4) % 2,
        ),
        {
            "module": "arrays",
            "expect": {"split": "files", "n_test": 4, "classes": {"0": 5, "1": 5}},
            "notes_contain": ["one-hot"],
            "bundle": {"x_test_shape": [4, 3]},
        },
    ),
    "npz_kind_sequence_on_2d": (
        _npz("uni.npz", X=rng.normal(size=(10, 24)), y=np.arange(10) % 2),
        {
            "module": "arrays",
            "opts": {"kind": "sequence"},
            "expect": {"modality": "sequence"},
            "bundle": {"x_shape": [10, 24, 1]},
        },
    ),
    "npz_kind_sequence_on_square": (
        _npz("sq2.npz", X=rng.normal(size=(10, 16, 16)), y=np.arange(10) % 2),
        {"module": "arrays", "opts": {"kind": "sequence"}, "expect": {"modality": "sequence"}},
    ),
    "npz_kind_table_flattens": (
        _npz("img.npz", X=rng.integers(0, 256, (10, 4, 4), dtype=np.uint8), y=np.arange(10) % 2),
        {
            "module": "arrays",
            "opts": {"kind": "table"},
            "expect": {"modality": "table", "facts": {"n_features": 16}},
            "notes_contain": ["flattened"],
            "bundle": {"x_shape": [10, 16]},
        },
    ),
    "npz_kind_text_refused": (
        _npz("t.npz", X=rng.normal(size=(10, 3)), y=np.arange(10) % 2),
        {"module": "arrays", "opts": {"kind": "text"}, "error_type": "OptionError", "error": "--kind text"},
    ),
    "npz_object_arrays": (_object_npz, {"module": "arrays", "error": "NaN-padded float arrays"}),
    "npz_missing_keys": (
        _npz("keys.npz", X=np.zeros((4, 2)), labels=np.arange(4)),
        {"module": "arrays", "error": "no y array (found: X, labels)"},
    ),
    "npz_length_mismatch": (
        _npz("mis.npz", X=np.zeros((10, 2)), y=np.arange(9)),
        {"module": "arrays", "error": "X has 10 samples but y has 9"},
    ),
    "npz_ragged_bad_total": (
        _npz("rb.npz", X=np.zeros((10, 2)), lengths=np.full(6, 3), y=np.arange(6) % 2),
        {"module": "arrays", "error": "lengths add up to 18 but X has 10 steps"},
    ),
    "npz_six_dims": (
        _npz("6d.npz", X=np.zeros((2, 2, 2, 2, 2, 2)), y=np.arange(2)),
        {"module": "arrays", "error": "2-D to 5-D"},
    ),
    "npz_split_folder": (
        _split_npz_folder,
        {"module": "arrays", "expect": {"modality": "image", "split": "files", "n_samples": 12, "n_test": 6}},
    ),
    "npy_folder": (
        _npy_folder,
        {
            "module": "arrays",
            "expect": {"modality": "table", "task": "classification", "classes": {"a": 5, "b": 5, "c": 5}},
            "bundle": {"class_names": ["a", "b", "c"]},
        },
    ),
    "npy_single_without_labels": (_single_npy, {"module": "arrays", "error": "no y array (found: X)"}),
    "text_non_utf8_and_hidden": (
        _non_utf8_text,
        {
            "module": "text",
            "expect": {"n_samples": 7, "classes": {"a": 4, "b": 3}, "facts": {"non_utf8_documents": 1}},
            "notes_contain": ["not UTF-8"],
            "bundle": {"x_shape": [7]},
        },
    ),
    "table_folder_hidden_files": (
        _hidden_table_folder,
        {"module": "tables", "expect": {"modality": "table", "n_samples": 12, "split": "holdout"}},
    ),
    "parquet_series_unsorted": (
        _parquet_series,
        {
            "module": "tables",
            "expect": {"modality": "timeseries", "facts": {"frequency": "hourly", "season": 24}},
            "notes_contain": ["sorted by 'ds'"],
        },
    ),
    "parquet_table": (
        _parquet_table,
        {"module": "tables", "expect": {"modality": "table", "classes": {"u": 10, "v": 10}}},
    ),
    "csv_with_binary_bytes": (_png_named_csv, {"module": "tables", "error": "holds binary data"}),
    "text_every_document_empty": (_empty_documents, {"module": "text", "error": "every .txt document is empty"}),
    "ts_folder_hidden_files": (
        _hidden_ts_folder,
        {"module": "tsfile", "expect": {"n_samples": 10, "n_test": 4}},
    ),
}


@pytest.mark.parametrize("name", sorted(BINARY_CASES))
def test_binary_case(name: str, tmp_path: Path) -> None:
    build, spec = BINARY_CASES[name]
    run_case(build(tmp_path), spec)


# ----- behaviour beyond the cases -------------------------------------------------------------------


def test_modules_do_not_import_tensorflow() -> None:
    code = (
        "import sys\n"
        "import archpick.datasets.columns, archpick.datasets.tables, archpick.datasets.text\n"
        "import archpick.datasets.series, archpick.datasets.tsfile, archpick.datasets.arrays\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


def test_every_source_name_is_routed() -> None:
    names = {n for m in MODULES.values() for n in m.SOURCE_NAMES}
    assert names == {"table-csv", "long-csv", "series-csv", "text-csv", "text-folder", "ts-files", "npz"}
    for name in names:
        assert any(name in m.SOURCE_NAMES for m in ROUTE_ORDER)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["1", "2.5", " 3 ", "-4e3"], "numeric"),
        (["2020-01-01", "2020-02-01", "2020-03-01"], "datetime"),
        (["1991 Jul", "1991 Aug", "1991 Sep"], "datetime"),
        (["a fine film with a great plot", "dull and slow and far too long"], "text"),
        (["red", "blue", "red"], "categorical"),
        ([f"u{i:03d}" for i in range(30)], "id"),
        ([None, " ", ""], "empty"),
    ],
)
def test_classify_column(values: list, kind: str) -> None:
    assert columns.classify_column(pd.Series(values, dtype=object), "c").kind == kind


def test_column_name_rules() -> None:
    assert columns.is_id_name("series_id") and columns.is_id_name("SampleID") and not columns.is_id_name("case_count")
    assert (
        columns.is_time_name("order_date") and columns.is_time_name("Month") and not columns.is_time_name("time_spent")
    )
    assert columns.is_order_name("t") and columns.is_order_name("frame_index")


def test_semicolon_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "euro.csv"
    path.write_text("a;b;label\n" + "".join(f"{i};{i * 2};{'xy'[i % 2]}\n" for i in range(10)))
    assert list(columns.read_frame(path).columns) == ["a", "b", "label"]


def test_ts_parse_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.ts"
    path.write_text("@problemName B\n@classLabel true a b\n@data\n1,2,3:a\n1,2,x:b\n")
    with pytest.raises(DataError, match=r"broken\.ts: line 5: value 'x'"):
        tsfile.parse_ts(path)


def test_typescript_file_is_not_a_ts_dataset(tmp_path: Path) -> None:
    path = tmp_path / "index.ts"
    path.write_text("export const x: number = 1;\n")
    assert not tsfile.sniff(path)


def test_seasonal_period() -> None:
    t = np.arange(300)
    noise = np.random.default_rng(1).normal(size=300)
    assert season.seasonal_period(10 * np.sin(2 * np.pi * t / 7) + 0.1 * noise)[0] == 7
    assert season.seasonal_period(noise.cumsum())[0] is None
    assert season.seasonal_period(np.arange(5.0))[0] is None
    slow = 50 + 0.5 * t[:200] + 10 * np.sin(2 * np.pi * t[:200] / 24) + noise[:200]
    assert season.seasonal_period(slow)[0] == 24  # a smooth season under noise and a trend
    period, _, reason = season.seasonal_period(np.sin(2 * np.pi * t / 12), prior=12)
    assert period == 12 and "prior 12" in reason  # 12 over its multiples 24, 36...


def test_windows_are_raw_and_chronological() -> None:
    path = CASES / "series_monthly" / "sales.csv"
    profile = tables.profile(path, DataOptions(horizon=3, lookback=5))
    bundle = series.load(profile, DataOptions())
    raw = np.asarray(bundle.history.values, np.float32)
    assert bundle.x.shape == (72 - 5 - 3 + 1, 5, 1)
    np.testing.assert_allclose(bundle.x[0, :, 0], raw[:5])
    np.testing.assert_allclose(bundle.y[0], raw[5:8])
    np.testing.assert_allclose(bundle.y[-1], raw[-3:])
    assert bundle.history.times[0] == "2000-01-01T00:00:00" and len(bundle.history.times) == 72
    assert bundle.history.train_end == 72


def test_windows_from_frame_and_predict_helpers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"t": range(10), "a": np.arange(10.0), "b": np.arange(10.0) * 2})
    frame.loc[8, "a"] = np.nan
    window = series.windows_from_frame(frame, 4, columns=["a", "b"])
    assert window.shape == (1, 4, 2) and window.dtype == np.float32
    np.testing.assert_allclose(window[0, :, 0], [6, 7, 8, 9])
    assert series.windows_from_frame(np.arange(6.0), 3).shape == (1, 3, 1)
    with pytest.raises(DataError, match="at least 12 rows"):
        series.windows_from_frame(np.arange(6.0), 12)

    profile = tables.profile(CASES / "series_monthly" / "sales.csv", DataOptions())
    spec = series.load(profile, DataOptions()).input_spec
    [(name, window)] = series.last_window_for_predict(CASES / "series_monthly" / "sales.csv", spec)
    assert window.shape == (spec.lookback, 1) and "2005-12-01" in name

    rows = readers.rows_for_predict(
        CASES / "table_classification" / "flowers.csv",
        InputSpec("table", (2,), "float32", columns=("sepal_width", "petal_length")),
    )
    assert len(rows) == 30 and rows[0][1].shape == (2,)
    with pytest.raises(DataError, match="columns nope are missing"):
        readers.rows_for_predict(
            CASES / "table_classification" / "flowers.csv", InputSpec("table", (1,), "float32", columns=("nope",))
        )

    ts_spec = InputSpec("sequence", (None, 2), "float32", max_length=6)
    seqs = readers.read_sequences_for_predict(CASES / "ts_folder_pair" / "Toy" / "Toy_TEST.ts", ts_spec)
    assert len(seqs) == 4 and seqs[0][1].shape == (6, 2) and np.isnan(seqs[0][1][-1]).all()
    np.save(tmp_path / "one.npy", np.ones((3, 2)))
    [(_, one)] = readers.read_sequences_for_predict(tmp_path / "one.npy", ts_spec)
    assert np.isfinite(one[:3]).all() and np.isnan(one[3:]).all()

    docs = text.read_texts_for_predict(
        CASES / "text_csv" / "reviews.csv", InputSpec("text", (), "string", text_column="text")
    )
    assert len(docs) == 24 and all(isinstance(d, str) for _, d in docs)
    (tmp_path / "doc.txt").write_text("a fine film")
    assert text.read_texts_for_predict(tmp_path / "doc.txt") == [(str(tmp_path / "doc.txt"), "a fine film")]


def test_long_documents_threshold_in_evidence() -> None:
    profile = text.profile(CASES / "text_folder_split_long" / "mail", DataOptions())
    evidence = profile.structure.evidence["long_documents"]
    assert str(text.LONG_DOCUMENT_WORDS) in evidence
    assert f"{profile.facts['doc_length_words']['median']:g}" in evidence


def test_sniffers_ignore_hidden_paths(tmp_path: Path) -> None:
    hidden = tmp_path / ".cache.csv"
    hidden.write_text("a,b\n1,2\n")
    assert not any(m.sniff(hidden) for m in MODULES.values())


DATA = ROOT / "data"


@pytest.mark.skipif(not (DATA / "vowels").is_dir(), reason="data/vowels not present")
def test_sample_data_vowels() -> None:
    profile = tsfile.profile(DATA / "vowels", DataOptions())
    assert (profile.n_samples, profile.n_test, profile.facts["channels"]) == (270, 370, 12)
    assert (profile.facts["lengths"]["min"], profile.facts["lengths"]["max"]) == (7, 29)
    assert profile.n_classes == 9 and profile.structure.variable_length


@pytest.mark.skipif(not (DATA / "airline").is_dir(), reason="data/airline not present")
def test_sample_data_airline() -> None:
    profile = tables.profile(DATA / "airline", DataOptions())
    assert profile.modality == "timeseries" and profile.task == "forecasting"
    assert profile.facts["length"] == 144 and profile.facts["season"] == 12
    assert profile.facts["frequency"] == "monthly" and profile.target == "passengers"


@pytest.mark.skipif(not (DATA / "reviews").is_dir(), reason="data/reviews not present")
def test_sample_data_reviews() -> None:
    profile = tables.profile(DATA / "reviews", DataOptions())
    assert profile.modality == "text" and profile.source == "text-csv" and profile.target == "label"
    assert profile.n_classes >= 2 and not profile.structure.long_documents
    assert math.isfinite(profile.facts["doc_length_words"]["median"])
