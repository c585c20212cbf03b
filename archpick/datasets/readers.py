"""Readers of new inputs for `archpick predict`: feature rows and sequences, from whichever file holds them.

They read every source's formats (.ts, .npz/.npy, CSV/Parquet), so they live above the sources and the
sources never import each other for prediction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from archpick.datasets import columns as cols
from archpick.datasets.arrays import read_inputs
from archpick.datasets.encodings import raw_rows
from archpick.datasets.inputspec import InputSpec
from archpick.datasets.longtable import sequences_for_predict
from archpick.datasets.sequences import effective_length, pad_sequences, split_ragged
from archpick.datasets.tsfile import parse_ts
from archpick.errors import DataError


def rows_for_predict(file: str | Path, spec: InputSpec) -> list[tuple[str, np.ndarray]]:
    """Feature rows to predict on, from a CSV/Parquet with the training columns or an .npz/.npy X.

    A model with string columns (InputSpec.takes_strings) takes the raw rows as strings, read from a table
    with the training reader (`encodings.raw_rows`: the same decoding, decimal commas and date format).

    Returns:
        [("file:row", row)] with 1-based data rows; a row is float32 (F,), or an object array of F strings.

    Raises:
        DataError: A column is missing, the width differs, or an array file is given to a string model.
    """
    file = Path(file)
    width = int(spec.shape[0])
    if spec.takes_strings:
        if file.suffix.lower() not in cols.TABLE_SUFFIXES:
            raise DataError(
                f"this model reads a table's columns ({', '.join((spec.columns or ())[:6])}); give a "
                "CSV/Parquet file with them",
                path=file,
            )
        frame = cols.read_frame(file)
        cols.model_columns(frame, spec, file)
        rows = raw_rows(frame, spec.column_encodings())
        return [(f"{file}:{i + 1}", row) for i, row in enumerate(rows)]
    if file.suffix.lower() in (".npz", ".npy"):
        x, _ = read_inputs(file)
        x = np.asarray(x, dtype=np.float32).reshape(len(x), -1) if x.ndim > 1 else x.astype(np.float32)[None]
    else:
        frame = cols.read_frame(file)
        x = cols.numeric_matrix(frame, cols.model_columns(frame, spec, file), np.float32)
    if x.shape[1] != width:
        raise DataError(f"{x.shape[1]} features per row, the model takes {width}", path=file)
    return [(f"{file}:{i + 1}", row) for i, row in enumerate(x)]


def read_sequences_for_predict(file: str | Path, spec: InputSpec) -> list[tuple[str, np.ndarray]]:
    """Sequences to predict on, NaN-padded to the model's length.

    Args:
        file: A `.ts` file (labels optional), an `.npz`/`.npy` with X (N, T, F), (T, F) or ragged X +
            lengths, or a CSV/Parquet (long format with the training id column, else one sequence).
        spec: The model's input_spec ("shape", "max_length").

    Returns:
        [(name, float32 (max_length, F))].

    Raises:
        DataError: Wrong number of channels, or a length a fixed-length model cannot take.
    """
    file = Path(file)
    suffix = file.suffix.lower()
    if suffix == ".ts":
        data = parse_ts(file)
        cases = [(f"{file}:{line}", c[: effective_length(c)]) for c, line in zip(data.series, data.lines, strict=True)]
    elif suffix in (".npz", ".npy"):
        x, lengths = read_inputs(file)
        if lengths is not None:
            raw = split_ragged(x, lengths, str(file))
        else:
            raw = list(x.astype(np.float64)) if x.ndim == 3 else [x.reshape(len(x), -1).astype(np.float64)]
        cases = [(f"{file}[{i}]", c[: effective_length(c)]) for i, c in enumerate(raw)]
    elif suffix in cols.TABLE_SUFFIXES:
        cases = sequences_for_predict(file, spec)
    else:
        raise DataError("give a .ts, .npz/.npy or CSV/Parquet file of sequences", path=file)
    channels, length = int(spec.shape[-1]), int(spec.max_length)
    fixed = spec.shape[0] is not None
    out = []
    for name, case in cases:
        if case.shape[1] != channels:
            raise DataError(f"{case.shape[1]} values per step, the model takes {channels}", path=name)
        if fixed and len(case) != length:
            raise DataError(f"{len(case)} steps, the model takes exactly {length}", path=name)
        out.append((name, pad_sequences([case], length)[0]))
    return out
