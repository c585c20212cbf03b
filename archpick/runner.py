"""One fit, staged: plan -> prepare -> search (the race) -> choose -> evaluate -> export -> write.

Each stage is a function returning a dataclass (`FitPlan`, `Prepared`, `Searched`, `choice.Choice`,
`evaluate.Evaluation`, `Exported`); `write` composes report.json from them once, and `fit_profile` runs them in
order inside a locked run directory (`Session`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archpick import backbone, datasets, faults, imbalance, run
from archpick.errors import DataError, OptionError
from archpick.flowchart import Recommendation, recommend
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


@dataclass
class FitPlan:
    """The plan stage's result: what to search, decided before any data is loaded.

    Attributes:
        recommendation: The flowchart's answer, with every step.
        legs: (family, role) to search, in order: the flowchart's pick, the runner-up, challengers.
        not_trainable: Requested families archpick cannot train on this data yet.
        backend: The Keras backend the fit runs on.
    """

    recommendation: Recommendation
    legs: list[tuple[str, str]]
    not_trainable: list[str]
    backend: str


def plan(profile: DatasetProfile, opts: FitOptions) -> FitPlan:
    """The plan stage: the backend, the recommendation and the families to race (OptionError when none can
    train on this data)."""
    from archpick import backend

    backend_name = backend.select()  # before Keras is imported (the HyperModels load it)
    backend.check_modality(backend_name, profile.modality, profile.path)
    from archpick import hypermodels

    rec = recommend(profile)
    legs = choose_families(rec, profile.modality, opts.families, budget=opts.budget)
    skipped = [f for f, _ in legs if not hypermodels.available(profile.modality, f)]
    legs = [(f, r) for f, r in legs if hypermodels.available(profile.modality, f)]
    if not legs:
        raise OptionError(f"archpick cannot train {profile.modality} data with {', '.join(skipped)} yet", profile.path)
    return FitPlan(rec, legs, skipped, backend_name)


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


@dataclass
class Clock:
    """A fit's wall clock: the budget, when the fit started and the seconds each stage took."""

    budget: float
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, name: str):
        """Record the seconds the block takes as stage `name`."""
        t = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = round(time.monotonic() - t, 3)

    def elapsed(self) -> float:
        """Seconds since the fit started."""
        return time.monotonic() - self.started

    def left(self, reserve: float = 0.0) -> float:
        """Seconds of the budget left after keeping `reserve` back (negative when overdrawn)."""
        return self.budget - reserve - self.elapsed()


@dataclass
class Session:
    """Where and on what one fit runs.

    Attributes:
        run_dir: The run directory, locked for the whole fit.
        resuming: Whether the fit continues an interrupted run (--resume).
        source: The pretrained backbone (--backbone), or None.
        hardware: The device plan (archpick/hardware.py).
        strategy: Its tf.distribute strategy, or None.
        base_port: The chief's first port, when trials are served to workers.
        workers: Local worker processes (--workers).
        clock: The fit's clock.
        stage: Reports a stage to the progress receiver.
        progress: The progress receiver (search.Progress), or None.
    """

    run_dir: Path
    resuming: bool
    source: Any
    hardware: Any
    strategy: Any
    base_port: int | None
    workers: list
    clock: Clock
    stage: Callable[[str], None]
    progress: Any = None


