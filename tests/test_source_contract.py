"""The source contract, in the spirit of scikit-learn's `check_estimator`: every data source / input kind, on
real data the repo ships, profiles, loads and reads for predict the same way.

For each case (one real dataset per source and kind):

1. `archpick.inspect` profiles it with the expected source and modality, and the profile is plain JSON.
2. `datasets.load` gives a Bundle with as many targets as inputs (shipped test split too); classification
   targets are int64 indices into class_names, forecasting targets (N, horizon) floats.
3. The bundle's input_spec is an InputSpec that survives a JSON round trip, of a kind in KINDS and a dtype that
   kind allows.
4. Every training sample (decoded, for the file-backed kinds) has the spec's shape (None: a free axis).
5. The kind's predict reader (`KINDS[kind].read`) reads one real file of the dataset, of a type the kind takes
   (`Kind.suffixes`), into raw inputs that `Kind.to_array` turns into samples of the spec's shape, equal to
   what training saw for the same file.
6. None of this writes into the data folder.

`test_cases_cover_every_kind` fails when a kind is added to KINDS without a case here.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

import archpick
from archpick.datasets import load, module_for
from archpick.datasets.base import Bundle
from archpick.datasets.inputspec import InputSpec
from archpick.kinds import KINDS, Kind
from archpick.profile import DatasetProfile

from conftest import REPO


@dataclass(frozen=True)
class Data:
    """Where a case's data is: what to profile, the folder that must stay untouched, a file to predict on."""

    path: Path
    folder: Path
    predict_file: Path


@dataclass(frozen=True)
class Case:
    """One real dataset and what the contract expects of it.

    Attributes:
        id: The test id.
        build: tmp_path -> Data (repo data is used in place; built cases are written into tmp_path).
        source: The profile's expected source.
        modality: The profile's expected modality.
        kind: The input_spec's expected kind.
    """

    id: str
    build: Callable[[Path], Data]
    source: str
    modality: str
    kind: str


def _in_repo(relative: str, predict: str | None = None) -> Callable[[Path], Data]:
    """A dataset shipped in the repo; `predict` (relative too) defaults to the dataset file itself."""

    def build(_: Path) -> Data:
        path = REPO / relative
        folder = path if path.is_dir() else path.parent
        return Data(path, folder, REPO / (predict or relative))

    return build


def _first_file(folder: str, suffix: str) -> str:
    """The first file of that suffix in the first class folder of a repo dataset (relative to REPO)."""
    first_class = sorted(p for p in (REPO / folder).iterdir() if p.is_dir())[0]
    file = sorted(f for f in first_class.iterdir() if f.suffix == suffix)[0]
    return str(file.relative_to(REPO))


def _digit_images_npz(tmp: Path) -> Data:
    """sklearn's digits (shipped with sklearn, no download) as an .npz of X (N, 8, 8) uint8 and y.

    An image model takes image files to predict (Kind.suffixes, README "Predicting"), not the .npz: the file
    to predict on is the first digit of the .npz written as the PNG a user would give.
    """
    digits = load_digits()
    x = (digits.images * 15).astype(np.uint8)  # 0..16 -> 0..240
    np.savez(tmp / "digits.npz", X=x, y=digits.target)
    Image.fromarray(x[0], mode="L").save(tmp / "first_digit.png")
    return Data(tmp / "digits.npz", tmp, tmp / "first_digit.png")


def _digit_rows_npz(tmp: Path) -> Data:
    """sklearn's digits as flat feature rows X (N, 64) float32: an .npz table, which predict reads itself."""
    digits = load_digits()
    np.savez(tmp / "digit_rows.npz", X=digits.data.astype(np.float32), y=digits.target)
    return Data(tmp / "digit_rows.npz", tmp, tmp / "digit_rows.npz")


