"""How trials train and how candidates are scored, sized to the data (pure; no Keras import).

With a few hundred validation samples or fewer, a validation score is noise: one sample moves accuracy by
more than the differences between good models. Early stopping on it stops trials before they learn (46 of 46
trials stopped at epoch 7 on a validation split of 8 series). The small-data regime follows the published
recipe for small series instead (Fawaz et al. 2019, dl-4-tsc): many epochs, the learning rate halved on a
plateau of the *training* loss, the weights of the lowest training loss kept; candidates are then scored by
stratified k-fold cross-validation on train + validation, refitted on all of it and exported as an ensemble.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

SMALL_VALIDATION = 300  # validation samples below which a single validation score is noise
SMALL_MAX_EPOCHS = 2000  # the published recipe trains 1,500-2,000 epochs; the trial's time cap binds first
LARGE_MAX_EPOCHS = 200
MIN_EPOCHS = 30  # small data: no trial ends on convergence before this many epochs
LARGE_MIN_EPOCHS = 10  # large data: no trial ends on validation patience before this many epochs
LARGE_PATIENCE = 10  # epochs without a better validation score, after MIN_EPOCHS, on a large validation split
SELECTION_SHARE = 0.45  # share of the search budget kept for cross-validation, refit and ensemble
MAX_FOLDS = 5
MIN_FOLDS = 3
ENSEMBLE_TOP = 3  # top trials averaged when there is no cross-validation (large data)
ENSEMBLE_REFITS = 3  # refits of the small-data winner averaged, seeds differing, when the budget pays for them


@dataclass(frozen=True)
class Regime:
    """How one dataset's trials train and how its candidates are selected.

    Attributes:
        small: The small-data regime (training-loss schedule, cross-validated selection).
        max_epochs: Upper bound on a trial's epochs (its time cap usually binds first).
        min_epochs: Epochs every trial trains before patience or convergence may stop it.
        patience: Large regime: epochs without a better validation score before a trial stops.
        cross_validate: Score the finalists by stratified k-fold cross-validation on train + validation.
        why: One line for the report.
    """

    small: bool
    max_epochs: int
    min_epochs: int
    patience: int
    cross_validate: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


def choose_regime(
    n_train: int, n_val: int, task: str, chronological: bool = False, max_epochs: int | None = None, kind: str = ""
) -> Regime:
    """The training and selection regime for a dataset.

    Args:
        n_train: Training samples.
        n_val: Validation samples.
        task: "classification", "regression" or "forecasting".
        chronological: The split is chronological (forecasting): folds would let the future leak into the past,
            so the finalists are not cross-validated.
        max_epochs: The user's bound on epochs per trial (`--max-epochs`), applied to either regime.
        kind: The input kind; video trials cost too much to train once per fold within minutes.

    Returns:
        The Regime.
    """
    regime = _choose(n_train, n_val, task, chronological, kind == "video")
    if max_epochs:
        regime = replace(regime, max_epochs=max_epochs, min_epochs=min(regime.min_epochs, max_epochs))
    return regime


def _early_stopping(reason: str) -> Regime:
    """The large-data regime: no cross-validation, early stopping with the large-data epochs and patience."""
    return Regime(False, LARGE_MAX_EPOCHS, LARGE_MIN_EPOCHS, LARGE_PATIENCE, False, reason)


def _choose(n_train: int, n_val: int, task: str, chronological: bool, costly: bool) -> Regime:
    small = n_val < SMALL_VALIDATION and not costly
    if costly and n_val < SMALL_VALIDATION:
        return _early_stopping(
            f"{n_val} validation clips, but a video trial affords only tens of epochs, not the hundreds "
            "the small-data recipe assumes: early stopping on the validation score after "
            f"{LARGE_MIN_EPOCHS} epochs (patience {LARGE_PATIENCE}), the best epoch kept; the best "
            f"{ENSEMBLE_TOP} trials of each family are combined by greedy ensemble selection when that "
            "helps on validation"
        )
    if not small:
        return _early_stopping(
            f"{n_val} validation samples: early stopping on the validation score after "
            f"{LARGE_MIN_EPOCHS} epochs (patience {LARGE_PATIENCE}); the best {ENSEMBLE_TOP} trials of each "
            "family are combined by greedy ensemble selection when that helps on validation"
        )
    cv = task != "forecasting" and not chronological and not costly
    if cv:
        how = (
            "finalists scored by stratified k-fold cross-validation on train + validation, refitted on all "
            "of it and exported as an ensemble"
        )
    else:
        why = "chronological split" if chronological or task == "forecasting" else "video trials are costly"
        how = (
            f"{why}: no cross-validation; the best {ENSEMBLE_TOP} trials of each family are combined when that "
            "helps on validation"
        )
    return Regime(
        True,
        SMALL_MAX_EPOCHS,
        MIN_EPOCHS,
        0,
        cv,
        f"only {n_val} validation samples (under {SMALL_VALIDATION}): trials train on the "
        "small-data recipe (learning rate halved on a training-loss plateau, lowest training loss "
        f"kept, at least {MIN_EPOCHS} epochs, stopped when converged or at the time cap); {how}",
    )


def plateau_patience(affordable_epochs: float) -> tuple[int, int]:
    """(learning-rate patience, convergence patience) scaled to the epochs a trial can afford.

    The published recipe uses 50 epochs of learning-rate patience over 1,500-2,000 epochs; a trial that can
    afford only a few hundred epochs gets proportionally shorter patience, never under 10 and 30 epochs (small
    batches make the training loss noisy: shorter patience stops trials before they learn).
    """
    lr = int(min(max(affordable_epochs / 10, 10), 50))
    return lr, int(min(max(3 * lr, 30), 150))
