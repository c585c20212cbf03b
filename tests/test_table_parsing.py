"""Table parsing that never damages data silently (issue 12, item 4) and every column accounted for (item 1).

Hostile CSVs are built from real shipped data: scikit-learn's bundled iris, wine and diabetes tables and the
review sentences of data/reviews, re-encoded as Windows-1252, UTF-16 (with and without a byte-order mark),
Windows-1251, or written with ';' and decimal commas. Only `inspect` runs here (no TensorFlow, no training).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_diabetes, load_iris, load_wine

from archpick.cli import main
from archpick.datasets import columns as cols
from archpick.datasets.inputspec import InputSpec
from archpick.datasets.readers import rows_for_predict
from archpick.decoding import decode_text
from archpick.errors import DataError
from archpick.profile import COLUMN_ROLES, ColumnUse, DatasetProfile

from conftest import DATA, fits_cp1252

OWNERS = {0: "Müller", 1: "Möller", 2: "Mäller"}


def _iris_owners(owners: dict[int, str] = OWNERS) -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "owner"]
    frame["owner"] = frame["owner"].map(owners)
    return frame


def _diabetes() -> pd.DataFrame:
    return load_diabetes(as_frame=True, scaled=False).frame


def _inspect(path: Path, *extra: str) -> dict:
    result = CliRunner().invoke(main, ["inspect", str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["profile"]


def _refused(path: Path) -> str:
    result = CliRunner().invoke(main, ["inspect", str(path)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert str(path) in lines[0]
    return lines[0]


# --- encodings -------------------------------------------------------------------------------------------


def test_cp1252_labels_stay_distinct(tmp_path: Path) -> None:
    """'Müller' and 'Möller' in Windows-1252 are three classes, not one merged by replacement characters."""
    file = tmp_path / "owners.csv"
    _iris_owners().to_csv(file, index=False, encoding="cp1252")
    profile = _inspect(file)
    assert profile["classes"] == {"Mäller": 50, "Möller": 50, "Müller": 50}
    assert any("decoded as windows-1252" in n for n in profile["notes"]), profile["notes"]
    assert "\ufffd" not in json.dumps(profile, ensure_ascii=False)


@pytest.mark.parametrize(
    ("encoding", "note"),
    [
        ("utf-8", None),
        ("utf-8-sig", None),
        ("utf-16", "UTF-16 LE with a byte-order mark"),
        ("utf-16-be", "UTF-16 BE without a byte-order mark"),
        ("utf-16-le", "UTF-16 LE without a byte-order mark"),
        ("cp1252", "decoded as windows-1252"),
        ("latin-1", "decoded as windows-1252"),
    ],
)
def test_every_encoding_reads_the_same_frame(tmp_path: Path, encoding: str, note: str | None) -> None:
    original = _iris_owners({0: "Müller", 1: "Möller", 2: "Ærø"})
    file = tmp_path / f"owners-{encoding}.csv"
    original.to_csv(file, index=False, encoding=encoding)
    read = cols.read_table(file)
    pd.testing.assert_frame_equal(read.frame, pd.read_csv(file, encoding=encoding), check_dtype=False)
    assert sorted(read.frame["owner"].unique()) == ["Möller", "Müller", "Ærø"]
    if note is None:
        assert read.notes == []
    else:
        assert any(note in n for n in read.notes), read.notes


def test_cp1252_reviews_are_decoded_as_text(tmp_path: Path) -> None:
    """Real review sentences with curly quotes and 'crème brûlée', saved in Windows-1252: a text table, intact."""
    reviews = pd.read_csv(DATA / "reviews" / "reviews.csv")
    accented = reviews[reviews["text"].str.contains(r"[^\x00-\x7f]")]
    keep = accented[[all(fits_cp1252(c) for c in t) for t in accented["text"]]].head(200)
    file = tmp_path / "reviews.csv"
    keep.to_csv(file, index=False, encoding="cp1252")
    profile = _inspect(file)
    assert profile["modality"] == "text" and profile["n_samples"] == len(keep)
    assert any("windows-1252" in n and "not UTF-8" in n for n in profile["notes"]), profile["notes"]
    assert profile["facts"]["non_utf8_documents"] == 0
    assert list(cols.read_frame(file)["text"]) == list(keep["text"])
    assert [u["role"] for u in profile["column_uses"]] == ["text", "target"]


def test_mixed_encodings_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "owners.csv"
    body = _iris_owners().to_csv(index=False).encode("utf-8")
    file.write_bytes(body + "5.0,3.0,1.5,0.2,Müller\n".encode("cp1252"))
    line = _refused(file)
    assert "mixes UTF-8" in line and "line 152" in line and "re-save it as UTF-8" in line


def test_another_code_page_is_refused(tmp_path: Path) -> None:
    """Cyrillic in Windows-1251 would read as accented nonsense in Windows-1252: refused, never guessed."""
    file = tmp_path / "owners.csv"
    _iris_owners({0: "Иванов", 1: "Петров", 2: "Сидоров"}).to_csv(file, index=False, encoding="cp1251")
    line = _refused(file)
    assert "another code page" in line and "re-save it as UTF-8" in line


def test_bytes_undefined_in_cp1252_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "owners.csv"
    file.write_bytes(_iris_owners({0: "a\x81b", 1: "c", 2: "d"}).to_csv(index=False).encode("latin-1"))
    line = _refused(file)
    assert "neither UTF-8 nor Windows-1252" in line and "0x81" in line


def test_broken_utf16_after_its_bom_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "owners.csv"
    file.write_bytes(_iris_owners().to_csv(index=False).encode("utf-16")[:-1])
    assert "UTF-16 LE with a byte-order mark" in _refused(file)


def test_binary_data_is_still_refused(tmp_path: Path) -> None:
    file = tmp_path / "t.csv"
    file.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d4948445200ff00fe00"))
    assert "binary data" in _refused(file)


@pytest.mark.parametrize("text", ["Müller; Möller — “quoted” 5 €", "ASCII only", "Ærø, Ñandú, œuvre, Ÿ"])
def test_decode_text_round_trips_cp1252(text: str) -> None:
    decoded = decode_text(text.encode("cp1252"), "x.csv")
    assert decoded.text == text
    assert decoded.encoding == ("utf-8" if text.isascii() else "cp1252")


def test_decode_text_errors_name_the_file() -> None:
    with pytest.raises(DataError, match=r"^some/file\.txt: .*re-save it as UTF-8$"):
        decode_text("Müller".encode() + b"\xfc" + "Möller".encode(), "some/file.txt")


# --- delimiters and decimal commas ---------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_decimal_commas_stay_numeric(tmp_path: Path, sep: str) -> None:
    """diabetes written the European way keeps its ten numeric features, equal to scikit-learn's values."""
    original = _diabetes()
    file = tmp_path / "diabetes.csv"
    original.to_csv(file, index=False, sep=sep, decimal=",")
    read = cols.read_table(file)
    assert read.delimiter == sep and read.decimal_comma == list(original.columns)
    np.testing.assert_allclose(read.frame.to_numpy(float), original.to_numpy(float))
    profile = _inspect(file)
    assert profile["task"] == "regression" and profile["facts"]["n_features"] == 10
    assert profile["facts"]["dropped_columns"] == {}
    assert any("decimal commas" in n for n in profile["notes"]), profile["notes"]


