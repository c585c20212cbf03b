"""Numeric sequences shared by every source that yields them (.ts, arrays, long-format tables): trimming the
padding, padding to one length, ragged splitting, the length facts and the input spec."""

from __future__ import annotations

from typing import Any

import numpy as np

from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError
from archpick.profile import Structure


def effective_length(case: np.ndarray) -> int:
    """Steps up to the last one with any finite value (trailing all-NaN steps are padding)."""
    finite = np.isfinite(case).any(axis=1) if case.ndim == 2 else np.isfinite(case)
    idx = np.flatnonzero(finite)
    return int(idx[-1]) + 1 if len(idx) else 0


def pad_sequences(cases: list[np.ndarray], length: int | None = None) -> np.ndarray:
    """Stack (T_i, C) cases into one float32 (N, T, C) array, NaN after each case's end.

    Args:
        cases: The cases, each (T_i, C).
        length: Padded length; the longest case when None (longer cases are cut).
    """
    channels = cases[0].shape[1] if cases else 1
    length = max((len(c) for c in cases), default=0) if length is None else length
    out = np.full((len(cases), length, channels), np.nan, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # values beyond float32 range become inf
        for i, case in enumerate(cases):
            n = min(len(case), length)
            out[i, :n] = case[:n]
    return out


def describe_lengths(lengths: list[int] | np.ndarray, channels: int, what: str) -> tuple[dict[str, Any], Structure]:
    """Length facts and the temporal/variable-length flags for a set of sequences.

    Args:
        lengths: Steps per sequence (padding excluded).
        channels: Values per step.
        what: Where the sequences came from, for the evidence ("JapaneseVowels .ts files").

    Returns:
        (facts with lengths and channels, Structure with evidence).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    lo, med, hi = int(lengths.min()), float(np.median(lengths)), int(lengths.max())
    facts = {"channels": int(channels), "lengths": {"min": lo, "median": med, "max": hi}, "max_length": hi}
    structure = Structure(temporal=True)
    structure.evidence["temporal"] = f"ordered steps of {channels} value(s) each in {what}"
    if lo != hi:
        structure.variable_length = True
        structure.evidence["variable_length"] = f"lengths {lo}-{hi} (median {med:g}) across {len(lengths)} series"
    else:
        structure.evidence["variable_length"] = f"every series has {hi} steps"
    return facts, structure


def sequence_spec(channels: int, max_length: int, variable: bool) -> InputSpec:
    """The InputSpec for NaN-padded sequences."""
    return InputSpec("sequence", (None if variable else max_length, channels), "float32", max_length=max_length)


def split_ragged(x: np.ndarray, lengths: np.ndarray, file: str) -> list[np.ndarray]:
    """Split X (total_steps, F) into cases by `lengths`."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths < 0).any():
        raise DataError(
            f"lengths must be non-negative whole numbers, shape (N,); got {lengths.dtype} {tuple(lengths.shape)}",
            path=file,
        )
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2:
        raise DataError(f"with lengths, X must be (total_steps, features); got {tuple(x.shape)}", path=file)
    if int(lengths.sum()) != len(x):
        raise DataError(f"lengths add up to {int(lengths.sum())} but X has {len(x)} steps; make them agree", path=file)
    bounds = np.cumsum(lengths)[:-1]
    return [c.astype(np.float64) for c in np.split(x, bounds)]
