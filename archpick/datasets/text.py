"""Free text: class folders of `.txt` files, and text columns of a CSV/Parquet table.

Facts come from a sample of documents: vocabulary size (lowercase word tokens), length in words
(min/median/p95/max), empty and undecodable documents. Tokenising is left to the model.

Documents are decoded by archpick.decoding.decode_text, never with replacement characters: UTF-16 and
Windows-1252 documents are read as such (counted in one note per encoding), and a document no safe decoding
explains is skipped and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.datasets.base import Bundle, DataOptions, is_hidden, link_notes, split_roots, sub_folders
from archpick.datasets.inputspec import InputSpec
from archpick.decoding import DecodedText, decode_text
from archpick.errors import DataError
from archpick.profile import DatasetProfile, Skipped, Structure

SOURCE_NAMES = frozenset({"text-folder", "text-csv"})

TEXT_SUFFIXES = frozenset({".txt"})
LONG_DOCUMENT_WORDS = 200
"""Median document length (words) from which documents count as long (Conv1D -> LSTM hybrid)."""

_TOKEN = re.compile(r"\w+")
_PEEK = 50
DOCUMENT_FIX = "re-save it as UTF-8 (or remove it)"
"""The fix named when a document cannot be decoded safely."""


def tokens(doc: str) -> list[str]:
    """Lowercase word tokens, as counted for vocabulary and length facts."""
    return _TOKEN.findall(doc.lower())


def read_document(file: Path, fix: str = DOCUMENT_FIX) -> DecodedText:
    """One document's text, decoded without replacing a character (archpick.decoding.decode_text).

    Args:
        file: The document.
        fix: What to do, ending the error.

    Raises:
        DataError: The file cannot be read, or no safe decoding explains its bytes (one line naming it).
    """
    try:
        raw = Path(file).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror}); check that it exists and is readable", file) from exc
    return decode_text(raw, file, what="a text document", fix=fix)


def _reason(exc: DataError, file: Path) -> str:
    """A refusal as a skipped file's reason (the file is named beside it, not in it)."""
    prefix = f"{file}: "
    text = str(exc)
    return text[len(prefix) :] if text.startswith(prefix) else text


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not is_hidden(p.name))
    except OSError:
        return []


def _is_class_dir(folder: Path) -> bool:
    """A folder whose files (a peek at the first few) are mostly `.txt`."""
    files = [p for p in _entries(folder)[:_PEEK] if p.is_file()]
    txt = sum(p.suffix.lower() in TEXT_SUFFIXES for p in files)
    return txt > 0 and txt * 2 >= len(files)


def _class_layout(folder: Path) -> list[Path] | None:
    """The class folders under `folder` when every non-empty sub-folder is one, else None."""
    dirs = sub_folders(folder)[0]
    classes = [d for d in dirs if _is_class_dir(d)]
    others = [d for d in dirs if d not in classes and _entries(d)]
    return classes if classes and not others else None


def _split_dirs(folder: Path) -> dict[str, Path] | None:
    """{"train": dir, "test": dir} when the folder holds train/ and test/ (any case), else None.

    Single-folder wrappers inside each split are descended (train/docs/pos -> train/docs).
    """
    train, test = split_roots(folder)
    return None if test is None else {"train": train, "test": test}


def sniff(path: Path) -> bool:
    """True for a folder of class folders of `.txt` files, or train/ and test/ folders holding such."""
    path = Path(path)
    if not path.is_dir() or is_hidden(path.name):
        return False
    split = _split_dirs(path)
    if split is not None:
        return all(_class_layout(d) is not None for d in split.values())
    return _class_layout(path) is not None


def _folder_files(folder: Path) -> tuple[dict[str, list[Path]], list[Skipped]]:
    """Class name -> `.txt` files (sorted), and the entries skipped (not `.txt`, empty, broken links)."""
    out: dict[str, list[Path]] = {}
    skipped: list[Skipped] = []
    for class_dir in _class_layout(folder) or []:
        files = []
        for p in _entries(class_dir):
            if not p.is_file():
                if p.is_symlink() and not p.is_dir():
                    skipped.append(Skipped(str(p), "broken or looping symbolic link"))
                continue
            if p.suffix.lower() not in TEXT_SUFFIXES:
                skipped.append(Skipped(str(p), "not a .txt file"))
            elif p.stat().st_size == 0:
                skipped.append(Skipped(str(p), "empty document"))
            else:
                files.append(p)
        if files:
            out[class_dir.name] = files
        else:
            skipped.append(Skipped(str(class_dir), "class folder without usable .txt files"))
    return out, skipped


def _even_sample(items: list[Any], limit: int) -> list[Any]:
    """At most `limit` items spread evenly over the list (deterministic)."""
    if len(items) <= limit:
        return list(items)
    idx = np.linspace(0, len(items) - 1, num=max(limit, 1)).round().astype(int)
    return [items[i] for i in idx]


