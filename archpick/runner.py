"""One fit, end to end: inspect -> recommend -> race the families -> evaluate -> export -> report."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archpick import backbone, datasets, faults, imbalance, run
from archpick.errors import DataError, OptionError
from archpick.flowchart import recommend
from archpick.options import FitOptions, reserve_seconds, search_budget
from archpick.profile import DatasetProfile
from archpick.race import RECOMMENDED_SHARE, choose_families, split_budget
from archpick.regime import SELECTION_SHARE, choose_regime
from archpick.version import __version__

DEFAULT_COLLECTION_BUDGET = 480.0  # a folder of datasets, split across them
MODALITY_WEIGHT = {"video": 2.0, "text": 1.2, "sequence": 1.3}  # share of a collection budget, relative to 1.0


def batch_size_for(n_train: int, kind: str) -> int:
    """A batch size that keeps several steps per epoch on small data (dl-4-tsc: min(n / 10, 16), here at least
    4 so that batch norm sees a few samples)."""
    if kind == "video":
        return 16
    if n_train < 320:
        return max(min(n_train // 10, 16), 4)
    if n_train < 1000:
        return 32
    return 64 if n_train < 20_000 else 128


def _predict(model, dataset) -> tuple[np.ndarray, np.ndarray]:
    preds, ys = [], []
    for xb, yb in dataset:  # predict_on_batch runs a compiled function (eager calls of an RNN are slow)
        preds.append(np.asarray(model.predict_on_batch(xb)))
        ys.append(np.asarray(yb))
    return np.concatenate(preds), np.concatenate(ys)


def _headline_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """The scalar metrics of a metrics dict (no per-class rows, no confusion matrix)."""
    return {k: v for k, v in scores.items() if isinstance(v, (int, float)) or v is None}


def plan_families(profile: DatasetProfile, opts: FitOptions):
    """The recommendation, the families to search with their roles, and requested ones not trainable here."""
    from archpick import hypermodels

    rec = recommend(profile)
    legs = choose_families(rec, profile.modality, opts.families, budget=opts.budget)
    skipped = [f for f, _ in legs if not hypermodels.available(profile.modality, f)]
    legs = [(f, r) for f, r in legs if hypermodels.available(profile.modality, f)]
    if not legs:
        raise OptionError(f"archpick cannot train {profile.modality} data with {', '.join(skipped)} yet", profile.path)
    return rec, legs, skipped


@dataclass
class Prepared:
    """Everything a search trains on: the bundle, the split, the spec and the tf.data pipelines."""

    bundle: Any
    split: Any
    spec: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    has_test: bool
    batch_size: int
    failures: Any
    train_ds: Any
    val_ds: Any
    test_ds: Any
    make: Any = None  # (x, y, training) -> batches with this run's pipeline
    regime: Any = None
    balance: imbalance.Imbalance | None = None


def prepare(profile: DatasetProfile, opts: FitOptions, replicas: int = 1) -> Prepared:
    """Load, split (stratified or chronological), fit training-only statistics and build the pipelines.

    Benchmarks call this too, so a hand-written `model.fit` sees exactly archpick's pipeline.
    """
    from archpick import hypermodels
    from archpick.decoding import DecodeFailures
    from archpick.hypermodels import heads
    from archpick.hypermodels.base import ModelSpec
    from archpick.pipeline import make_dataset
    from archpick.splits import class_notes, split_indices

    bundle = datasets.load(profile, opts.data)
    faults.point("load")
    spec_in = bundle.input_spec
    kind = spec_in.kind
    task = profile.task
    has_test = bundle.x_test is not None
    gap = max((spec_in.horizon or 1) - 1, 0) if bundle.split == "chronological" else 0
    strat = np.asarray(bundle.y if bundle.y.ndim == 1 else bundle.y[:, 0])
    split = split_indices(strat, bundle.split, opts.seed, has_test, gap=gap)
    x_train, y_train = bundle.x[split.train], bundle.y[split.train]
    x_val, y_val = bundle.x[split.val], bundle.y[split.val]
    if has_test:
        x_test, y_test = bundle.x_test, bundle.y_test
    else:
        x_test, y_test = bundle.x[split.test], bundle.y[split.test]
    if len(x_train) < 2 or len(x_val) < 1 or len(x_test) < 1:
        raise DataError("too few samples to hold out validation and test data; add more samples", profile.path)
    n_out = len(bundle.class_names) if task == "classification" else int(np.prod(bundle.y.shape[1:]) or 1)
    balance = imbalance.measure(y_train, n_out) if task == "classification" else imbalance.Imbalance(1.0, None)
    if task == "classification":
        split.notes = class_notes(strat, split, bundle.class_names, y_test if has_test else None)
    stats = hypermodels.fit_stats(kind, x_train, spec_in)
    if task == "regression":
        stats[heads.TARGET_STATS] = heads.target_stats(y_train)
    spec = ModelSpec(spec_in, task, n_out, stats=stats, n_train=len(x_train), class_weight=balance.class_weight)
    batch = (opts.batch_size or batch_size_for(len(x_train), kind)) * replicas
    failures = DecodeFailures()
    common = {
        "batch_size": batch,
        "seed": opts.seed,
        "decode": bundle.decode,
        "decode_train": bundle.decode_train,
        "failures": failures,
    }

    def make(x, y, training: bool):
        return make_dataset(x, y, spec_in, training=training, **common)

    return Prepared(
        bundle=bundle,
        split=split,
        spec=spec,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        has_test=has_test,
        batch_size=batch,
        failures=failures,
        train_ds=make_dataset(x_train, y_train, spec_in, training=True, **common),
        val_ds=make_dataset(x_val, y_val, spec_in, training=False, **common),
        test_ds=make_dataset(x_test, y_test, spec_in, training=False, **common),
        make=make,
        balance=balance,
        regime=choose_regime(
            len(x_train),
            len(x_val),
            task,
            chronological=bundle.split == "chronological",
            max_epochs=opts.max_epochs,
            kind=kind,
        ),
    )


def plan_search(search_s: float, legs: list[tuple[str, str]], opts: FitOptions, prep: Prepared):
    """Each family's search budget and the per-trial cap (chief and workers compute them here alike, from
    `search_s`, options.search_budget's seconds).

    In the cross-validated regime SELECTION_SHARE of the budget is kept for the folds, the refit and the
    ensemble, and trials are capped so that the folds of every finalist stay affordable.

    Returns:
        (legs with budgets, leg budget -> trial cap, or None for the default cap).
    """
    share = opts.share
    if prep.spec.input_spec.kind == "sequence" and share == RECOMMENDED_SHARE:
        # Numeric sequences: the flowchart's RNN is a weak prior (CNNs lead the published tables), so the 1-D CNN
        # gets an equal part of the budget and the race can overturn the prior on evidence.
        share = 0.5
    if not prep.regime.cross_validate:
        return split_budget(search_s, legs, share), None
    from archpick.selection import trial_cap_for

    selection_budget = search_s * SELECTION_SHARE
    plan = split_budget(search_s - selection_budget, legs, share)
    n_train = len(prep.x_train)
    return plan, trial_cap_for(selection_budget, len(plan), n_train + len(prep.x_val), n_train)


def _race(
    plan,
    profile,
    opts,
    spec,
    prep,
    run_dir,
    resuming,
    progress,
    strategy,
    stage,
    base_port,
    trial_cap=None,
    source=None,
):
    """Search each family in turn; unused budget carries over to the next one (with a pretrained backbone,
    `source`, an archpick.backbone.BackboneSource, the families it stands in for use it)."""
    from archpick import hypermodels
    from archpick.search import SearchSetup, search_family, serve_family

    results, carry = [], 0.0
    for index, leg in enumerate(plan):
        hm = hypermodels.make(profile.modality, leg.family, spec, backbone=source)
        stage(
            f"searching {hm.variant} ({leg.role})"
            + (f", serving workers on port {base_port + index}" if base_port else "")
        )
        leg_budget = leg.budget + carry
        setup = SearchSetup(
            hm,
            prep.train_ds,
            prep.val_ds,
            directory=run_dir / "tuner",
            budget_seconds=leg_budget,
            max_trials=opts.max_trials,
            seed=opts.seed,
            regime=prep.regime,
            trial_cap=trial_cap(leg_budget) if trial_cap else None,
            progress=progress,
            tensorboard=opts.tensorboard,
            distribution_strategy=strategy,
        )
        if base_port:
            result = serve_family(setup, base_port + index, resume=resuming)
        else:
            result = search_family(setup, resume=resuming)
        carry = max(leg_budget - result.seconds, 0.0)
        result.role = leg.role
        results.append(result)
        faults.point("family")
    return results


def fit_profile(profile: DatasetProfile, opts: FitOptions, progress=None, run_dir: Path | None = None) -> run.Run:
    """Fit one (non-collection) dataset and write its run directory, locked against other processes throughout.

    Args:
        profile: The dataset profile.
        opts: Fit options.
        progress: Optional progress receiver (see search.Progress), with an optional `stage(text)` method.
        run_dir: Use this run directory (already created and held by the caller) instead of making one.

    Returns:
        The finished Run.
    """
    with contextlib.ExitStack() as held:
        return _fit_profile(profile, opts, progress, run_dir, held)


def _fit_profile(
    profile: DatasetProfile, opts: FitOptions, progress, run_dir: Path | None, held: contextlib.ExitStack
) -> run.Run:
    """`fit_profile`'s work, stage by stage; `held` keeps the run directory's lock until the fit ends."""
    started = time.monotonic()
    budget = opts.budget
    from archpick import backend

    backend_name = backend.select()  # before Keras is imported (plan_families loads the HyperModels)
    backend.check_modality(backend_name, profile.modality, profile.path)
    rec, legs, skipped_families = plan_families(profile, opts)

    resuming = opts.resume is not None
    if run_dir is None:
        run_dir = held.enter_context(
            run.claim(profile.name, opts.out, profile.path, opts.overwrite, opts.runs_root, resume=opts.resume)
        )
    run.mark(run_dir, "running", pid=__import__("os").getpid())
    source = backbone.for_run(opts.backbone, opts.backbone_weights, run_dir, resuming, profile.modality)
    run.write_json(run_dir / "profile.json", {**profile.to_dict(), "resolved_path": str(Path(profile.path).resolve())})
    stage = getattr(progress, "stage", lambda text: None)
    getattr(progress, "budget", lambda name, seconds: None)(profile.name, budget)

    stage("importing TensorFlow" if backend_name == "tensorflow" else f"starting Keras on {backend_name}")
    from archpick import hardware

    backend.start(verbose=opts.verbose)
    hw = hardware.plan(opts.device, opts.mixed_precision)
    strategy = hardware.apply(hw)
    timings: dict[str, float] = {"inspect": profile.facts.get("inspect_seconds", 0.0)}
    base_port, workers = _start_workers(opts, profile, hw, run_dir)

    import keras

    keras.utils.set_random_seed(opts.seed)  # before any tf.data op: shuffles depend on the global seed too
    stage("loading data")
    t = time.monotonic()
    prep = prepare(profile, opts, hw.replicas)
    timings["load"] = round(time.monotonic() - t, 3)

    kind = prep.spec.input_spec.kind
    search_s = search_budget(opts, kind, elapsed=time.monotonic() - started)
    plan, trial_cap = plan_search(search_s, legs, opts, prep)
    t = time.monotonic()
    try:
        results = _race(
            plan,
            profile,
            opts,
            prep.spec,
            prep,
            run_dir,
            resuming,
            progress,
            strategy,
            stage,
            base_port,
            trial_cap=trial_cap,
            source=source,
        )
    finally:
        _stop_workers(workers)
    timings["search"] = round(time.monotonic() - t, 3)

    report, win, objective = _race_report(profile, rec, results, prep, hw, skipped_families)
    report["run_dir"] = str(run_dir)
    if win is None:
        _fail(run_dir, report, profile, budget, search_s, started)

    from archpick.choice import choose_model

    t = time.monotonic()
    # An ensemble of k + 1 members costs several times one model to evaluate and export: keep twice the reserve.
    reserve = reserve_seconds(budget, kind) * (2 if prep.regime.cross_validate else 1)
    left = started + budget - reserve - time.monotonic()
    choice = choose_model(results, win, rec, objective, prep, max(left, 0.0), opts.seed, report["verdict"], stage)
    timings["selection"] = round(time.monotonic() - t, 3)
    report["verdict"] = choice.verdict
    report["race"]["winner"] = choice.family
    report["race"]["selection"] = choice.selection
    report["regime"] = prep.regime.to_dict()

    stage("evaluating the winner on the test split")
    t = time.monotonic()
    best = next(r for r in results if r.family == choice.family)
    report["final"] = _evaluate(choice, best, prep, profile.task, opts.seed, report)
    report.update(_backbone_section(source, results, choice.family))
    timings["evaluate"] = round(time.monotonic() - t, 3)

    stage("exporting the SavedModel" if backend_name == "tensorflow" else "exporting model.keras")
    t = time.monotonic()
    report["model"] = _export(choice.model, best, prep, profile, run_dir)
    timings["export"] = round(time.monotonic() - t, 3)

    notes = choice.notes + backbone.unused_note(opts.backbone, profile.modality)
    _write(run_dir, report, profile, prep, notes, Spent(budget, search_s, started, timings), stage)
    return run.load_run(run_dir)


@dataclass
class Spent:
    """Where a fit's time went: the budget given, the search's share, when it started and each stage's seconds."""

    budget: float
    search_s: float
    started: float
    timings: dict[str, float]


