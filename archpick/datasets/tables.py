"""The CSV/Parquet front door: decides whether a table is text, a series, long-format sequences or a table.

Decision, in order (each overridable with --kind):

1. a free-text column and a label column -> text classification (text.py, source "text-csv");
2. a series id column (named like id/series/sample), an order column (datetime or named like time/step)
   and a label constant within each series -> sequence classification (source "long-csv");
3. a time column (datetime, or numeric named like time, or increasing years) with numeric values and no
   column named like a label -> forecasting (series.py, source "series-csv"); so too when the column named
   like a label is the only numeric one (`date,target`) or under Prophet's names (`ds`, `y`); a lone
   numeric column is a series in row order;
4. otherwise a feature table (source "table-csv"): every column but IDs, constants and empty ones is a
   feature, read inside the model as encodings.py says (numbers, one-hot or embedded categories, a bag of
   words, calendar features; string columns on the TensorFlow backend only). A table without a feature is
   refused with the fix that fits: --kind timeseries beside dates, --target for a guessed label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.datasets import encodings as enc_mod
from archpick.datasets import longtable
from archpick.datasets import series as series_mod
from archpick.datasets import text as text_mod
from archpick.datasets.base import Bundle, DataOptions, is_hidden, split_files
from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError, DependencyError
from archpick.profile import ColumnUse, DatasetProfile, Skipped, Structure

SOURCE_NAMES = frozenset({"table-csv", "long-csv", "series-csv", "text-csv"})
"""Every source a table can become; `load` hands text and series profiles to their modules."""

FOREIGN_SUFFIXES = frozenset(
    {
        ".ts",
        ".npz",
        ".npy",
        ".arff",
        ".png",
        ".jpg",
        ".jpeg",
        ".bmp",
        ".gif",
        ".webp",
        ".mp4",
        ".avi",
        ".webm",
        ".mov",
        ".mkv",
    }
)
"""Files of other sources: a folder holding any of these is not a table folder."""


def _table_files(folder: Path) -> tuple[list[Path], bool]:
    """(table files, whether anything else there is data or a sub-folder) for a folder's top level."""
    tables, foreign = [], False
    for p in sorted(folder.iterdir()):
        if is_hidden(p.name):
            continue
        if p.is_dir() or p.suffix.lower() in FOREIGN_SUFFIXES:
            foreign = True
        elif p.suffix.lower() in cols.TABLE_SUFFIXES:
            tables.append(p)
    return tables, foreign


def sniff(path: Path) -> bool:
    """True for a `.csv/.tsv/.parquet` file, or a folder whose only data is one or a train/test pair.

    The folder must have no sub-folders and no files of other sources (.ts, .npz, images, video);
    documentation files (README, .txt, .md, .json) are ignored.
    """
    path = Path(path)
    if is_hidden(path.name):
        return False
    if path.is_file():
        return path.suffix.lower() in cols.TABLE_SUFFIXES
    if path.is_dir():
        tables, foreign = _table_files(path)
        return not foreign and split_files(tables) is not None
    return False


def locate(path: Path) -> dict[str, str]:
    """The table file(s) of a dataset path.

    Raises:
        DataError: For a folder without exactly one table or one train/test pair.
    """
    path = Path(path)
    if path.is_file():
        return {"train": str(path)}
    if not path.is_dir():
        raise DataError("no such file or folder; check the path", path=path)
    tables, _ = _table_files(path)
    files = split_files(tables)
    if files is None:
        names = ", ".join(t.name for t in tables[:6]) or "none"
        raise DataError(f"expected one CSV/Parquet file or a train/test pair, found {names}; keep one table", path=path)
    return files


@dataclass
class Choice:
    """What a table was taken for, and the columns that decided it."""

    kind: str
    label: str | None = None
    text_column: str | None = None
    time_column: str | None = None
    id_column: str | None = None
    order_column: str | None = None
    reason: str = ""
    label_guessed: bool = False


def _text_choice(
    frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo], label: str | None, forced: bool, file: str
) -> Choice | None:
    texts = [c for c, i in infos.items() if i.kind == "text" and c != label]
    if not texts and forced:
        strings = [c for c, i in infos.items() if i.kind in ("categorical", "id", "text") and c != label]
        texts = sorted(strings, key=lambda c: -frame[c].astype("string").str.len().mean())
    if not texts:
        if forced:
            raise DataError("--kind text needs a column of text; none found", path=file)
        return None
    text_column = texts[0]
    if label is None:
        others = [c for c in frame.columns if c != text_column]
        if not others:
            raise DataError(f"only a text column ({text_column!r}) and no label column; add a label column", path=file)
        label = others[-1]
    return Choice(
        "text",
        label=label,
        text_column=text_column,
        reason=f"column {text_column!r} is {infos[text_column].detail}; labels in {label!r}",
    )


