"""What a model takes: the `InputSpec` a source's `load` writes into its Bundle and `archpick.json` keeps.

One frozen dataclass for every kind (image, video, text, sequence, window, table); the fields a kind does not
use stay None. `to_json` is the form archpick.json holds; `from_json` reads it back (and the specs of runs made
before this class, which also carried keys nobody read: "pad", "doc_length_p95", "value_range").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

_LEGACY_KEYS = frozenset({"pad", "doc_length_p95", "value_range"})
"""Keys older runs wrote and nothing read: accepted and dropped."""


@dataclass
class ColumnEncoding:
    """How one used feature column of a table enters the model (archpick/datasets/encodings.py chooses it).

    Attributes:
        name: The column, as in the file.
        how: "numeric" (imputed, standardised), "codes" (numeric, and one-hot of its whole-number values),
            "one_hot", "embedding" (string categories), "text" (bag of words) or "date" (calendar features).
        n_values: Distinct values in the profiled file (categories and codes).
    """

    name: str
    how: str
    n_values: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as an input_spec's "encodings" holds it."""
        return asdict(self)


def parse_encodings(given: list[dict[str, Any]]) -> list[ColumnEncoding]:
    """ColumnEncodings from their JSON form (`ColumnEncoding.to_dict`)."""
    return [ColumnEncoding(str(e["name"]), str(e["how"]), int(e.get("n_values", 0))) for e in given]


@dataclass(frozen=True)
class InputSpec:
    """The raw input a model takes, and what its HyperModel, pipeline and predict need to know about it.

    Attributes:
        kind: "image", "video", "text", "sequence", "window" (forecasting windows) or "table" (archpick/kinds.py).
        shape: One sample's shape; None for a variable first axis (NaN-padded sequences); () for a string.
        dtype: "uint8", "float32" or "string".
        channels: Image channels (1 or 3).
        frames: Frames per video clip.
        size: A video frame's side, in pixels.
        max_length: The longest sequence (steps), where sequences are padded to it.
        vocabulary_size: Distinct training words (text).
        text_column: The column text was read from, for text in a table.
        columns: The columns a table or series model takes, in model order.
        encodings: How each table column enters the model (None: every column numeric).
        row: For a table of strings, what one input row is, in words (the serving contract).
        id_column: A long-format table's sequence id column.
        order_column: A long-format table's step-order column.
        lookback: Forecasting: steps in one window.
        horizon: Forecasting: steps forecast.
        season: Forecasting: the season's length in steps, if one was found.
        target: Forecasting: the target column.
        target_index: Forecasting: the target's index in `columns`.
    """

    kind: str
    shape: tuple[int | None, ...]
    dtype: str
    channels: int | None = None
    frames: int | None = None
    size: int | None = None
    max_length: int | None = None
    vocabulary_size: int | None = None
    text_column: str | None = None
    columns: tuple[str, ...] | None = None
    encodings: tuple[ColumnEncoding, ...] | None = None
    row: str | None = None
    id_column: str | None = None
    order_column: str | None = None
    lookback: int | None = None
    horizon: int | None = None
    season: int | None = None
    target: str | None = None
    target_index: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in self.shape))
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        if self.encodings is not None:
            object.__setattr__(self, "encodings", tuple(self.encodings))

    @property
    def variable_length(self) -> bool:
        """True for NaN-padded sequences of varying length (the first axis of `shape` is None)."""
        return bool(self.shape) and self.shape[0] is None

    @property
    def takes_strings(self) -> bool:
        """True when the model takes strings: text, or a table's "row" input (archpick/datasets/encodings.py)."""
        return self.dtype == "string"

    def column_encodings(self) -> list[ColumnEncoding]:
        """How each column enters the model, one per column (all numeric when the spec names no encodings)."""
        if self.encodings:
            return list(self.encodings)
        columns = self.columns if self.columns is not None else [f"x{i}" for i in range(int(self.shape[0] or 0))]
        return [ColumnEncoding(c, "numeric") for c in columns]

    def to_json(self) -> dict[str, Any]:
        """The JSON form archpick.json holds: every field that is set (None fields left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "encodings":
                value = [e.to_dict() for e in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InputSpec:
        """An InputSpec from its JSON form.

        Raises:
            ValueError: Not an object with a string "kind", a list "shape" and a string "dtype", or a key no
                archpick version wrote.
        """
        if not isinstance(data, dict):
            raise ValueError(f"input_spec is a JSON {type(data).__name__}, not an object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - _LEGACY_KEYS
        if unknown:
            raise ValueError(f"input_spec has unknown keys: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("kind"), str) or not isinstance(data.get("shape"), list):
            raise ValueError("input_spec needs a string kind and a list shape")
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("dtype", "float32")
        if values.get("encodings") is not None:
            values["encodings"] = tuple(parse_encodings(values["encodings"]))
        return cls(**values)
