"""sktime/UCR/UEA `.ts` files: a parser of our own, and the sequence helpers other sources share.

A `.ts` file is a header (@problemName, @timeStamps, @missing, @univariate, @dimensions, @equalLength,
@seriesLength, @classLabel or @targetLabel) then @data rows `dim1:dim2:...:label`, values comma separated,
`?` for missing. Series may differ in length (JapaneseVowels: 7-29 steps); `load` pads them with NaN.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archpick.datasets import columns as cols
from archpick.datasets.base import Bundle, DataOptions, is_hidden
from archpick.datasets.sequences import describe_lengths, effective_length, pad_sequences, sequence_spec
from archpick.decoding import DecodedText, decode_text
from archpick.errors import DataError
from archpick.profile import DatasetProfile, Skipped

SOURCE_NAMES = frozenset({"ts-files"})

_HEADER_PEEK = 65536
_STAMPED = re.compile(r"\(([^(),]*),([^()]*)\)")
_SPLIT_STEM = re.compile(r"^(?P<prefix>.*?)[_-]?(?P<part>train|test)$", re.IGNORECASE)


@dataclass
class TsData:
    """One parsed `.ts` file.

    Attributes:
        path: The file.
        header: Header keys (lowercase, without "@") -> raw values.
        series: One (T, C) float64 array per case, NaN for missing values.
        labels: Class labels or regression targets as strings, one per case (None when unlabelled).
        lines: The line number of each case, for messages.
        task: "classification", "regression" or None (unlabelled).
        declared: Class labels declared by @classLabel, in file order.
        note: How the file was decoded when it was not plain UTF-8 ("decoded as UTF-16 LE ..."), else "".
    """

    path: str
    header: dict[str, str]
    series: list[np.ndarray] = field(default_factory=list)
    labels: list[str] | None = None
    lines: list[int] = field(default_factory=list)
    task: str | None = None
    declared: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def channels(self) -> int:
        """Dimensions per time step."""
        return self.series[0].shape[1] if self.series else 0


def _flag(value: str) -> bool:
    return value.split()[0].lower() == "true" if value.split() else False


def _split_fields(line: str) -> list[str]:
    """Split a data row on ':' outside parentheses (time stamps contain ':')."""
    if "(" not in line:
        return line.split(":")
    out, depth, start = [], 0, 0
    for i, ch in enumerate(line):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ":" and depth == 0:
            out.append(line[start:i])
            start = i + 1
    out.append(line[start:])
    return out


def _values(text: str, stamped: bool, path: Path, lineno: int) -> np.ndarray:
    """Parse one dimension's comma-separated values ('?' -> NaN)."""
    if stamped or text.lstrip().startswith("("):
        tokens = [m.group(2) for m in _STAMPED.finditer(text)]
        if not tokens and text.strip():
            raise DataError(
                f"line {lineno}: cannot read time-stamped values {text[:40]!r}; write (time,value) pairs",
                path=path,
            )
    else:
        tokens = text.split(",")
    tokens = [t.strip() for t in tokens]
    if tokens and tokens[-1] == "" and len(tokens) > 1:
        tokens = tokens[:-1]  # a trailing comma
    try:
        return np.asarray(tokens, dtype=np.float64)
    except ValueError:
        pass
    out = np.empty(len(tokens))
    for i, tok in enumerate(tokens):
        if tok in ("?", "", "NaN", "nan"):
            out[i] = np.nan
            continue
        try:
            out[i] = float(tok)
        except ValueError:
            raise DataError(
                f"line {lineno}: value {tok[:30]!r} is not a number; use numbers and '?' for missing values",
                path=path,
            ) from None
    return out


