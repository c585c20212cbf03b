"""From the race's results to the model to export: cross-validated finalists (small data) or the top trials,
the verdict, and the check against the best baseline on the same validation data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from archpick import baselines
from archpick.flowchart import Recommendation
from archpick.race import cv_verdict, pick_winner
from archpick.regime import ENSEMBLE_TOP
from archpick.selection import (
    Candidate,
    CVScore,
    average_models,
    cross_validate,
    greedy_ensemble,
    paired_noise_margin,
    train_configuration,
)


@dataclass
class Choice:
    """The model to export and how it was chosen.

    Attributes:
        family: The winning family.
        variant: Its concrete model.
        trial: The trial its configuration came from.
        model: The model to export (an ensemble or a single trained model).
        single: The single model it is compared with on the test split (None when `model` is single).
        how: What `model` is, in words.
        members: Models averaged in `model` (1 for a single model).
        verdict: The report's first line.
        selection: JSON-able facts: folds, cross-validated scores, margin, validation baseline check.
        notes: What was skipped and why.
    """

    family: str
    variant: str
    trial: str
    model: keras.Model
    single: keras.Model | None
    how: str
    members: int
    verdict: str
    selection: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def finalists(results: list[Any], direction: str, first: str) -> list[Candidate]:
    """Each family's best completed trial (ties broken by the lower validation loss), best search score first
    (`first`'s family first on a tie): when the folds of only one finalist are affordable, they go to the
    family that did best, not to the flowchart's pick by default."""
    sign = -1 if direction == "max" else 1
    ranked = []
    for r in results:
        rows = [row for row in r.rows if row["score"] is not None and row["status"] == "COMPLETED"]
        if not rows:
            continue
        row = min(rows, key=lambda w: (sign * w["score"], w.get("val_loss") or 0.0))
        trial_id = row["trial"].split("-", 1)[1]
        cand = Candidate(
            r.family,
            r.variant,
            row["trial"],
            r.tuner.hypermodel,
            r.tuner.oracle.trials[trial_id].hyperparameters,
            max(int(row["epochs"] or 1), 1),
            float(row["seconds"] or 1.0),
        )
        ranked.append((sign * row["score"], r.family != first, cand))
    return [cand for *_, cand in sorted(ranked, key=lambda t: t[:2])]


def _cv_choice(
    rec: Recommendation,
    cands: list[Candidate],
    prep: Any,
    classification: bool,
    direction: str,
    budget: float,
    seed: int,
) -> tuple[Any, dict[str, Any]]:
    x_all = np.concatenate([prep.x_train, prep.x_val])
    y_all = np.concatenate([prep.y_train, prep.y_val])
    facts: dict[str, Any] = {}

    def choose(scores: list[CVScore]) -> str:
        if len(scores) == 1:
            return scores[0].family
        lead = next((s for s in scores if s.family == rec.family), scores[0])
        others = [s for s in scores if s is not lead]
        rival = max(others, key=lambda s: s.mean) if direction == "max" else min(others, key=lambda s: s.mean)
        floor = 1.0 / len(y_all) if classification else 0.01 * abs(lead.mean)
        facts["noise_margin"] = paired_noise_margin(lead.folds, rival.folds, floor)
        rows = [{"family": s.family, "best_score": s.mean} for s in scores]
        return pick_winner(rows, direction, facts["noise_margin"], prefer=rec.family)["family"]

    sel = cross_validate(
        cands,
        x_all,
        y_all,
        prep.make,
        budget=budget,
        seed=seed,
        classification=classification,
        n_train=len(prep.x_train),
        choose=choose,
    )
    facts.update(
        {
            "folds": sel.folds,
            "samples": int(len(y_all)),
            "seconds": round(sel.seconds, 2),
            "scores": [s.to_dict() for s in sel.scores],
        }
    )
    return sel, facts


def choose_model(
    results: list[Any],
    win: dict[str, Any],
    rec: Recommendation,
    objective: Any,
    prep: Any,
    budget: float,
    seed: int,
    search_verdict: str,
    stage=lambda text: None,
) -> Choice:
    """Pick, train and assemble the model to export.

    Small data: the finalists are scored by k-fold cross-validation on train + validation (the race is decided
    on these scores), the winner is refitted on all of it, several times with different seeds where the time
    allows (else its fold models join the refit), and the models are averaged. Large
    data, or no budget for folds: the best trials of the winning family are averaged when that helps on the
    validation split.

    Args:
        results: FamilyResults of the search.
        win: The search winner (from race.pick_winner).
        rec: The flowchart recommendation.
        objective: The search objective (name, direction).
        prep: The runner's Prepared data (splits, pipeline factory, regime).
        budget: Seconds left for this stage.
        seed: Seed.
        search_verdict: The verdict from the search scores (kept when cross-validation did not decide).
        stage: Progress callback.

    Returns:
        The Choice.
    """
    classification = objective.name == "val_accuracy"
    direction = objective.direction
    regime = prep.regime
    cands = finalists(results, direction, win["family"])
    notes: list[str] = []
    if regime.cross_validate and cands:
        stage(f"cross-validating {len(cands)} finalist(s) on train + validation")
        sel, facts = _cv_choice(rec, cands, prep, classification, direction, budget, seed)
        notes += sel.notes
        if sel.folds:
            return _fold_choice(sel, facts, cands, rec, objective, prep, search_verdict, notes)
        # No folds decided anything: export the search winner, the family the search verdict names (the first
        # finalist is the best scorer, which the verdict may have passed over within the noise).
        cand = next((c for c in cands if c.family == win["family"]), cands[0])
        refit = _refit_fallback(cand, prep, budget, seed, notes)
        if refit is not None:
            best = next(r for r in results if r.family == cand.family)
            single = best.best_model()
            check = _baseline_check(prep, classification, win["best_score"], None)
            facts.update({"folds": 0, "baseline_check": check})
            return Choice(
                cand.family,
                cand.variant,
                cand.trial,
                average_models([single, refit]),
                single,
                "ensemble of the best trial and its refit on train + validation (no budget for folds)",
                2,
                _loser_prefix(check) + search_verdict,
                facts,
                notes,
            )
    best = next(r for r in results if r.family == win["family"])
    single = best.best_model()
    model, how, members, facts = _validation_ensemble(results, best, single, prep, classification, notes)
    check = _baseline_check(prep, classification, win["best_score"], None)
    facts["baseline_check"] = check
    row = best.best_row() or {}
    return Choice(
        best.family,
        best.variant,
        row.get("trial", best.best_trial),
        model,
        single if model is not single else None,
        how,
        members,
        _loser_prefix(check) + search_verdict,
        facts,
        notes,
    )


def _fold_choice(
    sel: Any,
    facts: dict[str, Any],
    cands: list[Candidate],
    rec: Recommendation,
    objective: Any,
    prep: Any,
    search_verdict: str,
    notes: list[str],
) -> Choice:
    """The Choice when cross-validation decided: the winner's fold models and refits averaged, with the
    cross-validated verdict."""
    classification = objective.name == "val_accuracy"
    direction = objective.direction
    family = sel.winner
    cand = next(c for c in cands if c.family == family)
    line = (
        cv_verdict(rec, sel.scores, family, objective.name, direction, facts.get("noise_margin", 0.0), sel.folds)
        if len(sel.scores) > 1
        else f"{search_verdict} Cross-validated ({sel.folds} folds): {sel.scores[0].mean:.4g} "
        f"± {sel.scores[0].std:.2g}."
    )
    model = average_models(sel.members)
    check = _baseline_check(prep, classification, next(s for s in sel.scores if s.family == family), sel.fold_indices)
    facts["baseline_check"] = check
    return Choice(
        family,
        cand.variant,
        cand.trial,
        model,
        sel.refit,
        f"ensemble of {sel.ensemble_of}",
        len(sel.members),
        _loser_prefix(check) + line,
        facts,
        notes,
    )


def _refit_fallback(cand: Candidate, prep: Any, budget: float, seed: int, notes: list[str]) -> keras.Model | None:
    """When folds are unaffordable, spend the selection budget on one refit of the search's best configuration
    on train + validation (more data, same epochs), or None when even that does not fit."""
    scale = (len(prep.x_train) + len(prep.x_val)) / max(len(prep.x_train), 1)
    if budget < cand.seconds * scale:
        return None
    x = np.concatenate([prep.x_train, prep.x_val])
    y = np.concatenate([prep.y_train, prep.y_val])
    model, _ = train_configuration(cand, prep.make(x, y, True), cand.epochs, budget * 0.9, seed)
    notes.append(
        f"the {cand.variant} ({cand.trial}) was refitted on train + validation and averaged with the best trial"
    )
    return model


def _validation_ensemble(
    results: list[Any], best: Any, single: keras.Model, prep: Any, classification: bool, notes: list[str]
) -> tuple[keras.Model, str, int, dict[str, Any]]:
    """Greedy ensemble selection over the best ENSEMBLE_TOP trials of every family, on the validation split;
    kept only when it beats the best single trial there (lower loss, accuracy no lower)."""
    pool: list[tuple[str, keras.Model]] = [(best.best_trial, single)]
    for r in results:
        rows = sorted(
            (w for w in r.rows if w["score"] is not None and w["status"] == "COMPLETED"),
            key=lambda w: w["score"],
            reverse=r.tuner.oracle.objective.direction == "max",
        )
        try:
            models = r.tuner.get_best_models(min(ENSEMBLE_TOP, len(rows))) if rows else []
        except (OSError, ValueError, FileNotFoundError):
            models = []
        pool += [(w["trial"], m) for w, m in zip(rows, models) if w["trial"] != best.best_trial]
    facts: dict[str, Any] = {"folds": 0}
    if len(pool) < 2:
        return single, "the best trial's model", 1, facts
    preds = [np.asarray(m.predict(prep.val_ds, verbose=0)) for _, m in pool]
    y = np.concatenate([np.asarray(yb) for _, yb in prep.val_ds])
    picked = greedy_ensemble(preds, y, classification)
    if len(picked) == 1:
        notes.append("no ensemble of the best trials lowered the validation loss; exported the best trial")
        return single, "the best trial's model", 1, facts
    blend = np.mean([preds[i] for i in picked], axis=0)
    facts["validation"] = {
        "single": _metric(preds[0], y, classification),
        "ensemble": _metric(blend, y, classification),
        "members": [pool[i][0] for i in picked],
    }
    if classification and facts["validation"]["ensemble"] < facts["validation"]["single"]:
        notes.append("the ensemble lowered the validation loss but also the accuracy; exported the best trial")
        return single, "the best trial's model", 1, facts
    names = sorted({pool[i][0] for i in picked})
    return (
        average_models([pool[i][1] for i in picked]),
        f"ensemble of {len(picked)} picks from trials {', '.join(names)} (greedy selection on validation)",
        len(picked),
        facts,
    )


def _metric(pred: np.ndarray, y: np.ndarray, classification: bool) -> float:
    if classification:
        return float(np.mean(pred.argmax(axis=-1) == y))
    return float(np.mean((pred.reshape(len(y), -1) - y.reshape(len(y), -1)) ** 2))


def _baseline_check(
    prep: Any, classification: bool, model_score: Any, folds: list[tuple[np.ndarray, np.ndarray]] | None
) -> dict[str, Any] | None:
    """The best baseline against the model on the same validation data (classification only)."""
    if not classification:
        return None
    bundle = prep.bundle
    kind = bundle.input_spec.kind
    if folds:
        x_all = np.concatenate([prep.x_train, prep.x_val])
        y_all = np.concatenate([prep.y_train, prep.y_val])
        base = baselines.cross_validated(kind, x_all, y_all, folds, bundle.class_names, bundle.decode)
        value, how = model_score.mean, f"{len(folds)}-fold cross-validation"
    else:
        rows = baselines.classification(
            kind, prep.x_train, prep.y_train, prep.x_val, prep.y_val, bundle.class_names, bundle.decode
        )
        best = max((b for b in rows if b.get("accuracy") is not None), key=lambda b: b["accuracy"], default=None)
        base = {"name": best["name"], "mean": best["accuracy"]} if best else None
        value, how = float(model_score), f"the validation split ({len(prep.y_val)} samples)"
    if base is None:
        return None
    return {
        "model": round(float(value), 6),
        "baseline": base["name"],
        "baseline_score": round(base["mean"], 6),
        "on": how,
        "beats": bool(value > base["mean"]),
    }


def _loser_prefix(check: dict[str, Any] | None) -> str:
    if not check or check["beats"]:
        return ""
    if check["model"] == check["baseline_score"]:
        return (
            f"Only ties its baseline: validation accuracy {check['model']:.4f} for both it and "
            f"{check['baseline']} ({check['on']}), so the validation data cannot tell them apart. Give it more "
            "--time or more data, or use the baseline. "
        )
    return (
        f"Does not beat its baseline: validation accuracy {check['model']:.4f} against "
        f"{check['baseline_score']:.4f} for {check['baseline']} ({check['on']}). Give it more --time, or use "
        "the baseline. "
    )