def _write(
    run_dir: Path,
    report: dict[str, Any],
    profile: DatasetProfile,
    prep: Prepared,
    notes: list[str],
    spent: Spent,
    stage,
) -> None:
    """The write stage: skipped files, notes and time spent into report.json, then Markdown, HTML and plots; the
    run is marked complete last."""
    bundle = prep.bundle
    report["skipped"] = {
        "count": len(bundle.skipped) + len(prep.failures.files),
        "files": [{"file": s.file, "reason": s.reason} for s in bundle.skipped]
        + [{"file": f, "reason": r} for f, r in prep.failures.files.items()],
    }
    report["notes"] = list(profile.notes) + notes
    report["budget"] = {
        "given_s": spent.budget,
        "search_s": round(spent.search_s, 2),
        "used_s": round(time.monotonic() - spent.started, 2),
    }
    report["timings"] = spent.timings
    stage("writing the report")
    from archpick.report import write_report

    t = time.monotonic()
    write_report(run_dir, report)
    report["timings"]["report"] = round(time.monotonic() - t, 3)
    report["budget"]["used_s"] = round(time.monotonic() - spent.started, 2)
    run.write_json(run_dir / run.REPORT_FILE, report)
    run.mark(run_dir, "complete")


def _backbone_section(source, results: list, winner: str) -> dict[str, Any]:
    """{"backbone": the backbone, its weights and what was frozen} for a transfer run (--backbone), else {}."""
    if source is None:
        return {}
    from archpick.hypermodels.transfer import backbone_report

    return {"backbone": backbone_report(results, winner)}