CASES = [
    Case("image", _in_repo("data/digits", _first_file("data/digits", ".png")), "image-folder", "image", "image"),
    Case("video", _in_repo("data/clips", _first_file("data/clips", ".mp4")), "video-folder", "video", "video"),
    Case("text", _in_repo("data/reviews", "data/reviews/reviews.csv"), "text-csv", "text", "text"),
    Case(
        "sequence-ts", _in_repo("data/vowels", "data/vowels/JapaneseVowels_TEST.ts"), "ts-files", "sequence", "sequence"
    ),
    Case("window", _in_repo("data/airline", "data/airline/airline.csv"), "series-csv", "timeseries", "window"),
    Case("table", _in_repo("tests/cases/detect/table_classification/flowers.csv"), "table-csv", "table", "table"),
    Case("sequence-long", _in_repo("tests/cases/detect/long_format/motion.csv"), "long-csv", "sequence", "sequence"),
    Case("arrays-image", _digit_images_npz, "npz", "image", "image"),
    Case("arrays-table", _digit_rows_npz, "npz", "table", "table"),
]
IDS = [c.id for c in CASES]


# ----- helpers ---------------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[bool, int, int]]:
    """Every entry under `folder` (hidden ones too, links not followed): (is a folder, size, mtime in ns)."""
    out: dict[str, tuple[bool, int, int]] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            st = os.lstat(path)
            out[str(path.relative_to(folder))] = (path.is_dir() and not path.is_symlink(), st.st_size, st.st_mtime_ns)
    st = os.lstat(folder)
    out["."] = (True, 0, st.st_mtime_ns)
    return out


@pytest.fixture
def untouched(case: Case, tmp_path: Path) -> Iterator[Data]:
    """The case's Data; afterwards, asserts nothing under its folder was created, removed or changed."""
    data = case.build(tmp_path)
    before = snapshot(data.folder)
    yield data
    after = snapshot(data.folder)
    assert after == before, f"{case.id}: the data folder changed: {_diff(before, after)}"


def _diff(before: dict, after: dict) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return f"added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}"


def agrees(shape: tuple[int, ...], spec_shape: tuple[int | None, ...]) -> bool:
    """A sample's shape agrees with a spec's: same rank, equal on every axis the spec fixes (None is free)."""
    return len(shape) == len(spec_shape) and all(s is None or s == d for d, s in zip(shape, spec_shape, strict=True))


def profile_and_load(case: Case, data: Data) -> tuple[DatasetProfile, Bundle]:
    profile = archpick.inspect(data.path)
    return profile, load(profile)


