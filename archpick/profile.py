"""DatasetProfile: plain, JSON-able facts about a dataset, read from headers or a sample."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MODALITIES = ("image", "video", "text", "sequence", "timeseries", "table", "collection")
TASKS = ("classification", "regression", "forecasting")


@dataclass
class Structure:
    """The structural facts the flowchart reads. Detectors fill these in.

    Attributes:
        spatial: Samples are grids (images, frames) whose neighbouring cells are related.
        temporal: Samples are ordered along a time or position axis.
        variable_length: Ordered samples differ in length (needs masking).
        text: Samples are free text (tokens).
        long_documents: Text whose median length is long enough for local n-grams to matter.
        tabular: Samples are rows of unordered features.
        evidence: Detector-written evidence per flag, shown in the flowchart path.
    """

    spatial: bool = False
    temporal: bool = False
    variable_length: bool = False
    text: bool = False
    long_documents: bool = False
    tabular: bool = False
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass
class Skipped:
    """A file (or row range) that could not be used, and why."""

    file: str
    reason: str


COLUMN_ROLES = ("target", "numeric", "categorical", "text", "date", "id", "constant", "empty")
"""How a table's column can be taken: the target, a kind of feature, or a reason to leave it out."""


@dataclass
class ColumnUse:
    """How one column of a table is used, or why it is not.

    Attributes:
        name: The column name as in the file.
        role: One of COLUMN_ROLES.
        used: Whether the model reads it (the target counts as read).
        reason: Why, in words ("numeric values", "an ID: a distinct token in every row").
    """

    name: str
    role: str
    used: bool
    reason: str


@dataclass
class DatasetProfile:
    """What a dataset is, as plain facts.

    Attributes:
        path: The dataset path as given.
        name: A short name (folder or file stem), used for run directories.
        modality: One of MODALITIES.
        task: One of TASKS.
        source: The detector that read it (e.g. "image-folder", "npz", "ts-files").
        n_samples: Usable samples (windows for forecasting).
        classes: Class name -> sample count (classification only).
        split: How the test split is obtained ("folders", "files", or "holdout").
        n_test: Samples in a shipped test split, if any.
        target: Target column, for tables and series.
        facts: Modality-specific facts (sizes, lengths, vocabulary, seasonality...).
        structure: Flags read by the flowchart.
        skipped: Files that could not be used.
        notes: Things done to the data that a user should know (sorted, imputed...).
        members: For a collection, the profiles of its datasets.
        column_uses: For a table file (CSV/Parquet), every column with how it is used or why it is not.
    """

    path: str
    name: str
    modality: str
    task: str = "classification"
    source: str = ""
    n_samples: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    split: str = "holdout"
    n_test: int | None = None
    target: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    structure: Structure = field(default_factory=Structure)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    members: list[DatasetProfile] = field(default_factory=list)
    column_uses: list[ColumnUse] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression and forecasting)."""
        return len(self.classes)

    @property
    def imbalance(self) -> float | None:
        """Largest over smallest class count, or None without classes."""
        if not self.classes:
            return None
        counts = list(self.classes.values())
        return round(max(counts) / max(min(counts), 1), 3)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field plus derived counts."""
        out = dataclasses.asdict(self)
        out["n_classes"] = self.n_classes
        out["imbalance"] = self.imbalance
        out["n_skipped"] = len(self.skipped)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetProfile:
        """Rebuild a profile from `to_dict` output (derived keys are ignored)."""
        data = dict(data)
        for key in ("n_classes", "imbalance", "n_skipped"):
            data.pop(key, None)
        data["structure"] = Structure(**data.get("structure", {}))
        data["skipped"] = [Skipped(**s) for s in data.get("skipped", [])]
        data["members"] = [cls.from_dict(m) for m in data.get("members", [])]
        data["column_uses"] = [ColumnUse(**c) for c in data.get("column_uses", [])]
        return cls(**data)