def text_facts(docs: list[str], n_total: int) -> dict[str, Any]:
    """Vocabulary and length facts for a sample of non-empty documents.

    Args:
        docs: The sampled documents.
        n_total: How many documents the sample was drawn from.
    """
    vocab: set[str] = set()
    lengths = []
    for doc in docs:
        toks = tokens(doc)
        vocab.update(toks)
        lengths.append(len(toks))
    arr = np.asarray(lengths or [0])
    return {
        "vocabulary_size": len(vocab),
        "vocabulary_sampled_docs": len(docs),
        "documents": n_total,
        "doc_length_words": {
            "min": int(arr.min()),
            "median": float(np.median(arr)),
            "p95": float(np.percentile(arr, 95)),
            "max": int(arr.max()),
        },
    }


def text_structure(facts: dict[str, Any], where: str) -> Structure:
    """The text/temporal/long-documents flags, with evidence."""
    length = facts["doc_length_words"]
    median = length["median"]
    structure = Structure(text=True, temporal=True)
    structure.evidence["text"] = (
        f"free text {where}: vocabulary {facts['vocabulary_size']} words "
        f"in {facts['vocabulary_sampled_docs']} sampled documents"
    )
    structure.evidence["temporal"] = "word order carries meaning in text"
    structure.long_documents = median >= LONG_DOCUMENT_WORDS
    relation = ">=" if structure.long_documents else "<"
    structure.evidence["long_documents"] = (
        f"median document length {median:g} words {relation} threshold {LONG_DOCUMENT_WORDS}"
    )
    if length["min"] != length["max"]:
        structure.variable_length = True
        structure.evidence["variable_length"] = (
            f"documents of {length['min']}-{length['max']} words (median {median:g})"
        )
    return structure


def text_spec(facts: dict[str, Any]) -> InputSpec:
    """The InputSpec for raw strings (with the text column, for text read from a table)."""
    return InputSpec(
        "text", (), "string", vocabulary_size=facts["vocabulary_size"], text_column=facts.get("text_column") or None
    )


@dataclass
class DocumentReads:
    """Documents read from files, and how each was decoded.

    Attributes:
        docs: One entry per file: its text, or None when blank or refused.
        blank: The files without text.
        refused: The files no safe decoding explains (or that cannot be read), with the reason.
        encodings: How many documents each decoding read ("UTF-8", "windows-1252", "UTF-16 LE with a ...").
    """

    docs: list[str | None] = field(default_factory=list)
    blank: list[Path] = field(default_factory=list)
    refused: list[Skipped] = field(default_factory=list)
    encodings: Counter[str] = field(default_factory=Counter)

    @property
    def not_utf8(self) -> int:
        """Documents decoded as something other than UTF-8 (with or without a byte-order mark)."""
        return sum(n for label, n in self.encodings.items() if not label.startswith("UTF-8"))

    def skipped(self) -> list[Skipped]:
        """The blank and the refused files, as skipped files."""
        return [Skipped(str(f), "empty document") for f in self.blank] + self.refused


def _read_docs(files: list[Path]) -> DocumentReads:
    """Decode each file without replacing a character; blank and undecodable files give None."""
    out = DocumentReads()
    for f in files:
        try:
            decoded = read_document(f)
        except DataError as exc:
            out.refused.append(Skipped(str(f), _reason(exc, f)))
            out.docs.append(None)
            continue
        out.encodings[decoded.label] += 1
        if decoded.text.strip():
            out.docs.append(decoded.text)
        else:
            out.blank.append(f)
            out.docs.append(None)
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def decoding_notes(reads: DocumentReads, n_total: int) -> list[str]:
    """One note per decoding other than UTF-8 ("3 files decoded as windows-1252 ..."), one for refused files.

    Args:
        reads: The documents read.
        n_total: How many documents there are (more than were read when a sample was read).
    """
    n_read = len(reads.docs)
    of = f" (of {n_read} sampled)" if n_read < n_total else ""
    notes = []
    for label, n in sorted(reads.encodings.items()):
        if label == "windows-1252":
            notes.append(
                f"{_plural(n, 'file')}{of} decoded as {label}: not UTF-8, every character kept; "
                f"re-save {'it' if n == 1 else 'them'} as UTF-8 to be sure"
            )
        elif not label.startswith("UTF-8"):
            notes.append(f"{_plural(n, 'file')}{of} decoded as {label}")
    if reads.refused:
        first = reads.refused[0]
        notes.append(
            f"{_plural(len(reads.refused), 'file')}{of} skipped: no safe decoding without replacing "
            f"characters (first: {Path(first.file).name}: {first.reason})"
        )
    return notes


