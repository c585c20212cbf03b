"""Train/validation/test splits: stratified and shuffled, or chronological for forecasting."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Split:
    """Index arrays into a Bundle's x/y (test indices are None when a test split was shipped).

    Attributes:
        notes: Classes too small to reach every split, each said plainly (e.g. "class 'b' has 2 samples: ...").
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray | None
    how: str
    notes: list[str] = field(default_factory=list)


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
    if strat is not None:
        keep, hold = _every_class_held(keep, hold, y, np.random.default_rng(seed))
    return np.sort(keep), np.sort(hold)


def _every_class_held(
    keep: np.ndarray, hold: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Move one sample of each class that has two or more kept samples but none held into the held part.

    Stratified rounding gives a class of 2 in 600 no held sample at all (0.4 rounds to 0); then its test
    accuracy is never measured. The held part grows by one sample per such class.
    """
    held = set(np.unique(y[hold]).tolist())
    moved = []
    for label in np.unique(y[keep]):
        members = keep[y[keep] == label]
        if int(label) not in held and len(members) >= 2:
            moved.append(int(rng.choice(members)))
    if not moved:
        return keep, hold
    return np.setdiff1d(keep, moved), np.concatenate([hold, np.asarray(moved, dtype=hold.dtype)])


def class_notes(
    y: np.ndarray, split: Split, class_names: list[str] | None = None, y_test: np.ndarray | None = None
) -> list[str]:
    """A plain sentence for each class that is missing from the validation or the test split.

    Args:
        y: Labels the split indexes.
        split: The split.
        class_names: Names for the labels.
        y_test: Labels of a shipped test split (when split.test is None).
    """
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return []
    notes = []
    for label in np.unique(y):
        name = class_names[int(label)] if class_names and int(label) < len(class_names) else str(label)
        counts = {
            part: int(np.sum(y[idx] == label))
            for part, idx in [("training", split.train), ("validation", split.val), ("test", split.test)]
            if idx is not None
        }
        if y_test is not None:
            counts["test"] = int(np.sum(np.asarray(y_test) == label))
        missing = [part for part, n in counts.items() if n == 0]
        if missing:
            where = ", ".join(f"{n} {part}" for part, n in counts.items())
            notes.append(
                f"class '{name}' has {sum(counts.values())} samples ({where}): none in the "
                f"{' and '.join(missing)} split, so its scores there are not measured"
            )
    return notes


def split_indices(
    y: np.ndarray,
    how: str,
    seed: int,
    has_test: bool,
    test_fraction: float = 0.2,
    val_fraction: float = 0.15,
    gap: int = 0,
) -> Split:
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
        test = idx[n - n_test :] if n_test else None
        val_end = n - n_test - (gap if n_test else 0)
        val = idx[val_end - n_val : val_end]
        train = idx[: max(val_end - n_val - gap, 1)]
        return Split(train, val, test, f"chronological (last {n_test} windows test, {n_val} validation, gap {gap})")
    test = None
    if not has_test:
        idx, test = _two_way(idx, y, test_fraction, seed)
    train, val = _two_way(idx, y, val_fraction, seed + 1)
    strat = "stratified, shuffled" if _stratify(y) is not None else "shuffled"
    return Split(train, val, test, f"{strat} (seed {seed})")