def _start_workers(opts: FitOptions, profile: DatasetProfile, hw, run_dir: Path) -> tuple[int | None, list]:
    """Local worker processes for --workers (started before the chief loads data, so their start-up
    overlaps with it); returns the chief's first port and the processes."""
    from archpick import hardware

    base_port = opts.chief_port
    if not opts.workers:
        return base_port, []
    from archpick.distributed import free_port, spawn_local_workers

    base_port = base_port or free_port()
    workers = spawn_local_workers(
        opts.workers, profile.path, base_port, run_dir, opts.to_worker_argv(), gpus=len(hw.gpus)
    )
    share = hardware.thread_env(hw.cpus, opts.workers)["TF_NUM_INTRAOP_THREADS"]
    hw.reasons.append(
        f"--workers {opts.workers}: that many trials at once, "
        + ("one GPU each" if hw.gpus else f"{share} CPU threads per op each")
    )
    return base_port, workers


def _stop_workers(workers: list) -> None:
    """Terminate local workers; one that does not stop within 30 s is killed."""
    for proc in workers:
        proc.terminate()
    for proc in workers:
        try:
            proc.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a stuck worker is killed
            proc.kill()


def _race_report(
    profile: DatasetProfile, rec, results: list, prep: Prepared, hw, skipped_families: list[str]
) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
    """The report's first part (data, split, race, leaderboard), the search winner and the objective."""
    from archpick.hypermodels import heads
    from archpick.race import noise_margin, pick_winner, verdict

    objective = heads.objective(profile.task)
    n_val = len(prep.x_val)
    summaries = [
        {
            "family": r.family,
            "variant": r.variant,
            "role": r.role,
            "best_score": r.best_score,
            "best_trial": r.best_trial,
            "budget": round(r.budget, 2),
            "seconds": r.seconds,
            "trials": len(r.rows),
            "scores": [row["score"] for row in r.rows if row["score"] is not None],
        }
        for r in results
    ]
    lead = next((r for r in summaries if r["family"] == rec.family), None)
    margin = noise_margin(objective.name, lead["best_score"] if lead else None, n_val)
    win = pick_winner(summaries, objective.direction, margin, prefer=rec.family)
    split = prep.split
    report: dict[str, Any] = {
        "archpick_version": __version__,
        "dataset": profile.name,
        "path": str(Path(profile.path).resolve()),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "verdict": verdict(rec, summaries, win, objective.name, objective.direction, margin, n_val),
        "profile": profile.to_dict(),
        "recommendation": rec.to_dict(),
        "hardware": hw.to_dict(),
        "split": {
            "how": split.how,
            "train": int(len(prep.x_train)),
            "validation": int(n_val),
            "test": int(len(prep.x_test)),
            "test_source": "shipped test split" if prep.has_test else "held out",
            "notes": split.notes,
            "imbalance": prep.balance.to_dict() if prep.balance else None,
        },
        "race": {
            "families": summaries,
            "winner": win["family"] if win else None,
            "metric": objective.name,
            "noise_margin": margin,
            "validation_samples": int(n_val),
            "direction": objective.direction,
            "not_trainable_yet": skipped_families,
        },
        "leaderboard": [
            {k: v for k, v in row.items() if k not in ("history", "epoch_seconds")} for r in results for row in r.rows
        ],
        "task": profile.task,
        "batch_size": prep.batch_size,
    }
    return report, win, objective