def parse_ts(path: Path) -> TsData:
    """Parse a `.ts` file.

    Args:
        path: The file.

    Returns:
        The parsed file; variable-length cases keep their own lengths.

    Raises:
        DataError: Naming the file and the line number, for anything that does not parse.
    """
    path = Path(path)
    header: dict[str, str] = {}
    data = TsData(path=str(path), header=header)
    in_data = False
    n_fields: int | None = None
    labelled = False
    decoded = read_ts_text(path)
    data.note = decoded.note
    with io.StringIO(decoded.text, newline=None) as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line[0] in "#%":
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise DataError(
                        f"line {lineno}: expected a @header line or @data, got {line[:30]!r}; "
                        "is this a sktime .ts file?",
                        path=path,
                    )
                key, _, rest = line[1:].partition(" ")
                key, rest = key.lower(), rest.strip()
                if key == "data":
                    in_data = True
                    data.declared = _declared(header)
                    labelled = _flag(header.get("classlabel", "")) or _flag(header.get("targetlabel", ""))
                    data.task = (
                        "classification" if _flag(header.get("classlabel", "")) else "regression" if labelled else None
                    )
                    data.labels = [] if labelled else None
                else:
                    header[key] = rest
                continue
            fields = _split_fields(line)
            if n_fields is None:
                n_fields = len(fields)
                dims = n_fields - int(labelled)
                declared_dims = header.get("dimensions")
                if dims < 1:
                    raise DataError(f"line {lineno}: no values before the label; write dim1:dim2:...:label", path=path)
                if declared_dims and declared_dims.isdigit() and int(declared_dims) != dims:
                    raise DataError(f"line {lineno}: {dims} dimensions but @dimensions says {declared_dims}", path=path)
            elif len(fields) != n_fields:
                raise DataError(
                    f"line {lineno}: {len(fields) - int(labelled)} dimensions, earlier rows have "
                    f"{n_fields - int(labelled)}; give every case the same dimensions",
                    path=path,
                )
            stamped = _flag(header.get("timestamps", "false"))
            dim_fields = fields[:-1] if labelled else fields
            dims_values = [_values(f, stamped, path, lineno) for f in dim_fields]
            length = max(len(v) for v in dims_values)
            case = np.full((length, len(dims_values)), np.nan)
            for j, v in enumerate(dims_values):
                case[: len(v), j] = v
            if labelled:
                label = fields[-1].strip()
                if data.task == "classification" and data.declared and label not in data.declared:
                    raise DataError(
                        f"line {lineno}: class label {label[:30]!r} is not declared in @classLabel "
                        f"({' '.join(data.declared[:12])})",
                        path=path,
                    )
                if data.task == "regression":
                    try:
                        float(label)
                    except ValueError:
                        raise DataError(f"line {lineno}: target {label[:30]!r} is not a number", path=path) from None
                data.labels.append(label)
            data.series.append(case)
            data.lines.append(lineno)
    if not in_data:
        raise DataError("no @data line; a .ts file needs a header and an @data section", path=path)
    if not data.series:
        raise DataError("no cases after @data; add data rows", path=path)
    return data


def _declared(header: dict[str, str]) -> list[str]:
    parts = header.get("classlabel", "").split()
    return parts[1:] if parts and parts[0].lower() == "true" else []


def read_ts_text(path: Path) -> DecodedText:
    """A `.ts` file's text, decoded without replacing a character (archpick.decoding.decode_text).

    Raises:
        DataError: The file cannot be read, or no safe decoding explains its bytes (one line naming it).
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror}); check that it exists", path=path) from exc
    return decode_text(raw, path, what="a sktime .ts file", fix="re-save it as UTF-8")


_KEYWORDS = ("@problemname", "@data", "@classlabel", "@targetlabel")
_KEYWORD_BYTES = tuple(
    key.encode(encoding)
    for key in _KEYWORDS
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


def looks_like_ts(path: Path) -> bool:
    """True when the file's header has sktime keywords (a `.ts` may also be TypeScript).

    The keywords are looked for as bytes in UTF-8 (and its ASCII-compatible code pages), UTF-16 and UTF-32,
    so nothing is decoded here; `parse_ts` decodes the file or refuses it.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEADER_PEEK).lower()
    except OSError:
        return False
    return any(key in head for key in _KEYWORD_BYTES)


def _ts_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not is_hidden(p.name) and p.suffix.lower() == ".ts")


def sniff(path: Path) -> bool:
    """True for a sktime `.ts` file, or a folder holding one (other files there are ignored)."""
    path = Path(path)
    if is_hidden(path.name):
        return False
    if path.is_file():
        return path.suffix.lower() == ".ts" and looks_like_ts(path)
    if path.is_dir():
        files = _ts_files(path)
        return bool(files) and looks_like_ts(files[0])
    return False


def locate(path: Path) -> dict[str, str]:
    """The training file and, in a folder, the matching test file.

    A folder with one `<name>_TRAIN.ts`/`<name>_TEST.ts` pair uses it; with several pairs, the one whose
    name is the folder's; a folder with a single `.ts` file uses that. A file path is used alone.

    Raises:
        DataError: When the folder has no `.ts` file or several candidates.
    """
    path = Path(path)
    if path.is_file():
        return {"train": str(path)}
    files = _ts_files(path)
    pairs: dict[str, dict[str, Path]] = {}
    for f in files:
        m = _SPLIT_STEM.match(f.stem)
        if m:
            pairs.setdefault(m.group("prefix"), {})[m.group("part").lower()] = f
    complete = {k: v for k, v in pairs.items() if {"train", "test"} <= set(v)}
    if len(complete) > 1:
        own = [k for k in complete if k.lower() == path.name.lower()]
        if len(own) == 1:
            complete = {own[0]: complete[own[0]]}
    if len(complete) == 1:
        pair = next(iter(complete.values()))
        return {"train": str(pair["train"]), "test": str(pair["test"])}
    if len(files) == 1:
        return {"train": str(files[0])}
    if not files:
        raise DataError("no .ts file here; give a folder with NAME_TRAIN.ts and NAME_TEST.ts", path=path)
    names = ", ".join(sorted(complete) or [f.name for f in files][:6])
    raise DataError(
        f"several .ts problems here ({names}); give one file or a folder with one TRAIN/TEST pair", path=path
    )