def open_session(
    profile: DatasetProfile,
    opts: FitOptions,
    fit_plan: FitPlan,
    clock: Clock,
    progress,
    run_dir: Path | None,
    held: contextlib.ExitStack,
) -> Session:
    """Claim (or take) the run directory, resolve the backbone, start Keras, plan the hardware and start local
    workers (before the chief loads data, so their start-up overlaps with it)."""
    from archpick import backend, hardware

    resuming = opts.resume is not None
    if run_dir is None:
        run_dir = held.enter_context(
            run.claim(profile.name, opts.out, profile.path, opts.overwrite, opts.runs_root, resume=opts.resume)
        )
    run.mark(run_dir, "running", pid=os.getpid())
    source = backbone.for_run(opts.backbone, opts.backbone_weights, run_dir, resuming, profile.modality)
    run.write_json(run_dir / "profile.json", {**profile.to_dict(), "resolved_path": str(Path(profile.path).resolve())})
    stage = getattr(progress, "stage", lambda text: None)
    getattr(progress, "budget", lambda name, seconds: None)(profile.name, opts.budget)
    stage("importing TensorFlow" if fit_plan.backend == "tensorflow" else f"starting Keras on {fit_plan.backend}")
    backend.start(verbose=opts.verbose)
    hw = hardware.plan(opts.device, opts.mixed_precision)
    strategy = hardware.apply(hw)
    clock.timings["inspect"] = profile.facts.get("inspect_seconds", 0.0)
    base_port, workers = _start_workers(opts, profile, hw, run_dir)
    held.callback(_stop_workers, workers)
    return Session(run_dir, resuming, source, hw, strategy, base_port, workers, clock, stage, progress)


def leg_setup(hm, prep: Prepared, opts: FitOptions, directory: Path, budget: float, trial_cap, **kw: Any):
    """The SearchSetup of one leg of the race, alike for the local search, the chief and a worker.

    Args:
        hm: The family's HyperModel.
        prep: The prepared data.
        opts: The fit options (trials, seed).
        directory: Where keras-tuner keeps its state.
        budget: The leg's seconds.
        trial_cap: Leg budget -> seconds per trial (plan_search), or None for the default cap.
        **kw: progress, tensorboard, distribution_strategy (search.SearchSetup).
    """
    from archpick.search import SearchSetup

    return SearchSetup(
        hm,
        prep.train_ds,
        prep.val_ds,
        directory=directory,
        budget_seconds=budget,
        max_trials=opts.max_trials,
        seed=opts.seed,
        regime=prep.regime,
        trial_cap=trial_cap(budget) if trial_cap else None,
        **kw,
    )


@dataclass
class Searched:
    """The search stage's result: the race over the families, scored on the validation split.

    Attributes:
        results: One search.FamilyResult per leg, in order.
        search_s: The search's budget (options.search_budget).
        race: report.json's "race" section as the search left it (families, metric, noise margin, direction).
        leaderboard: Every trial's row.
        winner: The search winner's summary row (race.pick_winner), or None when no trial finished.
        verdict: The verdict from the search scores.
        objective: The search objective (name, direction).
    """

    results: list[Any]
    search_s: float
    race: dict[str, Any]
    leaderboard: list[dict[str, Any]]
    winner: dict[str, Any] | None
    verdict: str
    objective: Any


def search(fit_plan: FitPlan, profile: DatasetProfile, opts: FitOptions, prep: Prepared, session: Session) -> Searched:
    """The search stage: each family in turn within its share of the budget; unused budget carries over to the
    next one (with a pretrained backbone the families it stands in for use it)."""
    from archpick import hypermodels
    from archpick.search import search_family, serve_family

    search_s = search_budget(opts, prep.spec.input_spec.kind, elapsed=session.clock.elapsed())
    legs, trial_cap = plan_search(search_s, fit_plan.legs, opts, prep)
    results, carry = [], 0.0
    try:
        for index, leg in enumerate(legs):
            hm = hypermodels.make(profile.modality, leg.family, prep.spec, backbone=session.source)
            port = session.base_port + index if session.base_port else None
            session.stage(
                f"searching {hm.variant} ({leg.role})" + (f", serving workers on port {port}" if port else "")
            )
            setup = leg_setup(
                hm,
                prep,
                opts,
                session.run_dir / "tuner",
                leg.budget + carry,
                trial_cap,
                progress=session.progress,
                tensorboard=opts.tensorboard,
                distribution_strategy=session.strategy,
            )
            if port:
                result = serve_family(setup, port, resume=session.resuming)
            else:
                result = search_family(setup, resume=session.resuming)
            carry = max(setup.budget_seconds - result.seconds, 0.0)
            result.role = leg.role
            results.append(result)
            faults.point("family")
    finally:
        _stop_workers(session.workers)
    return _score_race(results, fit_plan, prep, search_s, profile.task)