def _forecast_target(numeric: list[str], named: str, time_column: str) -> bool:
    """True when a column named like a label is what a time column's table forecasts.

    So it is when nothing else could be a feature (`date,target`), or under Prophet's names (`ds`, `y`).
    """
    if named not in numeric:
        return False
    features = [c for c in numeric if c != named and not cols.is_id_name(c)]
    return not features or (time_column.lower() == "ds" and named.lower() == "y")


def _series_choice(
    frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo], named: str | None, opts: DataOptions
) -> Choice | None:
    time_column, why = series_mod.detect_time_column(frame, infos)
    if opts.kind == "timeseries":
        dates = [c for c, i in infos.items() if i.kind == "datetime"]
        if time_column is None and dates:  # too many repeated times to be found alone: prepare keeps the last
            time_column, why = dates[0], f"datetime column {dates[0]!r} (--kind timeseries)"
        return Choice("timeseries", time_column=time_column, reason=why)
    numeric = [c for c, i in infos.items() if i.kind == "numeric" and c != time_column]
    if len(frame.columns) == 1 and numeric:
        return Choice("timeseries", reason="a single numeric column: row order taken as time")
    if time_column is None or not numeric:
        return None
    if opts.target is not None:
        return Choice("timeseries", time_column=time_column, reason=why) if named in numeric else None
    if named is not None:
        if not _forecast_target(numeric, named, time_column):
            return None
        return Choice("timeseries", time_column=time_column, reason=f"{why}; {named!r} is the series to forecast")
    last = [c for c in frame.columns if c != time_column][-1]
    return Choice("timeseries", time_column=time_column, reason=why) if last in numeric else None


def choose(frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo], opts: DataOptions, file: str) -> Choice:
    """Decide what a table is (see the module docstring)."""
    named = cols.label_column(frame, opts.target, file) if opts.target else cols.named_label(frame.columns)
    kind = opts.kind
    if kind in (None, "text"):
        choice = _text_choice(frame, infos, named, kind == "text", file)
        if choice is not None:
            return choice
    label = named if named is not None else str(frame.columns[-1])
    if kind in (None, "sequence") and len(frame.columns) > 2:
        layout = longtable.find_layout(frame, infos, label, kind == "sequence")
        if layout is not None:
            return Choice(
                "sequence",
                label=layout.label,
                id_column=layout.id_column,
                order_column=layout.order_column,
                reason=layout.reason,
            )
    if kind == "sequence":
        raise DataError(
            "--kind sequence needs a long table: a series id column, an order column, numeric values and a label",
            path=file,
        )
    if kind in (None, "timeseries"):
        choice = _series_choice(frame, infos, named, opts)
        if choice is not None:
            return choice
    return Choice(
        "table", label=label, reason="no free text, no time column, no series id", label_guessed=named is None
    )


def profile(path: Path, opts: DataOptions) -> DatasetProfile:
    """Profile a CSV/Parquet dataset as text, series, long-format sequences or a table.

    Every profile lists each column with how it is used (`column_uses`), and starts its notes with what
    reading the file took (an encoding other than UTF-8, decimal commas).
    """
    path = Path(path)
    cols.check_kind(opts.kind, ("table", "text", "timeseries", "sequence"), "a CSV/Parquet table")
    files = locate(path)
    read = cols.read_table(Path(files["train"]))
    frame = read.frame
    infos = cols.classify_columns(frame)
    choice = choose(frame, infos, opts, files["train"])
    if choice.kind == "text":
        result = text_mod.profile_frame(path, frame, choice.text_column, choice.label, opts, files)
    elif choice.kind == "timeseries":
        result = series_mod.profile_series(path, frame, choice.time_column, opts, files, choice.reason)
    elif choice.kind == "sequence":
        layout = longtable.LongLayout(choice.label or "", choice.id_column or "", choice.order_column, choice.reason)
        result = longtable.profile(path, frame, infos, layout, files)
    else:
        result = _profile_table(path, frame, infos, choice, files)
    notes = list(read.notes)
    if "test" in files:
        notes += [f"test file: {note}" for note in cols.read_table(Path(files["test"])).notes]
    result.notes = notes + result.notes
    result.column_uses = column_uses(infos, _read_columns(result, infos, choice), _UNUSED_WHY[result.source])
    return result