def test_thousands_dots_and_stray_words_with_decimal_commas(tmp_path: Path) -> None:
    wine = load_wine(as_frame=True).frame
    text = wine["proline"].map(lambda v: f"{int(v) // 1000}.{int(v) % 1000:03d},5" if v >= 1000 else f"{v:.1f}")
    text = text.str.replace(".", ",", regex=False).where(wine["proline"] < 1000, text)
    wine["proline"] = text
    wine.loc[3, "proline"] = "n.a."
    file = tmp_path / "wine.csv"
    wine.to_csv(file, index=False, sep=";")
    values = cols.read_frame(file)["proline"]
    original = load_wine(as_frame=True).frame["proline"]
    expected = original.where(original < 1000, np.floor(original) + 0.5)
    expected[3] = np.nan
    np.testing.assert_allclose(values.to_numpy(float), expected.to_numpy(float))


def test_a_comma_file_keeps_quoted_commas_as_text(tmp_path: Path) -> None:
    """In a comma-separated file "1,234" may be a thousands separator: not read as 1.234."""
    frame = _iris_owners()
    frame["lot"] = [f"{i},{i * 7 % 1000:03d}" for i in range(len(frame))]
    file = tmp_path / "owners.csv"
    frame.to_csv(file, index=False)
    read = cols.read_table(file)
    assert read.delimiter == "," and read.decimal_comma == []
    assert list(read.frame["lot"]) == list(frame["lot"])