def _check_decoded(reads: DocumentReads) -> None:
    """Refuse a corpus none of whose read documents decodes safely (skipping them all would hide why)."""
    if reads.refused and not reads.encodings:
        first = reads.refused[0]
        raise DataError(f"no document decodes without replacing characters ({first.reason})", path=first.file)


def _layout(path: Path) -> dict[str, Path]:
    split = _split_dirs(path)
    return split if split is not None else {"train": path}


def profile_folder(path: Path, opts: DataOptions) -> DatasetProfile:
    """Profile class folders of `.txt` files (a sample of up to opts.sample_limit documents is read)."""
    path = Path(path)
    cols.check_kind(opts.kind, ("text",), "a folder of .txt files")
    parts = _layout(path)
    by_part = {part: _folder_files(folder) for part, folder in parts.items()}
    train, skipped = by_part["train"]
    if not train and any(s.reason == "empty document" for s in skipped):
        raise DataError("every .txt document is empty; put each document's text in its file", path=path)
    if not train:
        raise DataError("no class folder holds .txt files; put documents in one folder per class", path=path)
    test, test_skipped = by_part.get("test", ({}, []))
    everything = [f for files in train.values() for f in files]
    sample_files = _even_sample(everything, opts.sample_limit)
    reads = _read_docs(sample_files)
    _check_decoded(reads)
    skipped = skipped + test_skipped + reads.skipped()
    facts = text_facts([d for d in reads.docs if d is not None], len(everything))
    facts.update(
        {
            "non_utf8_documents": reads.not_utf8,
            "undecodable_documents": len(reads.refused),
            "document_encodings": dict(sorted(reads.encodings.items())),
            "empty_documents": sum(s.reason == "empty document" for s in skipped),
        }
    )
    notes = link_notes(parts["train"], set(train)) + decoding_notes(reads, len(everything))
    unused = {f for f, d in zip(sample_files, reads.docs, strict=True) if d is None}
    classes = {name: sum(f not in unused for f in files) for name, files in sorted(train.items())}
    cols.check_samples(sum(classes.values()), "non-empty documents", path)
    if len(classes) < 2:
        raise DataError(f"only one class folder ({next(iter(classes))}); add a folder per class", path=path)
    unknown = sorted(set(test) - set(train))
    if unknown:
        raise DataError(
            f"test classes {', '.join(unknown[:5])} have no training folder; add them to train/",
            path=parts["test"],
        )
    n_test = sum(len(v) for v in test.values()) if "test" in parts else None
    return DatasetProfile(
        path=str(path),
        name=cols.dataset_name(path),
        modality="text",
        source="text-folder",
        task="classification",
        n_samples=sum(classes.values()),
        classes=classes,
        split="folders" if "test" in parts else "holdout",
        n_test=n_test,
        facts=facts,
        structure=text_structure(facts, "in .txt files"),
        skipped=skipped,
        notes=notes,
    )


def profile(path: Path, opts: DataOptions) -> DatasetProfile:
    """Profile class folders of `.txt` files (text CSVs are profiled through tables.py)."""
    return profile_folder(path, opts)


def _clean_rows(frame: pd.DataFrame, text_column: str, label_column: str) -> tuple[pd.Series, pd.Series, int, int]:
    """Rows with text and a label: (texts, labels, n_empty_text, n_missing_label)."""
    text = frame[text_column]
    has_text = text.notna() & (text.astype("string").str.strip().fillna("") != "")
    label = frame[label_column]
    has_label = label.notna() & (label.astype("string").str.strip().fillna("") != "")
    keep = has_text & has_label
    return (text[keep].astype(str), label[keep], int((~has_text).sum()), int((has_text & ~has_label).sum()))