_UNUSED_WHY = {
    "table-csv": "string columns enter the model on the TensorFlow backend only; pip install tensorflow and "
    "set KERAS_BACKEND=tensorflow to use it",
    "text-csv": "a text classifier reads the text column only",
    "series-csv": "a forecaster reads numeric value columns with at most half of their values missing",
    "long-csv": "a sequence model reads the numeric value columns only",
}
"""Why a usable column is left out, per source."""

_DROPPED_WHY = {
    "id": "an ID ({detail}): it names rows, it does not describe them",
    "constant": "one value in every row: it carries no information",
    "empty": "{detail}: nothing to learn from",
}
"""Why a column is left out on purpose, per role."""


def column_role(name: str, info: cols.ColumnInfo) -> str:
    """The role a column would take (profile.COLUMN_ROLES), from its kind and name."""
    if info.kind == "numeric":
        return "id" if cols.is_id_name(name) else "numeric"
    if info.kind == "categorical" and info.n_unique <= 1:
        return "constant"
    return {"datetime": "date"}.get(info.kind, info.kind)


def _numeric_reason(info: cols.ColumnInfo) -> str:
    """Why a numeric feature is read, with what a user should know (a constant, missing values)."""
    reason = info.detail
    if info.n_unique <= 1:
        reason += "; one value in every row, so it carries no information"
    if info.n_missing:
        reason += f"; {info.n_missing} missing or unreadable values imputed"
    return reason


def _read_columns(
    profile: DatasetProfile, infos: dict[str, cols.ColumnInfo], choice: Choice
) -> dict[str, tuple[str, str]]:
    """Column -> (role, reason) for the columns the profiled model reads, the target included."""
    facts = profile.facts
    target = profile.target or choice.label
    read: dict[str, tuple[str, str]] = {}
    if profile.source == "text-csv":
        read[facts["text_column"]] = ("text", f"the documents: {infos[facts['text_column']].detail}")
    elif profile.source == "series-csv":
        target = facts.get("target", target)
        if facts.get("time_column"):
            read[facts["time_column"]] = ("date", "the time axis: orders and spaces the steps")
        for name in facts.get("columns", []):
            read[name] = ("numeric", f"a value series read beside the target: {infos[name].detail}")
    elif profile.source == "long-csv":
        read[facts["id_column"]] = ("id", "the series id: groups the rows into one sequence each")
        if facts.get("order_column"):
            order = facts["order_column"]
            read[order] = (column_role(order, infos[order]), "orders the steps within each series")
        for name in facts.get("columns", []):
            read[name] = ("numeric", f"a channel of each sequence: {infos[name].detail}")
    else:
        for enc in enc_mod.facts_encodings(facts):
            read[enc.name] = (_ROLES[enc.how], _encoding_reason(enc, infos[enc.name]))
    if target is not None and target in infos:
        read[target] = ("target", f"the {profile.task} target: {facts.get('target_reason', infos[target].detail)}")
    return read


def column_uses(
    infos: dict[str, cols.ColumnInfo], read: dict[str, tuple[str, str]], unused_why: str
) -> list[ColumnUse]:
    """Every column in file order: how the model reads it, or why it is left out.

    Args:
        infos: What each column holds.
        read: Column -> (role, reason) for the columns the model reads (the target included).
        unused_why: Why the model leaves out a column it could otherwise use.
    """
    uses = []
    for name, info in infos.items():
        if name in read:
            role, reason = read[name]
            uses.append(ColumnUse(name, role, True, reason))
            continue
        role = column_role(name, info)
        why = _DROPPED_WHY.get(role)
        reason = why.format(detail=info.detail) if why else f"{info.detail}; not used: {unused_why}"
        uses.append(ColumnUse(name, role, False, reason))
    return uses


_ROLES = {
    "numeric": "numeric",
    "codes": "numeric",
    "one_hot": "categorical",
    "embedding": "categorical",
    "text": "text",
    "date": "date",
}
"""The column role (profile.COLUMN_ROLES) of each encoding."""


def _encoding_reason(enc: enc_mod.ColumnEncoding, info: cols.ColumnInfo) -> str:
    """How a feature column enters the model, with what a user should know (a constant, missing values)."""
    if enc.how == "numeric":
        return _numeric_reason(info)
    reason = enc_mod.describe(enc)
    if info.n_missing:
        reason += f"; {info.n_missing} missing values" + (" imputed" if enc.how in ("numeric", "codes") else "")
    return reason


def _mostly_numbers(series: pd.Series) -> bool:
    """True when at least half of a string column's non-blank values are numbers."""
    text = series.dropna().astype("string").str.strip()
    text = text[text != ""]
    return bool(len(text)) and cols.as_numeric(text).notna().mean() >= 0.5