def _score_race(results: list, fit_plan: FitPlan, prep: Prepared, search_s: float, task: str) -> Searched:
    """The race on the validation scores: each family's summary, the noise margin, the winner and the verdict."""
    from archpick.hypermodels import heads
    from archpick.race import noise_margin, pick_winner, verdict

    rec = fit_plan.recommendation
    objective = heads.objective(task)
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
    race = {
        "families": summaries,
        "winner": win["family"] if win else None,
        "metric": objective.name,
        "noise_margin": margin,
        "validation_samples": int(n_val),
        "direction": objective.direction,
        "not_trainable_yet": fit_plan.not_trainable,
    }
    leaderboard = [
        {k: v for k, v in row.items() if k not in ("history", "epoch_seconds")} for r in results for row in r.rows
    ]
    said = verdict(rec, summaries, win, objective.name, objective.direction, margin, n_val)
    return Searched(results, search_s, race, leaderboard, win, said, objective)


def choose(searched: Searched, fit_plan: FitPlan, prep: Prepared, opts: FitOptions, session: Session):
    """The choose stage (archpick/choice.py): cross-validated finalists, refits and ensembles, within what is
    left of the budget after the evaluate and export reserve. Returns a choice.Choice."""
    from archpick.choice import choose_model

    # An ensemble of k + 1 members costs several times one model to evaluate and export: keep twice the reserve.
    reserve = reserve_seconds(opts.budget, prep.spec.input_spec.kind) * (2 if prep.regime.cross_validate else 1)
    return choose_model(
        searched.results,
        searched.winner,
        fit_plan.recommendation,
        searched.objective,
        prep,
        max(session.clock.left(reserve), 0.0),
        opts.seed,
        searched.verdict,
        session.stage,
    )


@dataclass
class Exported:
    """The export stage's result: report.json's "model" section (files, serving contract, reload check)."""

    model: dict[str, Any]


def export(choice, best, prep: Prepared, profile: DatasetProfile, run_dir: Path) -> Exported:
    """The export stage: SavedModel on TensorFlow, and model.keras, with archpick.json and labels.json."""
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
    out = export_model(choice.model, run_dir / "model", meta, bundle.class_names, sample)
    out["saved_model"] = "model" if out["saved_model"] else None
    out["keras"] = "model/model.keras"
    return Exported(out)


def compose(
    profile: DatasetProfile,
    fit_plan: FitPlan,
    prep: Prepared,
    searched: Searched,
    session: Session,
    choice=None,
    evaluation=None,
    exported: Exported | None = None,
) -> dict[str, Any]:
    """report.json from the stages' results (a failed run has no choice, evaluation or export)."""
    split, bundle = prep.split, prep.bundle
    report: dict[str, Any] = {
        "archpick_version": __version__,
        "dataset": profile.name,
        "path": str(Path(profile.path).resolve()),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "verdict": choice.verdict if choice else searched.verdict,
        "profile": profile.to_dict(),
        "recommendation": fit_plan.recommendation.to_dict(),
        "hardware": session.hardware.to_dict(),
        "split": {
            "how": split.how,
            "train": int(len(prep.x_train)),
            "validation": int(len(prep.x_val)),
            "test": int(len(prep.x_test)),
            "test_source": "shipped test split" if prep.has_test else "held out",
            "notes": split.notes,
            "imbalance": prep.balance.to_dict() if prep.balance else None,
        },
        "race": dict(searched.race),
        "leaderboard": searched.leaderboard,
        "task": profile.task,
        "batch_size": prep.batch_size,
        "run_dir": str(session.run_dir),
        "skipped": {
            "count": len(bundle.skipped) + len(prep.failures.files),
            "files": [{"file": s.file, "reason": s.reason} for s in bundle.skipped]
            + [{"file": f, "reason": r} for f, r in prep.failures.files.items()],
        },
    }
    if choice is not None:
        report["race"].update(winner=choice.family, selection=choice.selection)
        report["regime"] = prep.regime.to_dict()
    if evaluation is not None:
        report.update(final=evaluation.final, baselines=evaluation.baselines)
        if evaluation.series is not None:
            report["series"] = evaluation.series
    if session.source is not None and choice is not None:
        from archpick.hypermodels.transfer import backbone_report

        report["backbone"] = backbone_report(searched.results, choice.family)
    if exported is not None:
        report["model"] = exported.model
    return report