def _fail(
    run_dir: Path, report: dict[str, Any], profile: DatasetProfile, budget: float, search_s: float, started: float
) -> None:
    """Write the failed run's report and status, and raise: no trial finished."""
    from archpick.report import write_report

    report["status"] = "failed"
    report["budget"] = {
        "given_s": budget,
        "search_s": round(search_s, 2),
        "used_s": round(time.monotonic() - started, 2),
    }
    write_report(run_dir, report)
    run.mark(run_dir, "failed", reason="no trial finished")
    raise DataError("no trial finished within the budget; give more --time", profile.path)


def _evaluate(choice, best, prep: Prepared, task: str, seed: int, report: dict[str, Any]) -> dict[str, Any]:
    """The exported model (and the single model, for an ensemble) on the test split, beside the baselines
    (which go into `report`), fitted on the data the model saw."""
    from archpick import baselines, metrics

    bundle, spec_in = prep.bundle, prep.bundle.input_spec
    refit = bool(choice.selection.get("folds"))  # the model saw train + validation: so do the baselines
    x_fit = np.concatenate([prep.x_train, prep.x_val]) if refit else prep.x_train
    y_fit = np.concatenate([prep.y_train, prep.y_val]) if refit else prep.y_train
    model = choice.model
    preds, y_true = _predict(model, prep.test_ds)
    single_preds = _predict(choice.single, prep.test_ds)[0] if choice.single is not None else None
    best_row = next((row for row in best.rows if row["trial"] == choice.trial), None) or {}
    final: dict[str, Any] = {
        "family": best.family,
        "variant": best.variant,
        "trial": choice.trial,
        "hyperparameters": best_row.get("hyperparameters", {}),
        "params": int(model.count_params()),
        "history": best_row.get("history", {}),
        "epoch_seconds": best_row.get("epoch_seconds", []),
        "exported": choice.how,
        "members": choice.members,
    }
    train_period = None  # forecasting: the training period's series (scales MASE)
    if task == "classification":
        final["metrics"] = metrics.classification(y_true, preds, bundle.class_names)
        report["baselines"] = baselines.classification(
            spec_in.kind, x_fit, y_fit, prep.x_test, prep.y_test, bundle.class_names, bundle.decode, seed
        )
        if single_preds is not None:
            final["single"] = _headline_metrics(metrics.classification(y_true, single_preds, bundle.class_names))
    elif task == "forecasting":
        season = int(spec_in.season or 1)
        history = bundle.history
        train_series = np.asarray(history.values, float)
        cutoff = history.train_end
        if not prep.has_test:  # scale MASE on the training period only: up to the last training target
            cutoff = int(prep.split.train[-1]) + int(spec_in.lookback) + int(spec_in.horizon)
        report["series"] = {
            "values": train_series.tolist(),
            "times": history.times,
            "target": history.target,
            "train_end": cutoff,
        }
        train_period = train_series[:cutoff]
        final["metrics"] = metrics.forecast(y_true, preds, train_period, season)
        naive = baselines.seasonal_naive(np.asarray(prep.x_test), y_true.shape[1], season, spec_in.target_index or 0)
        report["baselines"] = [
            {
                "name": f"seasonal naive (period {season})",
                **metrics.forecast(y_true, naive, train_series[:cutoff], season),
            }
        ]
        final["forecast"] = {
            "actual": y_true.tolist(),
            "predicted": preds.tolist(),
            "naive": naive.tolist(),
            "future": _future_forecast(model, prep, report),
        }
        if single_preds is not None:
            final["single"] = metrics.forecast(y_true, single_preds, train_series[:cutoff], season)
    else:
        final["metrics"] = metrics.regression(y_true, preds)
        report["baselines"] = baselines.regression(x_fit, y_fit, prep.x_test, prep.y_test)
        if single_preds is not None:
            final["single"] = metrics.regression(y_true, single_preds)
    if "single" in final:
        final["ensemble"] = _headline_metrics(final["metrics"])
    from archpick.report.answer import primary_metric

    final["interval"] = metrics.test_interval(
        primary_metric({**report, "task": task}), y_true, preds, train_period, int(spec_in.season or 1), seed
    )
    return final


