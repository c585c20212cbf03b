"""Text documents and .ts files are never decoded with replacement characters (issue 12, item 4), and the
report lists every column of a table (item 1).

Document folders are built from real Rotten Tomatoes snippets (data/reviews) saved as UTF-8, Windows-1252,
UTF-16 (with and without a byte-order mark) and one file mixing UTF-8 with Windows-1252; the .ts files are
data/vowels re-encoded. Only `inspect`, the loaders and the renderers run here (no TensorFlow, no training).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris

import archpick
from archpick.cli import main
from archpick.datasets import text as text_mod
from archpick.datasets.base import DataOptions
from archpick.datasets.inputspec import InputSpec
from archpick.datasets.readers import read_sequences_for_predict
from archpick.datasets.tsfile import parse_ts, sniff
from archpick.errors import DataError
from archpick.report.render import column_blocks, render_html, render_markdown

from conftest import DATA, fits_cp1252

VOWELS = DATA / "vowels" / "JapaneseVowels_TRAIN.ts"


@pytest.fixture(scope="module")
def reviews() -> pd.DataFrame:
    """The real review snippets: plain ASCII ones and accented ones Windows-1252 can hold."""
    frame = pd.read_csv(DATA / "reviews" / "reviews.csv")
    accented = frame["text"].str.contains(r"[^\x00-\x7f]")
    frame["accented"] = accented & frame["text"].map(fits_cp1252) & frame["text"].str.contains("[éèêàçñüöäâîôûí]")
    return frame


def _sentences(reviews: pd.DataFrame, label: str, accented: bool, n: int, skip: int = 0) -> list[str]:
    rows = reviews[(reviews["label"] == label) & (reviews["accented"] == accented)]
    if not accented:
        rows = rows[~rows["text"].str.contains(r"[^\x00-\x7f]")]
    return list(rows["text"].iloc[skip : skip + n])


def _mixed_bytes(sentence: str) -> bytes:
    """An accented sentence twice in UTF-8, then once in Windows-1252 (a file pasted from two sources)."""
    return f"{sentence} {sentence}\n".encode() + sentence.encode("cp1252")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, reviews: pd.DataFrame) -> dict:
    """fresh/ and rotten/ folders: 12 UTF-8 documents each, 3 Windows-1252, 2 UTF-16 and 1 undecodable."""
    root = tmp_path_factory.mktemp("docs") / "reviews"
    written: dict[str, str] = {}
    for label in ("fresh", "rotten"):
        (root / label).mkdir(parents=True)
        for i, sentence in enumerate(_sentences(reviews, label, False, 12)):
            (root / label / f"plain{i}.txt").write_bytes(sentence.encode("utf-8"))
            written[f"{label}/plain{i}.txt"] = sentence
    legacy = _sentences(reviews, "rotten", True, 3) + _sentences(reviews, "fresh", True, 3)
    for i, sentence in enumerate(legacy[:3]):
        (root / "rotten" / f"cp1252_{i}.txt").write_bytes(sentence.encode("cp1252"))
        written[f"rotten/cp1252_{i}.txt"] = sentence
    (root / "fresh" / "utf16_bom.txt").write_bytes(legacy[3].encode("utf-16"))  # BOM + native (LE) order
    (root / "fresh" / "utf16be.txt").write_bytes(legacy[4].encode("utf-16-be"))  # no BOM
    written["fresh/utf16_bom.txt"], written["fresh/utf16be.txt"] = legacy[3], legacy[4]
    mixed = _sentences(reviews, "fresh", True, 1, skip=10)[0]
    (root / "fresh" / "mixed.txt").write_bytes(_mixed_bytes(mixed))
    return {"root": root, "written": written, "accented": legacy[:5]}


def test_folder_counts_and_notes(corpus: dict) -> None:
    profile = archpick.inspect(corpus["root"])
    assert profile.n_samples == len(corpus["written"]) == 29
    assert profile.classes == {"fresh": 14, "rotten": 15}
    facts = profile.facts
    assert facts["non_utf8_documents"] == 5 and facts["undecodable_documents"] == 1
    assert facts["document_encodings"] == {
        "UTF-16 BE without a byte-order mark": 1,
        "UTF-16 LE with a byte-order mark": 1,
        "UTF-8": 24,
        "windows-1252": 3,
    }
    notes = " | ".join(profile.notes)
    assert "3 files decoded as windows-1252: not UTF-8, every character kept" in notes
    assert "1 file decoded as UTF-16 LE with a byte-order mark" in notes
    assert "1 file decoded as UTF-16 BE without a byte-order mark" in notes
    assert "1 file skipped: no safe decoding without replacing characters (first: mixed.txt" in notes
    [skipped] = profile.skipped
    assert skipped.file.endswith("mixed.txt") and "mixes UTF-8 with another encoding" in skipped.reason
    assert "re-save it as UTF-8" in skipped.reason and str(skipped.file) not in skipped.reason


def test_loaded_documents_keep_their_characters(corpus: dict) -> None:
    profile = archpick.inspect(corpus["root"])
    bundle = text_mod.load(profile, DataOptions())
    docs = list(bundle.x) + list(bundle.x_test if bundle.x_test is not None else [])
    assert sorted(docs) == sorted(corpus["written"].values())
    assert not any("\ufffd" in d for d in docs)
    for sentence in corpus["accented"]:
        assert sentence in docs and re.search(r"[^\x00-\x7f]", sentence)
    assert bundle.skipped == []  # the undecodable file is already counted in the profile


def test_cli_inspect_shows_counts_and_notes(corpus: dict) -> None:
    result = CliRunner().invoke(main, ["inspect", str(corpus["root"]), "--json"])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)["profile"]
    assert profile["n_skipped"] == 1 and profile["skipped"][0]["file"].endswith("mixed.txt")
    assert any("3 files decoded as windows-1252" in n for n in profile["notes"])
    plain = CliRunner().invoke(main, ["inspect", str(corpus["root"])])
    assert plain.exit_code == 0 and "Traceback" not in plain.output
    assert "mixed.txt" in plain.output and "windows-1252" in plain.output


def test_a_utf16_corpus_reads_like_its_utf8_copy(tmp_path: Path, reviews: pd.DataFrame) -> None:
    copies = {}
    for encoding in ("utf-8", "utf-16"):
        root = tmp_path / encoding
        for label in ("fresh", "rotten"):
            (root / label).mkdir(parents=True)
            sentences = _sentences(reviews, label, False, 10) + _sentences(reviews, label, True, 2)
            for i, sentence in enumerate(sentences):
                (root / label / f"doc{i}.txt").write_bytes(sentence.encode(encoding))
        profile = archpick.inspect(root)
        copies[encoding] = (profile, sorted(text_mod.load(profile, DataOptions()).x))
    (utf8, utf8_docs), (utf16, utf16_docs) = copies["utf-8"], copies["utf-16"]
    assert utf16_docs == utf8_docs
    for key in ("vocabulary_size", "doc_length_words", "documents"):
        assert utf16.facts[key] == utf8.facts[key]
    assert utf16.facts["non_utf8_documents"] == 24 and utf16.skipped == []
    assert utf16.notes == ["24 files decoded as UTF-16 LE with a byte-order mark"]


def test_a_corpus_nothing_decodes_is_refused(tmp_path: Path, reviews: pd.DataFrame) -> None:
    for label in ("fresh", "rotten"):
        (tmp_path / "docs" / label).mkdir(parents=True)
        for i, sentence in enumerate(_sentences(reviews, label, True, 6)):
            (tmp_path / "docs" / label / f"doc{i}.txt").write_bytes(_mixed_bytes(sentence))
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "docs")])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, result.output
    assert "doc0.txt" in lines[0] and "no document decodes without replacing characters" in lines[0]
    assert "re-save it as UTF-8" in lines[0]


def test_predict_reader_decodes_or_refuses(tmp_path: Path, reviews: pd.DataFrame) -> None:
    sentence = _sentences(reviews, "rotten", True, 1)[0]
    legacy, utf16, mixed = tmp_path / "legacy.txt", tmp_path / "utf16.txt", tmp_path / "mixed.txt"
    legacy.write_bytes(sentence.encode("cp1252"))
    utf16.write_bytes(sentence.encode("utf-16"))
    mixed.write_bytes(_mixed_bytes(sentence))
    assert text_mod.read_texts_for_predict(legacy) == [(str(legacy), sentence)]
    assert text_mod.read_texts_for_predict(utf16) == [(str(utf16), sentence)]
    with pytest.raises(DataError) as err:
        text_mod.read_texts_for_predict(mixed)
    assert str(err.value).startswith(f"{mixed}: ") and "\n" not in str(err.value)
    assert str(err.value).endswith("re-save it as UTF-8")


# --- .ts files ---------------------------------------------------------------------------------------------


def _same(a, b) -> None:
    assert a.header == b.header and a.labels == b.labels and a.lines == b.lines and a.declared == b.declared
    assert len(a.series) == len(b.series)
    for x, y in zip(a.series, b.series, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def vowels() -> tuple[str, object]:
    text = VOWELS.read_bytes().decode("utf-8")
    return text, parse_ts(VOWELS)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_ts_file_reads_identically(tmp_path: Path, vowels, encoding: str) -> None:
    text, original = vowels
    file = tmp_path / "JapaneseVowels_TRAIN.ts"
    file.write_bytes(text.encode(encoding))
    assert sniff(file) and sniff(tmp_path)
    parsed = parse_ts(file)
    _same(parsed, original)
    assert "UTF-16" in parsed.note and original.note == ""
    spec = InputSpec("sequence", (None, 12), "float32", max_length=29)
    read, expected = read_sequences_for_predict(file, spec), read_sequences_for_predict(VOWELS, spec)
    assert [n for n, _ in read] == [n.replace(str(VOWELS), str(file)) for n, _ in expected]
    np.testing.assert_array_equal(np.stack([x for _, x in read]), np.stack([x for _, x in expected]))
    profile = archpick.inspect(file)
    assert profile.n_samples == 270 and profile.classes == archpick.inspect(VOWELS).classes
    assert any(n.startswith("JapaneseVowels_TRAIN.ts: decoded as UTF-16") for n in profile.notes), profile.notes


def test_a_cp1252_ts_file_is_decoded_with_a_note(tmp_path: Path, vowels) -> None:
    text, original = vowels
    file = tmp_path / "vowels.ts"
    file.write_bytes(
        text.replace("Pattern Recognition Letters", "Pattern Recognition Letters (résumé, café)", 1).encode("cp1252")
    )
    parsed = parse_ts(file)
    _same(parsed, original)
    assert "decoded as windows-1252" in parsed.note
    profile = archpick.inspect(file)
    assert any("vowels.ts: not UTF-8" in n and "windows-1252" in n for n in profile.notes), profile.notes


def test_a_ts_file_mixing_encodings_is_refused(tmp_path: Path, vowels) -> None:
    text, _ = vowels
    file = tmp_path / "vowels.ts"
    header = "#Kudo, Toyama, Shimbo; résumé by the café crew\n".encode()
    file.write_bytes(header + "#señor Müller\n".encode("cp1252") + text.encode("utf-8"))
    result = CliRunner().invoke(main, ["inspect", str(file)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, result.output
    assert f"{file}: mixes UTF-8 with another encoding" in lines[0]
    assert "line 2" in lines[0] and lines[0].endswith("re-save it as UTF-8")
    with pytest.raises(DataError, match="mixes UTF-8"):
        read_sequences_for_predict(file, InputSpec("sequence", (None, 12), "float32", max_length=29))


# --- the report's Columns section --------------------------------------------------------------------------


class _Checker(HTMLParser):
    """Tag balance (void elements aside) and the rows of the table after the "Columns" heading."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.heading = ""
        self.section = ""
        self.rows: list[tuple[str | None, list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "tr" and self.section == "Columns":
            self.rows.append((dict(attrs).get("class"), []))
        if tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()
        if tag == "h2":
            self.section = self.heading
        if tag in ("td", "th") and self.cell is not None and self.section == "Columns" and self.rows:
            self.rows[-1][1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "h2":
            self.heading = data
        if self.cell is not None:
            self.cell.append(data)


@pytest.fixture(scope="module")
def iris_report(tmp_path_factory) -> dict:
    """A report.json-like dict whose profile is `archpick.inspect` of a real CSV (iris, with an ID, a constant
    and a column whose name needs escaping)."""
    frame = load_iris(as_frame=True).frame
    frame.insert(0, "row_id", [f"r{i:04d}" for i in range(len(frame))])
    frame["source <b>UCI</b> | 1936"] = "Fisher"
    file = tmp_path_factory.mktemp("iris") / "iris.csv"
    frame.to_csv(file, index=False)
    profile = archpick.inspect(file)
    return {"dataset": profile.name, "path": str(file), "verdict": "a verdict", "profile": profile.to_dict()}


def test_report_lists_every_column(iris_report: dict, tmp_path: Path) -> None:
    uses = iris_report["profile"]["column_uses"]
    assert [u["name"] for u in uses][:2] == ["row_id", "sepal length (cm)"] and len(uses) == 7
    md = render_markdown(iris_report)
    section = md[md.index("## Columns") : md.index("## Why this architecture")]
    assert "5 of 7 columns are read by the model; 2 not used (marked)" in section
    assert "| **row_id** | **id** | **NOT USED** | **an ID" in section
    assert "| sepal length (cm) | numeric | yes | numeric values |" in section
    assert "source <b>UCI</b> \\| 1936" in section and "**NOT USED**" in section
    page = render_html(iris_report, tmp_path)
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    header, *rows = checker.rows
    assert header == (None, ["column", "role", "used", "why"])
    assert [r[1][0] for r in rows] == [u["name"] for u in uses]
    assert {r[1][0]: r[0] for r in rows if r[0]} == {"row_id": "marked", "source <b>UCI</b> | 1936": "marked"}
    assert all(r[1][2] == ("NOT USED" if r[0] else "yes") for r in rows)
    assert "&lt;b&gt;UCI&lt;/b&gt;" in page and "tr.marked" in page


def test_no_columns_section_without_a_table() -> None:
    assert column_blocks([]) == []
    assert "## Columns" not in render_markdown({"dataset": "d", "profile": {"source": "text-folder"}})
    everything = column_blocks([{"name": "x", "role": "numeric", "used": True, "reason": "numeric values"}])
    assert everything[1] == ("p", "All 1 columns are read by the model.")
