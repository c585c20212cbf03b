"""Class imbalance: how skewed the training labels are, and the loss weights that even it out.

Imbalanced data (the largest class IMBALANCE_RATIO or more times the smallest) trains with "balanced" class
weights (n / (k * count), scikit-learn's convention), so that a rare class is not simply ignored, and the
report leads with balanced accuracy, which a majority-class guess cannot inflate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMBALANCE_RATIO = 3.0


@dataclass
class Imbalance:
    """The training labels' balance.

    Attributes:
        ratio: Largest class count over smallest (classes with no training sample left out).
        class_weight: Keras `class_weight` ({class: weight}) when imbalanced, else None.
    """

    ratio: float
    class_weight: dict[int, float] | None

    @property
    def imbalanced(self) -> bool:
        """Whether the data is imbalanced enough to weight the loss."""
        return self.class_weight is not None

    def to_dict(self) -> dict[str, object]:
        return {"ratio": round(self.ratio, 2), "class_weight": self.class_weight}


def measure(y_train: np.ndarray, n_classes: int) -> Imbalance:
    """The imbalance of integer labels 0..n_classes-1 (an even 1.0 for anything else)."""
    y = np.asarray(y_train)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or n_classes < 2 or len(y) == 0:
        return Imbalance(1.0, None)
    counts = np.bincount(y, minlength=n_classes).astype(float)
    present = counts[counts > 0]
    ratio = float(present.max() / present.min())
    if ratio < IMBALANCE_RATIO:
        return Imbalance(ratio, None)
    weights = {int(c): round(float(len(y) / (len(present) * counts[c])), 4) for c in np.flatnonzero(counts)}
    return Imbalance(ratio, weights)