def _usable(data: TsData) -> tuple[list[np.ndarray], list[str], list[Skipped]]:
    """Cases trimmed of trailing padding, their labels, and the empty ones skipped."""
    cases, labels, skipped = [], [], []
    for i, case in enumerate(data.series):
        n = effective_length(case)
        if n == 0:
            skipped.append(Skipped(f"{data.path}:{data.lines[i]}", "series has no values"))
            continue
        cases.append(case[:n])
        labels.append(data.labels[i])
    return cases, labels, skipped


def _parse_all(files: dict[str, str]) -> tuple[TsData, TsData | None]:
    train = parse_ts(Path(files["train"]))
    test = parse_ts(Path(files["test"])) if "test" in files else None
    if train.task is None:
        raise DataError(
            "the cases have no labels (@classLabel false); archpick needs labelled series",
            path=files["train"],
        )
    if test is not None:
        if test.task != train.task:
            raise DataError(
                "the test file's labels differ in kind from the training file's; "
                "use matching @classLabel/@targetLabel headers",
                path=files["test"],
            )
        if test.channels != train.channels:
            raise DataError(
                f"the test file has {test.channels} dimensions, the training file {train.channels}; "
                "give both the same dimensions",
                path=files["test"],
            )
    return train, test


def profile(path: Path, opts: DataOptions) -> DatasetProfile:
    """Profile `.ts` files: lengths, channels, classes (reads the files, which hold only the series)."""
    cols.check_kind(opts.kind, ("sequence",), "sktime .ts files")
    files = locate(Path(path))
    train, test = _parse_all(files)
    cases, labels, skipped = _usable(train)
    test_cases, test_labels, test_skipped = _usable(test) if test is not None else ([], [], [])
    cols.check_samples(len(cases), "non-empty series", files["train"])
    problem = train.header.get("problemname", Path(files["train"]).stem)
    lengths = [len(c) for c in cases + test_cases]
    facts, structure = describe_lengths(lengths, train.channels, f"{problem} .ts files")
    classes: dict[str, int] = {}
    if train.task == "classification":
        _, _, (classes, *_) = cols.encode_labels(labels, test_labels)
        cols.check_classes(classes, "the class labels", files["train"])
    n_missing = int(sum(np.isnan(c).sum() for c in cases + test_cases))
    facts.update(
        {
            "files": files,
            "problem": problem,
            "n_train": len(cases),
            "n_test": len(test_cases),
            "missing_values": n_missing,
            "timestamps": _flag(train.header.get("timestamps", "false")),
            "declared_classes": train.declared,
        }
    )
    notes = [f"{Path(d.path).name}: {d.note}" for d in (train, test) if d is not None and d.note]
    if n_missing:
        notes.append(f"{n_missing} missing values ('?') inside the series are kept as NaN")
    if facts["timestamps"]:
        notes.append("time stamps ignored: values are taken in file order")
    return DatasetProfile(
        path=str(path),
        name=cols.dataset_name(path),
        modality="sequence",
        task=train.task,
        source="ts-files",
        n_samples=len(cases),
        classes=classes,
        split="files" if test is not None else "holdout",
        n_test=len(test_cases) if test is not None else None,
        facts=facts,
        structure=structure,
        skipped=skipped + test_skipped,
        notes=notes,
    )


def load(profile: DatasetProfile, opts: DataOptions) -> Bundle:
    """The series NaN-padded to float32 (N, T, C), with labels (and the shipped test split)."""
    train, test = _parse_all(profile.facts["files"])
    cases, labels, skipped = _usable(train)
    test_cases, test_labels, test_skipped = _usable(test) if test is not None else ([], [], [])
    length = max(len(c) for c in cases + test_cases)
    x = pad_sequences(cases, length)
    x_test = pad_sequences(test_cases, length) if test is not None else None
    (y, y_test), names = cols.encode_targets(train.task, labels, test_labels)
    variable = bool(profile.structure.variable_length)
    return Bundle(
        x=x,
        y=y,
        class_names=names,
        x_test=x_test,
        y_test=y_test if test is not None else None,
        input_spec=sequence_spec(train.channels, length, variable),
        split="stratified",
        skipped=skipped + test_skipped,
    )