def _spread(n: int) -> list[int]:
    """A few indices spread over n samples (first, middle, last)."""
    return sorted({0, n // 2, n - 1}) if n else []


# ----- the contract ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_source_contract(case: Case, untouched: Data) -> None:
    profile, bundle = profile_and_load(case, untouched)

    # 1. profiled by the expected source, as the expected modality; the profile is plain JSON
    assert (profile.source, profile.modality) == (case.source, case.modality)
    assert profile.source in module_for(profile).SOURCE_NAMES
    data = profile.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert DatasetProfile.from_dict(json.loads(json.dumps(data))).to_dict() == data

    # 2. a Bundle with one target per input; targets as the task needs them
    assert isinstance(bundle, Bundle)
    assert len(bundle.x) == len(bundle.y) > 0
    assert (bundle.x_test is None) == (bundle.y_test is None)
    if bundle.x_test is not None:
        assert len(bundle.x_test) == len(bundle.y_test) > 0
    if profile.task != "forecasting":
        assert len(bundle.x) == profile.n_samples
    if profile.n_test is not None:
        assert bundle.x_test is not None and len(bundle.x_test) == profile.n_test
    targets = [bundle.y] + ([bundle.y_test] if bundle.y_test is not None else [])
    if profile.task == "classification":
        assert len(bundle.class_names) >= 2 and len(set(bundle.class_names)) == len(bundle.class_names)
        for y in targets:
            assert y.dtype == np.int64 and y.ndim == 1
            assert y.min() >= 0 and y.max() < len(bundle.class_names)
        assert set(np.unique(bundle.y).tolist()) == set(range(len(bundle.class_names)))
    elif profile.task == "forecasting":
        for y in targets:
            assert y.dtype == np.float32 and y.shape[1:] == (bundle.input_spec.horizon,)
            assert np.isfinite(y).all()

    # 3. the input_spec: typed, survives JSON, of a known kind and a dtype that kind allows
    spec = bundle.input_spec
    assert isinstance(spec, InputSpec)
    assert InputSpec.from_json(json.loads(json.dumps(spec.to_json(), allow_nan=False))) == spec
    assert spec.kind == case.kind and spec.kind in KINDS
    assert spec.dtype in KINDS[spec.kind].dtypes
    if spec.kind == "window":
        assert spec.shape[0] == spec.lookback and spec.shape[-1] == len(spec.columns)
    if spec.kind == "sequence":
        assert spec.max_length is not None and spec.max_length >= 1

    # 4. every training (and shipped test) sample has the spec's shape
    for x in [bundle.x] + ([bundle.x_test] if bundle.x_test is not None else []):
        if spec.kind == "text":
            assert spec.shape == ()
            assert x.dtype == object and all(isinstance(s, str) and s.strip() for s in x)
        elif bundle.decode is not None:  # file-backed: x holds paths, decode gives the samples
            assert spec.kind in ("image", "video")
            assert all(isinstance(p, str) and Path(p).is_file() for p in x)
            for i in _spread(len(x)):
                sample = np.asarray(bundle.decode(x[i]))
                assert agrees(sample.shape, spec.shape), f"{x[i]}: {sample.shape} vs {spec.shape}"
                assert str(sample.dtype) == spec.dtype
        else:
            assert isinstance(x, np.ndarray) and agrees(x.shape[1:], spec.shape), f"{x.shape} vs {spec.shape}"
            assert str(x.dtype) == spec.dtype
            if spec.kind == "sequence":
                assert x.shape[1] == spec.max_length


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_predict_reader(case: Case, untouched: Data) -> None:
    """5. the kind's predict reader takes a real file of the dataset and gives inputs of the spec's shape."""
    profile, bundle = profile_and_load(case, untouched)
    spec = bundle.input_spec
    kind: Kind = KINDS[spec.kind]
    file = untouched.predict_file
    assert file.suffix.lower() in kind.suffixes(), f"{file.name} is not a file type a {kind.name} model takes"

    raw = kind.read(file, spec)
    assert isinstance(raw, list) and raw, f"the {kind.name} reader read nothing from {file}"
    for name, value in raw:
        assert isinstance(name, str) and name.startswith(str(file))
        batch = kind.to_array([value], spec)
        assert batch.shape[0] == 1 and agrees(batch.shape[1:], spec.shape), f"{name}: {batch.shape} vs {spec.shape}"
        assert batch.dtype == (object if kind.takes_strings(spec) else np.dtype(kind.serving_dtype(spec)))
    if kind.one_string:
        assert all(isinstance(v, str) for _, v in raw)
        assert kind.to_array([v for _, v in raw], spec).shape == (len(raw),)

    # what predict reads from the file is what training saw for it
    values = [np.asarray(v) for _, v in raw]
    if spec.kind in ("image", "video") and bundle.decode is not None:
        assert len(raw) == 1 and np.array_equal(values[0], bundle.decode(str(file)))
    elif case.id == "arrays-image":
        assert len(raw) == 1 and np.array_equal(values[0], bundle.x[0])
    elif spec.kind == "window":  # the last `lookback` steps of the series, oldest first
        assert len(raw) == 1 and values[0].shape == (spec.lookback, len(spec.columns))
        with file.open(newline="") as fh:
            series = [float(row[spec.target]) for row in csv.DictReader(fh)]
        assert np.array_equal(values[0][:, spec.target_index], np.asarray(series[-spec.lookback :], np.float32))
    elif spec.kind == "text":
        assert [str(v) for v in values] == list(bundle.x)
    else:  # rows and sequences: the shipped test split (a _TEST.ts) or the training file itself
        expected = bundle.x_test if file.name.lower().endswith("_test.ts") else bundle.x
        assert np.array_equal(np.stack(values), expected, equal_nan=True)


def test_cases_cover_every_kind() -> None:
    """A kind added to KINDS needs a case here (and every case names a real kind)."""
    assert {c.kind for c in CASES} == set(KINDS)
    assert len(set(IDS)) == len(IDS)