def write(
    report: dict[str, Any], session: Session, notes: list[str], search_s: float, status: str = "complete"
) -> None:
    """The write stage: notes and time spent into report.json, then Markdown, HTML and plots; the run is marked
    `status` last."""
    from archpick.report import write_report

    clock = session.clock
    report["notes"] = notes
    report["budget"] = {
        "given_s": clock.budget,
        "search_s": round(search_s, 2),
        "used_s": round(clock.elapsed(), 2),
    }
    report["timings"] = clock.timings
    if status != "complete":
        report["status"] = status
    session.stage("writing the report")
    with clock.timed("report"):
        write_report(session.run_dir, report)
    report["budget"]["used_s"] = round(clock.elapsed(), 2)
    run.write_json(session.run_dir / run.REPORT_FILE, report)
    run.mark(session.run_dir, status, **({"reason": "no trial finished"} if status == "failed" else {}))


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
    clock = Clock(opts.budget)
    fit_plan = plan(profile, opts)
    with contextlib.ExitStack() as held:
        session = open_session(profile, opts, fit_plan, clock, progress, run_dir, held)
        return _run_stages(profile, opts, fit_plan, session)


def _run_stages(profile: DatasetProfile, opts: FitOptions, fit_plan: FitPlan, session: Session) -> run.Run:
    """prepare -> search -> choose -> evaluate -> export -> write, each timed."""
    import keras

    from archpick.evaluate import evaluate

    clock, stage = session.clock, session.stage
    keras.utils.set_random_seed(opts.seed)  # before any tf.data op: shuffles depend on the global seed too
    stage("loading data")
    with clock.timed("load"):
        prep = prepare(profile, opts, session.hardware.replicas)
    with clock.timed("search"):
        searched = search(fit_plan, profile, opts, prep, session)
    if searched.winner is None:
        write(
            compose(profile, fit_plan, prep, searched, session),
            session,
            list(profile.notes),
            searched.search_s,
            "failed",
        )
        raise DataError("no trial finished within the budget; give more --time", profile.path)
    with clock.timed("selection"):
        choice = choose(searched, fit_plan, prep, opts, session)
    stage("evaluating the winner on the test split")
    best = next(r for r in searched.results if r.family == choice.family)
    with clock.timed("evaluate"):
        evaluation = evaluate(choice, best, prep, profile.task, opts.seed, profile.facts.get("files"))
    stage("exporting the SavedModel" if fit_plan.backend == "tensorflow" else "exporting model.keras")
    with clock.timed("export"):
        exported = export(choice, best, prep, profile, session.run_dir)
    notes = list(profile.notes) + choice.notes + backbone.unused_note(opts.backbone, profile.modality)
    report = compose(profile, fit_plan, prep, searched, session, choice, evaluation, exported)
    write(report, session, notes, searched.search_s)
    return run.load_run(session.run_dir)


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
    """Terminate local workers (and forget them); one that does not stop within 30 s is killed."""
    for proc in workers:
        proc.terminate()
    for proc in workers:
        try:
            proc.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a stuck worker is killed
            proc.kill()
    workers.clear()