def profile_frame(
    path: Path,
    frame: pd.DataFrame,
    text_column: str,
    label_column: str,
    opts: DataOptions,
    files: dict[str, str],
) -> DatasetProfile:
    """Profile a table with a free-text column and a label column.

    Args:
        path: The dataset path as given.
        frame: The training table.
        text_column: The free-text column.
        label_column: The label (or numeric target) column.
        opts: Data options (sample_limit).
        files: {"train": file, "test": file or absent}; kept in facts for `load`.
    """
    texts, labels, n_empty, n_unlabelled = _clean_rows(frame, text_column, label_column)
    file = files["train"]
    if texts.empty:
        raise DataError(
            f"no row has both text in {text_column!r} and a label in {label_column!r}; fill them", path=file
        )
    cols.check_samples(len(texts), "row(s) with text and a label", file)
    skipped = []
    if n_empty:
        skipped.append(Skipped(file, f"{n_empty} rows with empty text in {text_column!r}"))
    if n_unlabelled:
        skipped.append(Skipped(file, f"{n_unlabelled} rows without a label in {label_column!r}"))
    task, task_reason = cols.target_task(labels)
    sample = _even_sample(list(texts), opts.sample_limit)
    facts = text_facts(sample, len(texts))
    non_utf8 = int(texts.str.contains("\ufffd", regex=False).sum())  # decoding never replaces: U+FFFD was in the file
    facts.update(
        {
            "files": files,
            "text_column": text_column,
            "label_column": label_column,
            "non_utf8_documents": non_utf8,
            "empty_documents": n_empty,
            "target_reason": task_reason,
        }
    )
    notes = []
    if non_utf8:
        notes.append(
            f"{non_utf8} rows already hold the replacement character U+FFFD in the file: their text was "
            "damaged before archpick read it; fix them at the source"
        )
    n_test = None
    test_labels: list[Any] = []
    if "test" in files:
        test = cols.read_frame(Path(files["test"]))
        for column in (text_column, label_column):
            if column not in test.columns:
                raise DataError(
                    f"the test file lacks column {column!r}; give it the training file's columns",
                    path=files["test"],
                )
        test_texts, test_labels_s, _, _ = _clean_rows(test, text_column, label_column)
        n_test, test_labels = len(test_texts), list(test_labels_s)
    classes: dict[str, int] = {}
    if task == "classification":
        _, _, (classes, *_) = cols.encode_labels(list(labels), test_labels)
        cols.check_classes(classes, f"label column {label_column!r}", file)
    structure = text_structure(facts, f"in column {text_column!r}")
    return DatasetProfile(
        path=str(path),
        name=cols.dataset_name(path),
        modality="text",
        task=task,
        source="text-csv",
        n_samples=len(texts),
        classes=classes,
        split="files" if n_test is not None else "holdout",
        n_test=n_test,
        target=label_column,
        facts=facts,
        structure=structure,
        skipped=skipped,
        notes=notes,
    )


def _load_frame(profile: DatasetProfile) -> Bundle:
    facts = profile.facts
    files, text_column, label_column = facts["files"], facts["text_column"], facts["label_column"]
    texts, labels, _, _ = _clean_rows(cols.read_frame(Path(files["train"])), text_column, label_column)
    sets = [(texts, labels)]
    if "test" in files:
        test_texts, test_labels, _, _ = _clean_rows(cols.read_frame(Path(files["test"])), text_column, label_column)
        sets.append((test_texts, test_labels))
    ys, names = cols.encode_targets(profile.task, *[list(lab) for _, lab in sets])
    xs = [np.asarray(list(t), dtype=object) for t, _ in sets]
    return cols.bundle_from_sets(xs, ys, names, text_spec(facts))


def _load_folder(profile: DatasetProfile) -> Bundle:
    parts = _layout(Path(profile.path))
    known = {s.file for s in profile.skipped}
    xs, labels, skipped = [], [], []
    for part in ("train", "test"):
        if part not in parts:
            continue
        by_class, _ = _folder_files(parts[part])
        docs_part, labels_part = [], []
        for name, files in sorted(by_class.items()):
            reads = _read_docs(files)
            skipped += [s for s in reads.skipped() if s.file not in known]
            kept = [doc for doc in reads.docs if doc is not None]
            docs_part += kept
            labels_part += [name] * len(kept)
        xs.append(np.asarray(docs_part, dtype=object))
        labels.append(labels_part)
    ys, names = cols.encode_targets("classification", *labels)
    return cols.bundle_from_sets(xs, ys, names, text_spec(profile.facts), skipped=skipped)


def load(profile: DatasetProfile, opts: DataOptions) -> Bundle:
    """Documents as a numpy array of Python str, labels as class indices (or float targets)."""
    if profile.source == "text-csv":
        return _load_frame(profile)
    return _load_folder(profile)


def read_texts_for_predict(file: str | Path, spec: InputSpec | None = None) -> list[tuple[str, str]]:
    """Documents to predict on: a text file is one document; a CSV/Parquet gives one per row.

    Args:
        file: A text file, or a table with the training text column (else its first free-text column).
        spec: The model's input_spec, for "text_column".

    Returns:
        [(name, document)]: the file name, or "file:row" (1-based data rows) for tables.
    """
    file = Path(file)
    if file.suffix.lower() not in cols.TABLE_SUFFIXES:
        return [(str(file), read_document(file, fix="re-save it as UTF-8").text)]
    frame = cols.read_frame(file)
    column = spec.text_column if spec else None
    if column not in frame.columns:
        infos = cols.classify_columns(frame)
        texts = [c for c, i in infos.items() if i.kind == "text"]
        if not texts:
            raise DataError("no free-text column; give a column of documents (e.g. 'text')", path=file)
        column = texts[0]
    values = frame[column]
    return [(f"{file}:{i + 1}", str(v)) for i, v in enumerate(values) if pd.notna(v) and str(v).strip()]