def strings_supported() -> bool:
    """True when string columns can enter the model: the Keras backend is TensorFlow (string tensors)."""
    from archpick import backend

    try:
        return backend.select() == "tensorflow"
    except DependencyError:
        return False


def _features(
    frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo], target: str, strings: bool
) -> tuple[list[enc_mod.ColumnEncoding], dict[str, list[str]]]:
    """The feature columns' encodings, and the other columns by kind (ids, constants, empty, and string
    columns when `strings` is False)."""
    features: list[enc_mod.ColumnEncoding] = []
    dropped: dict[str, list[str]] = {}
    for name, info in infos.items():
        if name == target:
            continue
        kind = info.kind
        if kind == "numeric" and cols.is_id_name(name):
            kind = "id"
        elif kind == "categorical" and info.n_unique <= 1:
            kind = "constant"
        elif kind == "categorical" and _mostly_numbers(frame[name]):
            kind = "numeric"  # numbers with stray words ("n/a", "tall"): the words are gaps, imputed
        if kind == "numeric" or (strings and kind in ("categorical", "text", "datetime")):
            numbers = cols.as_numeric(frame[name]) if kind == "numeric" else None
            features.append(enc_mod.choose_encoding(name, kind, info.n_unique, numbers))
        else:
            dropped.setdefault(kind, []).append(name)
    if features and all(e.how == "date" for e in features):  # dates alone: a series' time axis (see the fixes)
        dropped.setdefault("datetime", []).extend(e.name for e in features)
        return [], dropped
    return features, dropped


def _no_feature_fixes(
    frame: pd.DataFrame,
    infos: dict[str, cols.ColumnInfo],
    choice: Choice,
    dropped: dict[str, list[str]],
    strings: bool = False,
) -> list[str]:
    """What a user can do about a table without a numeric feature column, most specific first."""
    target = str(choice.label)
    others = [c for c in frame.columns if c != target]
    dates = dropped.get("datetime", [])
    unread = [c for c in others if c not in dates and cols.looks_like_dates(frame[c])]
    if infos[target].kind == "numeric" and dates:
        return [f"pass --kind timeseries to forecast {target!r} over {dates[0]!r}"]
    if infos[target].kind == "numeric" and unread:
        return [f"write the dates in {unread[0]!r} as YYYY-MM-DD, or pass --kind timeseries to forecast in row order"]
    fixes = ["name the label column with --target"] if choice.label_guessed else []
    if not strings and any(infos[c].kind in ("categorical", "text") and c not in unread for c in others):
        fixes.append(
            "run on the TensorFlow backend (pip install tensorflow; KERAS_BACKEND=tensorflow) to use "
            "string columns, or pass --kind text for free text"
        )
    return fixes or ["add numeric feature columns"]


_UNUSED_NOTE = {
    "id": "ID columns not used (they name rows, they do not describe them)",
    "empty": "empty columns not used (every value is missing)",
    "constant": "constant columns not used (one value in every row)",
}
"""The note on columns a table leaves out, per role, where the reason is not the dense network's numeric input."""


def _unused_notes(infos: dict[str, cols.ColumnInfo], used: list[str]) -> list[str]:
    """One note per role of column a table leaves out (see `column_role`), naming the columns and why."""
    dropped: dict[str, list[str]] = {}
    for name, info in infos.items():
        if name not in used:
            dropped.setdefault(column_role(name, info), []).append(name)
    notes = []
    for role, names in dropped.items():
        why = _UNUSED_NOTE.get(role, f"{role} columns not used (string columns need the TensorFlow backend)")
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        notes.append(f"{why}: {', '.join(names[:10])}{more}")
    return notes


