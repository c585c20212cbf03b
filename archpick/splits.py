"""Train/validation/test splits: stratified and shuffled, or chronological for forecasting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Split:
    """Index arrays into a Bundle's x/y (test indices are None when a test split was shipped)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray | None
    how: str


def _stratify(y: np.ndarray) -> np.ndarray | None:
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return None
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


def _two_way(idx: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    strat = _stratify(y[idx])
    n_hold = max(int(round(len(idx) * fraction)), 1)
    if strat is not None:
        n_hold = max(n_hold, len(np.unique(strat)))
    if strat is not None and len(idx) - n_hold < len(np.unique(strat)):
        strat = None
    keep, hold = train_test_split(idx, test_size=n_hold, random_state=seed, shuffle=True, stratify=strat)
    return np.sort(keep), np.sort(hold)


def split_indices(y: np.ndarray, how: str, seed: int, has_test: bool, test_fraction: float = 0.2,
                  val_fraction: float = 0.15, gap: int = 0) -> Split:
    """Split sample indices for training, validation and (unless shipped) test.

    Args:
        y: Targets, used for stratification (integer class labels) and counts.
        how: "stratified" (shuffled, stratified when every class has two samples) or "chronological".
        seed: Random seed for the shuffles.
        has_test: A test split was shipped with the data; only train/validation are cut here.
        test_fraction: Share of samples held out for the final test.
        val_fraction: Share of the remaining samples used for validation (early stopping, selection).
        gap: Chronological only: samples dropped at each boundary so that overlapping windows never let
            a training target reach into the validation or test period.

    Returns:
        A Split.
    """
    n = len(y)
    idx = np.arange(n)
    if how == "chronological":
        n_test = 0 if has_test else max(int(round(n * test_fraction)), 1)
        n_val = max(int(round((n - n_test) * val_fraction)), 1)
        test = idx[n - n_test:] if n_test else None
        val_end = n - n_test - (gap if n_test else 0)
        val = idx[val_end - n_val:val_end]
        train = idx[: max(val_end - n_val - gap, 1)]
        return Split(train, val, test, f"chronological (last {n_test} windows test, {n_val} validation, gap {gap})")
    test = None
    if not has_test:
        idx, test = _two_way(idx, y, test_fraction, seed)
    train, val = _two_way(idx, y, val_fraction, seed + 1)
    strat = "stratified, shuffled" if _stratify(y) is not None else "shuffled"
    return Split(train, val, test, f"{strat} (seed {seed})")