def _future_forecast(model, prep: Prepared, report: dict[str, Any]) -> dict[str, Any] | None:
    """The model's forecast of the `horizon` steps after the end of the data, with their times
    ({"times", "values"}), or None when the last window cannot be read."""
    from archpick.datasets.series.timeline import future_times

    spec, history = prep.bundle.input_spec, prep.bundle.history
    lookback = int(spec.lookback)
    if len(spec.columns or [None]) == 1:  # the whole series (train and test files) is in the history
        window = np.asarray(history.values, np.float32)[-lookback:].reshape(1, -1, 1)
    else:
        from archpick.datasets.series import last_window_for_predict

        files = report.get("profile", {}).get("facts", {}).get("files", {})
        try:
            window = last_window_for_predict(files.get("test") or files["train"], spec)[0][1][None]
        except (DataError, KeyError, OSError):
            return None
    if window.shape[1] != lookback:
        return None
    values = np.ravel(np.asarray(model.predict_on_batch(window)))
    return {"times": future_times(list(history.times), len(values)), "values": [float(v) for v in values]}


def _export(model, best, prep: Prepared, profile: DatasetProfile, run_dir: Path) -> dict[str, Any]:
    """Export the model (SavedModel on TensorFlow, and model.keras) with its metadata; the report's model part."""
    from archpick.export import export_model
    from archpick.modelmeta import ModelMeta

    bundle = prep.bundle
    sample = np.asarray(prep.x_test[: min(8, len(prep.x_test))])
    if bundle.decode is not None:
        sample = np.stack([bundle.decode(p) for p in sample])
    meta = ModelMeta(
        bundle.input_spec,
        profile.task,
        family=best.family,
        variant=best.variant,
        dataset=profile.name,
        source=profile.source,
        archpick_version=__version__,
    )
    out = export_model(model, run_dir / "model", meta, bundle.class_names, sample)
    out["saved_model"] = "model" if out["saved_model"] else None
    out["keras"] = "model/model.keras"
    return out