def _rows_with_target(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    values = frame[target]
    present = values.notna() & (values.astype("string").str.strip().fillna("") != "")
    return frame[present]


def _profile_table(
    path: Path, frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo], choice: Choice, files: dict[str, str]
) -> DatasetProfile:
    file, target = files["train"], choice.label
    strings = strings_supported()
    encodings, dropped = _features(frame, infos, target, strings)
    if choice.label_guessed and not any(e.how in ("numeric", "codes") for e in encodings):
        for e in encodings:  # words only and no column named like a label: which one is it?
            dropped.setdefault(infos[e.name].kind, []).append(e.name)
        encodings = []
    features = [e.name for e in encodings]
    if not features:
        kinds = ", ".join(f"{k}: {', '.join(v[:4])}" for k, v in dropped.items()) or "none"
        what = "feature" if strings else "numeric feature"
        raise DataError(
            f"no {what} column besides the target {target!r} ({kinds}); "
            + ", or ".join(_no_feature_fixes(frame, infos, choice, dropped, strings)),
            path=file,
        )
    rows = _rows_with_target(frame, target)
    skipped = []
    if len(rows) < len(frame):
        skipped.append(Skipped(file, f"{len(frame) - len(rows)} rows without a value in target {target!r}"))
    if rows.empty:
        raise DataError(f"target column {target!r} is empty; fill it or pass another --target", path=file)
    cols.check_samples(len(rows), f"row(s) with a value in target {target!r}", file)
    task, task_reason = cols.target_task(rows[target])
    notes = _unused_notes(infos, [target, *features])
    stray = [e.name for e in encodings if infos[e.name].kind == "categorical" and e.how in ("numeric", "codes")]
    if stray:
        notes.append(
            "numbers with stray words, the words read as missing values: "
            + "; ".join(f"{n} ({infos[n].detail})" for n in stray[:5])
        )
    test_rows = None
    if "test" in files:
        test = cols.read_frame(Path(files["test"]))
        absent = [c for c in [target, *features] if c not in test.columns]
        if absent:
            raise DataError(
                f"the test file lacks columns {', '.join(absent[:6])}; give it the training file's columns",
                path=files["test"],
            )
        test_rows = _rows_with_target(test, target)
    classes: dict[str, int] = {}
    if task == "classification":
        _, _, (classes, *_) = cols.encode_labels(rows[target], [] if test_rows is None else test_rows[target])
        cols.check_classes(classes, f"target column {target!r}", file, guessed=choice.label_guessed)
    x = cols.numeric_matrix(rows, [e.name for e in encodings if e.how in ("numeric", "codes")])
    n_missing = int(np.isnan(x).sum())
    if n_missing:
        notes.append(
            f"{n_missing} missing or infinite feature values (NaN, inf, blanks) left as NaN: the model imputes them"
        )
    facts: dict[str, Any] = {
        "files": files,
        "columns": features,
        "encodings": [e.to_dict() for e in encodings],
        "n_features": len(features),
        "dropped_columns": dropped,
        "missing_values": n_missing,
        "target_reason": task_reason,
        "column_kinds": {name: info.kind for name, info in infos.items()},
    }
    structure = Structure(tabular=True)
    numeric = sum(e.how in ("numeric", "codes") for e in encodings)
    others = f" and {len(features) - numeric} string" if len(features) > numeric else ""
    structure.evidence["tabular"] = (
        f"{numeric} numeric{others} feature columns and {choice.reason}: row order carries no meaning"
    )
    return DatasetProfile(
        path=str(path),
        name=cols.dataset_name(path),
        modality="table",
        task=task,
        source="table-csv",
        n_samples=len(rows),
        classes=classes,
        split="files" if test_rows is not None else "holdout",
        n_test=len(test_rows) if test_rows is not None else None,
        target=target,
        facts=facts,
        structure=structure,
        skipped=skipped,
        notes=notes,
    )


STRING_ROW = (
    "one string per column, in `columns` order: numbers as decimal text (blank = missing), "
    "categories and text as written, dates as YYYY-MM-DD"
)
"""What one input row of a table of strings is, for the serving contract."""


def _load_table(profile: DatasetProfile) -> Bundle:
    """The table's rows: float32 (N, F) when every feature is a number, else the string rows of encodings.py.

    The input_spec names the columns in order and, in "encodings", how each enters the model.
    """
    facts, target = profile.facts, profile.target
    frames = [_rows_with_target(cols.read_frame(Path(f)), target) for f in cols.file_list(facts["files"])]
    encodings = enc_mod.facts_encodings(facts)
    strings = any(e.how in enc_mod.STRING_ENCODINGS for e in encodings)
    if strings:
        xs = [enc_mod.raw_rows(frame, encodings) for frame in frames]
    else:
        xs = [cols.numeric_matrix(frame, facts["columns"], np.float32) for frame in frames]
    ys, names = cols.encode_targets(profile.task, *[f[target] for f in frames])
    spec = InputSpec(
        kind="table",
        shape=(len(facts["columns"]),),
        dtype="string" if strings else "float32",
        columns=facts["columns"],
        encodings=tuple(encodings) if strings or any(e.how != "numeric" for e in encodings) else None,
        row=STRING_ROW if strings else None,
    )
    return cols.bundle_from_sets(xs, ys, names, spec)


def load(profile: DatasetProfile, opts: DataOptions) -> Bundle:
    """Load a profiled table (delegates text and series profiles to their modules)."""
    if profile.source == "text-csv":
        return text_mod.load(profile, opts)
    if profile.source == "series-csv":
        return series_mod.load(profile, opts)
    if profile.source == "long-csv":
        return longtable.load(profile)
    return _load_table(profile)
