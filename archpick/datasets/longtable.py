"""Long-format tables as a source of labelled sequences: one row per (series id, step), values in numeric
columns, a label constant within each series id (the layout of tsfresh and sktime's long format)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.datasets import sequences as seq
from archpick.datasets.base import Bundle
from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError
from archpick.profile import DatasetProfile, Skipped


@dataclass(frozen=True)
class LongLayout:
    """Which columns make a table long-format.

    Attributes:
        label: The label column (constant within a series id).
        id_column: The series id column.
        order_column: The column that orders a series' steps, or None for row order.
        reason: The evidence, in words.
    """

    label: str
    id_column: str
    order_column: str | None
    reason: str = ""


def find_layout(frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo], label: str, forced: bool) -> LongLayout | None:
    """An id column, an order column and a label constant within each id, or None.

    Args:
        frame: The table.
        infos: Its classified columns.
        label: The label column.
        forced: True under `--kind sequence`: any id column with repeats will do, order or not.
    """
    n = len(frame)
    ids = [
        c for c in frame.columns if c != label and (cols.is_id_name(c) or forced) and 2 <= frame[c].nunique() <= n / 2
    ]
    for id_col in ids:
        if not forced and frame.groupby(id_col, sort=False)[label].nunique(dropna=False).max() > 1:
            continue
        orders = [
            c
            for c, i in infos.items()
            if c not in (label, id_col) and (i.kind == "datetime" or i.kind == "numeric" and cols.is_order_name(c))
        ]
        orders = [c for c in orders if not frame.duplicated([id_col, c]).any()]
        if not orders and not forced:
            continue
        order = orders[0] if orders else None
        values = [c for c, i in infos.items() if i.kind == "numeric" and c not in (label, id_col, order)]
        if not values:
            continue
        reason = f"series id {id_col!r}, order {order or 'row order'!r}, label {label!r}"
        return LongLayout(label, id_col, order, reason)
    return None


def _groups(
    frame: pd.DataFrame, id_column: str, order_column: str | None, values: list[str]
) -> Iterator[tuple[Any, pd.DataFrame, np.ndarray]]:
    """(series id, its rows in order, its (T, F) values) per series id, in order of first appearance."""
    for key, group in frame.groupby(id_column, sort=False, dropna=True):
        if order_column is not None and order_column in group.columns:
            order = group[order_column]
            is_date = cols.classify_column(order).kind == "datetime"
            keys = cols.as_datetime(order) if is_date else cols.as_numeric(order)
            group = group.iloc[np.argsort(keys.to_numpy(), kind="stable")]
        yield key, group, cols.numeric_matrix(group, values)


def _cases(
    frame: pd.DataFrame, choice: LongLayout, values: list[str], file: str
) -> tuple[list[np.ndarray], list[Any], list[Skipped]]:
    """One (T, F) case per series id, ordered, with its label; series without one label are skipped."""
    cases, labels, skipped = [], [], []
    for key, group, case in _groups(frame, choice.id_column, choice.order_column, values):
        found = group[choice.label].dropna().unique()
        if len(found) != 1:
            why = "no label" if len(found) == 0 else f"{len(found)} different labels"
            skipped.append(Skipped(file, f"series {key!r}: {why} in {choice.label!r}"))
            continue
        cases.append(case)
        labels.append(found[0])
    return cases, labels, skipped


def _values(infos: dict[str, cols.ColumnInfo], choice: LongLayout) -> list[str]:
    return [
        c
        for c, i in infos.items()
        if i.kind == "numeric" and c not in (choice.label, choice.id_column, choice.order_column)
    ]


def profile(
    path: Path, frame: pd.DataFrame, infos: dict[str, cols.ColumnInfo], choice: LongLayout, files: dict[str, str]
) -> DatasetProfile:
    """Profile a long table as one labelled sequence per series id."""
    file = files["train"]
    values = _values(infos, choice)
    cases, labels, skipped = _cases(frame, choice, values, file)
    if not cases:
        raise DataError(f"no series in {choice.id_column!r} has a single label; check the label column", path=file)
    test_cases: list[np.ndarray] = []
    test_labels: list[Any] = []
    if "test" in files:
        test = cols.read_frame(Path(files["test"]))
        absent = [c for c in [choice.id_column, choice.label, *values] if c not in test.columns]
        if absent:
            raise DataError(f"the test file lacks columns {', '.join(absent[:6])}", path=files["test"])
        test_cases, test_labels, test_skipped = _cases(test, choice, values, files["test"])
        skipped += test_skipped
    cols.check_samples(len(cases), f"labelled series in {choice.id_column!r}", file)
    task, task_reason = cols.target_task(pd.Series(labels))
    classes: dict[str, int] = {}
    if task == "classification":
        _, _, (classes, *_) = cols.encode_labels(labels, test_labels)
        cols.check_classes(classes, f"label column {choice.label!r}", file)
    lengths = [len(c) for c in cases + test_cases]
    facts, structure = seq.describe_lengths(lengths, len(values), f"long table {Path(file).name} ({choice.reason})")
    facts.update(
        {
            "files": files,
            "id_column": choice.id_column,
            "order_column": choice.order_column,
            "label_column": choice.label,
            "columns": values,
            "target_reason": task_reason,
        }
    )
    dropped = [c for c in frame.columns if c not in (choice.label, choice.id_column, choice.order_column, *values)]
    notes = [f"columns not used (not numeric): {', '.join(dropped[:10])}"] if dropped else []
    return DatasetProfile(
        path=str(path),
        name=cols.dataset_name(path),
        modality="sequence",
        task=task,
        source="long-csv",
        n_samples=len(cases),
        classes=classes,
        split="files" if "test" in files else "holdout",
        n_test=len(test_cases) if "test" in files else None,
        target=choice.label,
        facts=facts,
        structure=structure,
        skipped=skipped,
        notes=notes,
    )


def load(profile: DatasetProfile) -> Bundle:
    """One NaN-padded (T, F) sequence per series id, with its label."""
    facts = profile.facts
    choice = LongLayout(facts["label_column"], facts["id_column"], facts["order_column"])
    sets = [_cases(cols.read_frame(Path(f)), choice, facts["columns"], f)[:2] for f in cols.file_list(facts["files"])]
    length = max(len(c) for cases, _ in sets for c in cases)
    xs = [
        seq.pad_sequences(cases, length) if cases else np.zeros((0, length, len(facts["columns"])), np.float32)
        for cases, _ in sets
    ]
    ys, names = cols.encode_targets(profile.task, *[labels for _, labels in sets])
    spec = dataclasses.replace(
        seq.sequence_spec(len(facts["columns"]), length, profile.structure.variable_length),
        columns=facts["columns"],
        id_column=facts["id_column"],
        order_column=facts["order_column"],
    )
    return cols.bundle_from_sets(xs, ys, names, spec)


def sequences_for_predict(file: str | Path, spec: InputSpec) -> list[tuple[str, np.ndarray]]:
    """Sequences in a table for prediction: one per series id (long format), else the whole table.

    Args:
        file: A CSV/Parquet file.
        spec: The model's input_spec ("columns", and "id_column"/"order_column" for long tables).
    """
    file = Path(file)
    frame = cols.read_frame(file)
    columns = cols.model_columns(frame, spec, file)
    id_column = spec.id_column
    if id_column in frame.columns:
        groups = _groups(frame, id_column, spec.order_column, columns)
        return [(f"{file}:{key}", case) for key, _, case in groups]
    return [(str(file), cols.numeric_matrix(frame, columns))]