def test_delimiter_needs_steady_rows(tmp_path: Path) -> None:
    """A header split by ';' wins over commas that appear only inside the rows (decimal commas)."""
    file = tmp_path / "d.csv"
    file.write_text("a;b;c\n1,5;2;3\n2,5;3;4\n3;4,25;5\n4;5;6\n5;6;7,75\n6;7;8\n", encoding="utf-8")
    read = cols.read_table(file)
    assert read.delimiter == ";" and list(read.frame.columns) == ["a", "b", "c"]
    assert read.frame["a"].tolist() == [1.5, 2.5, 3, 4, 5, 6]


def test_predict_reads_decimal_commas_like_training(tmp_path: Path) -> None:
    original = _diabetes().drop(columns="target")
    file = tmp_path / "new.csv"
    original.head(5).to_csv(file, index=False, sep=";", decimal=",")
    rows = rows_for_predict(file, InputSpec("table", (10,), "float32", columns=tuple(original.columns)))
    np.testing.assert_allclose(np.stack([r for _, r in rows]), original.head(5).to_numpy(np.float32))


# --- every column accounted for ---------------------------------------------------------------------------


def _plants(tmp_path: Path) -> Path:
    frame = _iris_owners().drop(columns="owner")
    frame["species"] = load_iris().target_names[load_iris().target]
    frame.insert(0, "specimen_id", [f"S{i:03d}" for i in range(len(frame))])
    frame["museum"] = "Kew"
    frame["remarks"] = np.nan
    frame["collected"] = pd.date_range("1936-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    frame["colour"] = np.array(["blue", "violet", "white"])[np.arange(len(frame)) % 3]
    frame["height_code"] = [str(v) if i % 3 else "tall" for i, v in enumerate(frame["sepal_length"])]
    file = tmp_path / "plants.csv"
    frame.to_csv(file, index=False)
    return file


def test_every_column_has_a_role_and_a_reason(tmp_path: Path) -> None:
    file = _plants(tmp_path)
    profile = _inspect(file, "--target", "species")
    uses = {u["name"]: (u["role"], u["used"], u["reason"]) for u in profile["column_uses"]}
    assert list(uses) == list(pd.read_csv(file).columns)
    assert all(u["role"] in COLUMN_ROLES for u in profile["column_uses"])
    assert uses["species"][:2] == ("target", True)
    assert all(uses[c][1] for c in profile["facts"]["columns"])
    assert uses["specimen_id"][:2] == ("id", False) and "an ID" in uses["specimen_id"][2]
    assert uses["museum"][:2] == ("constant", False) and "one value" in uses["museum"][2]
    assert uses["remarks"][:2] == ("empty", False)
    assert uses["collected"][:2] == ("date", True) and "calendar features" in uses["collected"][2]
    assert uses["colour"][:2] == ("categorical", True) and uses["colour"][2].startswith("one-hot, 3 values")
    assert uses["height_code"][:2] == ("numeric", True) and "'tall'" in uses["height_code"][2]
    notes = " | ".join(profile["notes"])
    assert "ID columns not used" in notes and "constant columns not used" in notes


def test_plain_inspect_shows_the_columns_and_the_notes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", str(_plants(tmp_path)), "--target", "species"])
    assert result.exit_code == 0, result.output
    assert "columns (11; 3 not used)" in result.output
    for text in ("specimen_id", "constant", "every value is missing", "notes (", "ID columns not used"):
        assert text in result.output


def test_series_columns_are_accounted_for() -> None:
    profile = _inspect(DATA / "airline" / "airline.csv")
    roles = {u["name"]: u["role"] for u in profile["column_uses"]}
    assert profile["modality"] == "timeseries"
    assert roles[profile["facts"]["time_column"]] == "date" and roles[profile["facts"]["target"]] == "target"
    assert all(u["used"] for u in profile["column_uses"])


def test_column_uses_survive_json() -> None:
    profile = DatasetProfile("p", "p", "table", column_uses=[ColumnUse("id", "id", False, "an ID")])
    again = DatasetProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again.column_uses == profile.column_uses
    assert DatasetProfile.from_dict({"path": "p", "name": "p", "modality": "table"}).column_uses == []


def test_long_table_columns_are_accounted_for() -> None:
    profile = _inspect(Path(__file__).parent / "cases" / "detect" / "long_format" / "motion.csv")
    uses = {u["name"]: (u["role"], u["used"]) for u in profile["column_uses"]}
    assert uses == {
        "series_id": ("id", True),
        "step": ("numeric", True),
        "x1": ("numeric", True),
        "x2": ("numeric", True),
        "activity": ("target", True),
    }
