"""Selection that is not noise: finalists scored by stratified k-fold cross-validation on train + validation,
the winner refitted on all of it, and the models averaged into one ensemble that still takes raw inputs."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from archpick import cached_fit
from archpick.regime import ENSEMBLE_REFITS, MAX_FOLDS, MIN_FOLDS
from archpick.schedule import TrainingLossSchedule

MakeDataset = Callable[[np.ndarray, np.ndarray, bool], Any]  # (x, y, training) -> batches


@dataclass
class Candidate:
    """A finalist: one family's best configuration from the search.

    Attributes:
        family: Family key.
        variant: Its concrete model.
        trial: Leaderboard id of the trial it came from.
        hypermodel: The family's HyperModel (builds the configuration afresh).
        hyperparameters: The trial's keras-tuner HyperParameters.
        epochs: Epochs the trial needed (refits train this many).
        seconds: Seconds the trial took.
    """

    family: str
    variant: str
    trial: str
    hypermodel: Any
    hyperparameters: Any
    epochs: int
    seconds: float


@dataclass
class CVScore:
    """A candidate's cross-validated score: one value per fold (accuracy, or validation loss)."""

    family: str
    variant: str
    trial: str
    metric: str
    folds: list[float]
    seconds: float
    stop_reasons: list[str] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return float(np.mean(self.folds))

    @property
    def std(self) -> float:
        return float(np.std(self.folds, ddof=1)) if len(self.folds) > 1 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form with mean and spread."""
        return {
            "family": self.family,
            "variant": self.variant,
            "trial": self.trial,
            "metric": self.metric,
            "folds": [round(v, 6) for v in self.folds],
            "mean": round(self.mean, 6),
            "std": round(self.std, 6),
            "seconds": round(self.seconds, 2),
            "stop_reasons": self.stop_reasons,
        }


def plan_folds(costs: list[float], budget: float) -> tuple[int, int]:
    """How many folds, and how many of the finalists (in order), the selection budget can pay for.

    A fold trains on (k-1)/k of the data, so k folds of a candidate cost about (k-1) full trainings, plus one
    refit of the winner. The largest k from MAX_FOLDS down to MIN_FOLDS that fits all finalists wins; else the
    first finalist alone; else (0, 0): no cross-validation.

    Args:
        costs: Estimated seconds of one training on all of train + validation, per finalist.
        budget: Seconds for the whole selection stage.
    """
    for n in (len(costs), 1):
        if n == 0:
            break
        for k in range(MAX_FOLDS, MIN_FOLDS - 1, -1):
            if sum((k - 1) * c for c in costs[:n]) + max(costs[:n]) <= budget:
                return k, n
    return 0, 0


def fold_indices(y: np.ndarray, k: int, seed: int, classification: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k folds (plain shuffled folds when a class has fewer than k samples, or for regression)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    y = np.asarray(y)
    if classification and y.ndim == 1 and np.unique(y, return_counts=True)[1].min() >= k:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return [(a, b) for a, b in splitter.split(np.zeros(len(y)), y)]
    splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    return [(a, b) for a, b in splitter.split(np.zeros(len(y)))]


def train_configuration(cand: Candidate, train, epochs: int, seconds: float, seed: int) -> tuple[keras.Model, str]:
    """Train the candidate's configuration afresh for `epochs` epochs (or until `seconds` run out).

    The learning rate is halved on training-loss plateaus and the lowest-training-loss weights are kept, as in
    the search; convergence does not stop a refit early, because the epoch count is the trial's.

    Returns:
        The model and why it stopped ("epochs", "budget", or "solved" for a closed-form head).
    """
    from archpick.search import trial_recorder

    keras.utils.set_random_seed(seed)
    model = cand.hypermodel.build(cand.hyperparameters)
    now = time.monotonic()
    recorder = trial_recorder(stop_at=now + seconds, hard_stop_at=now + 2 * seconds + 10)
    schedule = TrainingLossSchedule(min_epochs=epochs + 1, trial_seconds=seconds, max_epochs=max(epochs, 1))
    cand.hypermodel.fit(
        cand.hyperparameters, model, train, epochs=max(epochs, 1), callbacks=[schedule, recorder], verbose=0
    )
    return model, "solved" if recorder.solved else "budget" if recorder.stopped_by_budget else "epochs"


def _score(model: keras.Model, data, metric: str) -> float:
    scores = model.evaluate(data, verbose=0, return_dict=True)
    return float(scores["accuracy"] if metric == "accuracy" else scores["loss"])


@dataclass
class Selection:
    """The selection stage's outcome.

    Attributes:
        folds: k (0 when nothing was cross-validated).
        scores: One CVScore per cross-validated finalist, in finalist order.
        members: Models averaged by `average_models`: the winner's refits with different seeds, or, with no time
            for a second refit, its fold models and its refit.
        ensemble_of: What `members` are, in words.
        refit: The winner refitted on all of train + validation.
        notes: What was skipped and why.
        seconds: Seconds spent.
        fold_indices: The folds, as (train, held-out) index arrays into train + validation.
        winner: The family `choose` picked from the scores.
    """

    folds: int = 0
    scores: list[CVScore] = field(default_factory=list)
    members: list[keras.Model] = field(default_factory=list)
    ensemble_of: str = ""
    refit: keras.Model | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    fold_indices: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    winner: str = ""


def cross_validate(
    candidates: list[Candidate],
    x: np.ndarray,
    y: np.ndarray,
    make: MakeDataset,
    *,
    budget: float,
    seed: int,
    classification: bool,
    n_train: int,
    choose: Callable[[list[CVScore]], str],
) -> Selection:
    """Score finalists by k-fold cross-validation on train + validation, then refit the chosen one.

    Args:
        candidates: Finalists in order of preference (the first is kept when only one can be afforded).
        x: Train + validation inputs.
        y: Train + validation targets.
        make: Builds batches from (x, y, training).
        budget: Seconds for the whole stage (folds and refit).
        seed: Seed for the folds and the initialisations.
        classification: Stratify the folds and score accuracy (else validation loss).
        n_train: Samples the search trained on (scales the cost estimate of a trial).
        choose: Picks the winning family from the CV scores (the race's rule).

    Returns:
        The Selection; `folds` is 0 when the budget could not pay for MIN_FOLDS folds.
    """
    started = time.monotonic()
    scale = len(x) / max(n_train, 1)
    costs = [max(c.seconds, 1.0) * scale for c in candidates]
    k, n = plan_folds(costs, budget)
    out = Selection()
    if k == 0:
        out.notes.append(
            f"no cross-validation: {MIN_FOLDS} folds of the best trial would take about "
            f"{(MIN_FOLDS - 1) * costs[0] + costs[0]:.0f}s, the budget left {budget:.0f}s; "
            "give more --time"
        )
        return out
    if n < len(candidates):
        out.notes.append(
            f"only the {candidates[0].variant} was cross-validated: the budget left "
            f"({budget:.0f}s) could not pay for folds of every finalist"
        )
    finalists = candidates[:n]
    metric = "accuracy" if classification else "loss"
    folds = fold_indices(y, k, seed, classification)
    out.fold_indices = folds
    models: dict[str, list[keras.Model]] = {}
    deadline = started + budget - max(costs[:n])  # keep the refit's time
    for i, cand in enumerate(finalists):
        values, reasons, cand_started = [], [], time.monotonic()
        for j, (tr, va) in enumerate(folds):
            trainings_left = (k - j) + (n - i - 1) * k
            seconds = max(min(costs[i] * 2, (deadline - time.monotonic()) / trainings_left), 1.0)
            model, why = train_configuration(cand, make(x[tr], y[tr], True), cand.epochs, seconds, seed + 101 * j)
            values.append(_score(model, make(x[va], y[va], False), metric))
            reasons.append(why)
            models.setdefault(cand.family, []).append(model)
        out.scores.append(
            CVScore(cand.family, cand.variant, cand.trial, metric, values, time.monotonic() - cand_started, reasons)
        )
    out.folds = k
    winner = out.winner = choose(out.scores)
    cand = next(c for c in finalists if c.family == winner)
    left = started + budget - time.monotonic()
    refit_started = time.monotonic()
    out.refit, _ = train_configuration(cand, make(x, y, True), cand.epochs, max(left, costs[0]), seed)
    most = 1 if cand.hypermodel.solved(cand.hyperparameters) else ENSEMBLE_REFITS  # seeds change nothing
    refits = _more_refits(
        cand, make(x, y, True), out.refit, time.monotonic() - refit_started, started + budget, most, seed
    )
    if len(refits) > 1:
        out.members, out.ensemble_of = refits, f"{len(refits)} refits on train + validation (seeds differ)"
    else:
        out.members, out.ensemble_of = models[winner] + [out.refit], f"the {k} fold models and the refit"
    for family, kept in models.items():
        if family != winner:
            kept.clear()
    gc.collect()
    out.seconds = time.monotonic() - started
    return out


def _more_refits(
    cand: Candidate, data, first: keras.Model, seconds: float, deadline: float, most: int, seed: int
) -> list[keras.Model]:
    """The first refit and more of it with other seeds while the budget pays for one more each time, up to
    `most` (ENSEMBLE_REFITS: three networks take most of an ensemble's gain; InceptionTime averages five).

    Refits on all of train + validation make a better ensemble than fold models trained on (k-1)/k of it
    (InceptionTime averages five such networks); with time for no second refit, the fold models are used.
    """
    refits = [first]
    while len(refits) < most and deadline - time.monotonic() > 1.5 * seconds + 1.0:
        model, _ = train_configuration(cand, data, cand.epochs, 2 * seconds + 1.0, seed + 7919 * len(refits))
        refits.append(model)
    return refits


def greedy_ensemble(preds: list[np.ndarray], y: np.ndarray, classification: bool, max_members: int = 7) -> list[int]:
    """Ensemble selection (Caruana et al. 2004): from the best single model, add with replacement the model that
    most lowers the validation loss of the average (log loss, or squared error), while it improves.

    Args:
        preds: Validation predictions of each candidate (probabilities, or values).
        y: Validation targets.
        classification: Log loss over class probabilities (else mean squared error).
        max_members: Most models averaged (repeats count).

    Returns:
        Indices into `preds`, repeats allowed (a model picked twice weighs twice).
    """
    y = np.asarray(y)

    def loss(p: np.ndarray) -> float:
        if classification:
            return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y.astype(int)], 1e-7, 1.0))))
        return float(np.mean((p.reshape(len(y), -1) - y.reshape(len(y), -1)) ** 2))

    chosen = [int(np.argmin([loss(p) for p in preds]))]
    total, best = preds[chosen[0]].astype(np.float64), loss(preds[chosen[0]])
    while len(chosen) < max_members:
        trials = [loss((total + p) / (len(chosen) + 1)) for p in preds]
        i = int(np.argmin(trials))
        if trials[i] >= best - 1e-6:
            break
        chosen.append(i)
        total, best = total + preds[i], trials[i]
    return chosen


def average_models(models: list[keras.Model], name: str = "ensemble") -> keras.Model:
    """One model whose output is the mean of the members' outputs, on the same raw inputs.

    A model listed twice weighs twice (its output is computed once). The members are renamed (member_0, ...)
    so that the nested models' names are unique; the output keeps the members' output name (probabilities or
    prediction).
    """
    if len({id(m) for m in models}) == 1:
        return models[0]
    first = models[0]
    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=t.name.split(":")[0]) for t in first.inputs]
    feed = inputs[0] if len(inputs) == 1 else inputs
    outs: dict[int, Any] = {}
    parts = _shared_front(models)
    if parts is not None:  # one fixed front (MiniRocket's transform) computed once, every member's head on it
        extractor, heads = parts
        features = extractor(feed)
        for m, head in zip(models, heads):
            if id(m) not in outs:
                head.name = f"member_{len(outs)}"
                outs[id(m)] = head(features)
    for m in models:
        if id(m) not in outs:
            m.name = f"member_{len(outs)}"
            outs[id(m)] = m(feed)
    out_name = first.output.name.split("/")[0].split(":")[0] if hasattr(first.output, "name") else "output"
    outputs = keras.layers.Average(name=out_name if out_name in ("probabilities", "prediction") else "average")(
        [outs[id(m)] for m in models]
    )
    ensemble = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)
    if getattr(first, "loss", None) is not None:  # evaluate() scores it as its members were scored
        ensemble.compile(loss=first.loss, metrics=["accuracy"] if out_name == "probabilities" else ["mae"])
    return ensemble


def _shared_front(models: list[keras.Model]) -> tuple[keras.Model, list[keras.Model]] | None:
    """(the first member's fixed front, each member's head) when every member has the same fixed front (the
    same untrained transform and weights: the fold models and refits of one MiniRocket configuration), else
    None. An ensemble of six MiniRocket models then computes the transform once, not six times."""
    parts = [cached_fit.split_fixed(m) for m in models]
    if any(p is None for p in parts):
        return None
    reference = [np.asarray(w) for w in parts[0][0].get_weights()]
    for extractor, _ in parts[1:]:
        weights = extractor.get_weights()
        if len(weights) != len(reference) or not all(
            np.array_equal(a, np.asarray(b)) for a, b in zip(reference, weights)
        ):
            return None
    return parts[0][0], [head for _, head in parts]


def paired_noise_margin(a: list[float], b: list[float], floor: float) -> float:
    """The standard error of the mean paired difference between two fold-score lists, at least `floor` (one
    sample's worth of accuracy, or 1 % of a loss): gaps within it are noise."""
    if len(a) != len(b) or len(a) < 2:
        return floor
    diff = np.asarray(a) - np.asarray(b)
    return max(float(np.std(diff, ddof=1) / math.sqrt(len(diff))), floor)


def trial_cap_for(budget: float, n_families: int, n_all: int, n_train: int) -> Callable[[float], float]:
    """Per-trial time caps that leave the selection stage able to pay for MIN_FOLDS folds of every finalist.

    Args:
        budget: Seconds of the selection stage.
        n_families: Families in the race (one finalist each).
        n_all: Train + validation samples (folds and refit train on these).
        n_train: Samples a trial trains on.

    Returns:
        leg budget -> seconds one trial of that leg may run.
    """
    from archpick.search import MIN_TRIAL_SECONDS, TRIAL_SHARE

    affordable = budget / ((MIN_FOLDS - 1) * n_families + 1) / max(n_all / max(n_train, 1), 1.0)
    # Never under MIN_TRIAL_SECONDS: on a short budget a useful search matters more than affordable folds (the
    # selection then cross-validates fewer finalists, or none, and says so).
    return lambda leg: min(max(leg * TRIAL_SHARE, MIN_TRIAL_SECONDS), max(affordable, MIN_TRIAL_SECONDS))
