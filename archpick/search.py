"""The keras-tuner driver: a wall-clock budget, hand-picked first trials, early stopping, leaderboard rows.

Algorithm choice: Bayesian optimisation (keras-tuner's Gaussian-process oracle), seeded with each family's
hand-picked first trials. Hyperband pays off only when a budget covers many brackets of many short
trials; archpick's budgets are minutes on a laptop, where Hyperband would spend most of them on 1-2 epoch
runs that cannot rank deep models and could not finish a bracket. A GP oracle started from good priors,
with early stopping inside each trial, makes every trial count and degrades to random search when few
trials fit, which is the honest baseline for small budgets.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import keras
import keras_tuner
import numpy as np
from keras_tuner.src.engine import trial as trial_module

from archpick import faults
from archpick.hypermodels import heads
from archpick.hypermodels.base import ArchHyperModel
from archpick.memory import current_rss_mb, custom_gradient_keys, forget_custom_gradients, release_memory
from archpick.regime import Regime, choose_regime
from archpick.run import SPENT_FILE  # seconds of budget used so far, for --resume
from archpick.schedule import TrainingLossSchedule

TRIAL_SHARE = 0.4  # one trial may use at most this share of its family's budget
MIN_TRIAL_SECONDS = 15.0
SIDECAR = "archpick_trial.json"


def spent_seconds(project_dir: Path) -> float:
    """Budget seconds a family used in earlier sessions (0 when it never finished a trial)."""
    file = project_dir / SPENT_FILE
    return float(json.loads(file.read_text())["seconds"]) if file.exists() else 0.0


class Clock:
    """A wall-clock budget: a deadline, plus time spent in earlier sessions (resume)."""

    def __init__(self, seconds: float, spent_before: float = 0.0):
        self.seconds = seconds
        self.started = time.monotonic() - spent_before

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.seconds - self.elapsed()


class Progress(Protocol):
    """Receives search events (the CLI shows them with rich)."""

    def trial_started(self, family: str, trial_id: str, remaining: float) -> None: ...

    def trial_ended(self, family: str, row: dict[str, Any], best: float | None, remaining: float) -> None: ...

    def epoch_ended(self, family: str, trial_id: str, epoch: int, logs: dict[str, float]) -> None: ...


class BudgetOracle(keras_tuner.oracles.BayesianOptimizationOracle):
    """Bayesian optimisation that serves hand-picked trials first and never starts a trial it cannot finish.

    Args:
        clock: The family's budget.
        initial_hps: Hand-picked values for the first trials.
        trial_cap: Seconds one trial may run at most.
        **kwargs: Passed to BayesianOptimizationOracle.
    """

    def __init__(self, clock: Clock, initial_hps: list[dict[str, Any]], trial_cap: float, **kwargs):
        super().__init__(**kwargs)
        self.clock = clock
        self.initial_hps = list(initial_hps)
        self.trial_cap = trial_cap
        self.durations: dict[str, float] = {}
        self.workers: dict[str, str] = {}
        self.start_offsets: dict[str, float] = {}  # seconds into the budget at which each trial started
        self._started: dict[str, float] = {}

    def expected_trial_seconds(self) -> float:
        """Median duration of finished trials, capped by the per-trial limit (0 before any finished)."""
        done = list(self.durations.values())
        return min(float(np.median(done)), self.trial_cap) if done else 0.0

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        remaining = self.clock.remaining()
        if remaining <= 0 or (self.durations and remaining < self.expected_trial_seconds()):
            return {"status": trial_module.TrialStatus.STOPPED, "values": None}
        self._started[trial_id] = time.monotonic()
        used = len(self.trials)
        if used < len(self.initial_hps):
            values = {hp.name: hp.default for hp in self.hyperparameters.space}
            values.update({k: v for k, v in self.initial_hps[used].items() if k in values})
            return {"status": trial_module.TrialStatus.RUNNING, "values": values}
        return super().populate_space(trial_id)

    def create_trial(self, tuner_id):
        # Trials interrupted in an earlier session are retried first (keras-tuner's reload); never past the budget.
        if self._retry_queue and self.clock.remaining() <= 0:
            self._retry_queue = []
        trial = super().create_trial(tuner_id)
        if trial.status == trial_module.TrialStatus.RUNNING:
            self._started.setdefault(trial.trial_id, time.monotonic())
            self.start_offsets.setdefault(trial.trial_id, round(self.clock.elapsed(), 3))
            self.workers[trial.trial_id] = tuner_id
        return trial

    def end_trial(self, trial):
        started = self._started.pop(trial.trial_id, None)
        if started is not None:
            self.durations[trial.trial_id] = time.monotonic() - started
        return super().end_trial(trial)

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["archpick"] = {"durations": self.durations, "workers": self.workers, "initial": len(self.initial_hps)}
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.durations = dict(state.get("archpick", {}).get("durations", {}))
        self.workers = dict(state.get("archpick", {}).get("workers", {}))


class TrialRecorder(keras.callbacks.Callback):
    """Stops a trial at its time limit and records epochs, times and parameter count.

    The global deadline is enforced by a timer thread that sets `model.stop_training`, which Keras checks
    after every step; no per-batch callback runs, so training steps are not slowed by Python hooks.

    Args:
        stop_at: Monotonic time after which the trial stops at the end of its current epoch.
        hard_stop_at: Monotonic time at which it stops after the current step, even inside the first epoch.
    """

    def __init__(self, stop_at: float, hard_stop_at: float):
        super().__init__()
        self.stop_at = stop_at
        self.hard_stop_at = hard_stop_at
        self.epoch_seconds: list[float] = []
        self.history: dict[str, list[float]] = {}
        self.params = 0
        self.stopped_by_budget = False
        self.solved = False  # set by cached_fit when the head was solved in closed form, not trained
        self.on_epoch: Any = None  # epoch -> logs -> None: live progress
        self._epoch_start = 0.0
        self._timer: threading.Timer | None = None

    def _hard_stop(self) -> None:
        self.stopped_by_budget = True
        self.model.stop_training = True

    def on_train_begin(self, logs=None):
        self.params = int(self.model.count_params())
        self._arm()

    def _arm(self) -> None:
        """Start the hard stop's timer."""
        self._timer = threading.Timer(max(self.hard_stop_at - time.monotonic(), 0.0), self._hard_stop)
        self._timer.daemon = True
        self._timer.start()

    def on_train_end(self, logs=None):
        if self._timer is not None:
            self._timer.cancel()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        faults.point("trial")
        if self.on_epoch is not None:
            self.on_epoch(epoch, logs or {})
        self.epoch_seconds.append(time.perf_counter() - self._epoch_start)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if time.monotonic() >= self.stop_at and not self.solved:  # a solved head has nothing left to train
            self.stopped_by_budget = True
            self.model.stop_training = True


class StepDeadlineRecorder(TrialRecorder):
    """TrialRecorder for JAX: the hard stop is checked after each step, in the training thread.

    On JAX a stop set by the timer thread inside an epoch left the trainer's validation step reading donated
    buffers ("Buffer has been deleted or donated"); a per-step check costs one clock read per step.
    """

    def _arm(self) -> None:
        pass  # no timer: on_train_batch_end checks the clock

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() >= self.hard_stop_at:
            self._hard_stop()


def trial_recorder(stop_at: float, hard_stop_at: float) -> TrialRecorder:
    """The TrialRecorder for the running backend (see StepDeadlineRecorder)."""
    cls = StepDeadlineRecorder if keras.backend.backend() == "jax" else TrialRecorder
    return cls(stop_at=stop_at, hard_stop_at=hard_stop_at)


class ArchTuner(keras_tuner.Tuner):
    """keras-tuner Tuner with archpick's per-trial seeding, limits, memory hygiene and sidecar records.

    Args:
        oracle: A BudgetOracle.
        hypermodel: An ArchHyperModel.
        seed: Base seed; trial n trains with seed + n.
        progress: Optional progress receiver.
        **kwargs: Passed to keras_tuner.Tuner (directory, project_name, overwrite...).
    """

    def __init__(
        self,
        oracle: BudgetOracle,
        hypermodel: ArchHyperModel,
        seed: int = 0,
        progress: Progress | None = None,
        regime: Regime | None = None,
        **kwargs,
    ):
        # Kept before keras-tuner may wrap the oracle in an OracleClient (distributed workers).
        self.budget_clock = oracle.clock
        self.trial_cap = oracle.trial_cap
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.regime = regime or choose_regime(hypermodel.spec.n_train, 10**6, hypermodel.spec.task)
        self.seed = seed
        self.progress = progress
        self.family = hypermodel.family

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        self.gradients_before = custom_gradient_keys()
        keras.utils.set_random_seed(self.seed + int(trial.trial_id))
        if self.progress:
            self.progress.trial_started(self.family, trial.trial_id, self.budget_clock.remaining())

    def _stop_callbacks(self, objective) -> list[keras.callbacks.Callback]:
        """The regime's callbacks: the training-loss schedule (small data) or validation patience (large)."""
        if self.regime.small:
            return [TrainingLossSchedule(self.regime.min_epochs, self.trial_cap, self.regime.max_epochs)]
        return [
            keras.callbacks.EarlyStopping(
                monitor=objective.name,
                mode=objective.direction,
                patience=self.regime.patience,
                start_from_epoch=self.regime.min_epochs,
            )
        ]

    def _try_build(self, hp):
        self.trial_model = super()._try_build(hp)
        return self.trial_model

    def _build_and_fit_model(self, trial, *args, **kwargs):
        now = time.monotonic()
        hard = now + max(self.budget_clock.remaining(), 0.0)
        recorder = trial_recorder(stop_at=min(hard, now + self.trial_cap), hard_stop_at=hard)
        notify = getattr(self.progress, "epoch_ended", None)
        if notify is not None:
            recorder.on_epoch = lambda epoch, logs: notify(self.family, trial.trial_id, epoch, logs)
        objective = self.oracle.objective
        stoppers = self._stop_callbacks(objective)
        kwargs["callbacks"] = list(kwargs.get("callbacks", [])) + stoppers + [recorder]
        started = time.perf_counter()
        final: dict[str, float] = {}
        try:
            result = super()._build_and_fit_model(trial, *args, **kwargs)
            if self.regime.small and kwargs.get("validation_data") is not None:
                # Score the kept weights (lowest training loss), not the luckiest epoch on a few samples.
                model = self.trial_model  # the full model (a cached fit trains a head that shares its layers)
                scores = model.evaluate(kwargs["validation_data"], verbose=0, return_dict=True)
                final = {f"val_{k}": float(v) for k, v in scores.items()}
                model.save_weights(self._get_checkpoint_fname(trial.trial_id))
                result = final
            return result
        finally:
            record = {
                "seconds": round(time.perf_counter() - started, 3),
                "params": recorder.params,
                "epochs": len(recorder.epoch_seconds),
                "epoch_seconds": [round(s, 4) for s in recorder.epoch_seconds],
                "history": recorder.history,
                "stopped_by_budget": recorder.stopped_by_budget,
                "stop_reason": stop_reason(recorder, stoppers[0], self.regime.max_epochs),
                "val_loss": final.get("val_loss", min(recorder.history.get("val_loss", [math.nan]))),
                "rss_trial_end_mb": current_rss_mb(),  # this trial's model still alive
                "worker": self.tuner_id,
                "family": self.family,
                "variant": self.hypermodel.variant,
            }
            path = Path(self.get_trial_dir(trial.trial_id)) / SIDECAR
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record))

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        self.trial_model = None
        spent = Path(self.project_dir) / SPENT_FILE
        if isinstance(self.oracle, BudgetOracle):
            spent.write_text(json.dumps({"seconds": round(self.budget_clock.elapsed(), 3)}))
        keras.backend.clear_session()
        forget_custom_gradients(getattr(self, "gradients_before", set()))
        gc.collect()
        release_memory()
        sidecar = Path(self.get_trial_dir(trial.trial_id)) / SIDECAR
        if sidecar.exists():  # RSS once the trial's model is freed: what the next trial starts from
            sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "rss_mb": current_rss_mb()}))
        if self.progress:
            local = isinstance(self.oracle, BudgetOracle)
            row = trial_row(self, self.oracle.trials[trial.trial_id] if local else trial)
            self.progress.trial_ended(
                self.family, row, self.best_score() if local else None, self.budget_clock.remaining()
            )

    def best_score(self) -> float | None:
        """The best objective value so far, or None."""
        best = self.oracle.get_best_trials(1)
        return best[0].score if best and best[0].status == "COMPLETED" else None


def stop_reason(recorder: TrialRecorder, stopper: keras.callbacks.Callback, max_epochs: int) -> str:
    """Why a trial ended: "solved" (closed form), "budget", "converged" (training loss), "patience" (validation)
    or "max epochs"."""
    if recorder.solved:
        return "solved"
    if recorder.stopped_by_budget:
        return "budget"
    if isinstance(stopper, TrainingLossSchedule) and stopper.converged:
        return "converged"
    if isinstance(stopper, keras.callbacks.EarlyStopping) and stopper.stopped_epoch > 0:
        return "patience"
    return "max epochs" if len(recorder.epoch_seconds) >= max_epochs else "error"


def active_values(hps: keras_tuner.HyperParameters) -> dict[str, Any]:
    """The hyperparameters that applied to a trial (conditional ones of other branches left out)."""
    return {hp.name: hps.values[hp.name] for hp in hps.space if hp.name in hps.values and hps.is_active(hp)}


def trial_row(tuner: ArchTuner, trial) -> dict[str, Any]:
    """One leaderboard row for a trial: hyperparameters, validation metric, seconds, parameters."""
    sidecar = Path(tuner.get_trial_dir(trial.trial_id)) / SIDECAR
    extra = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    score = trial.score
    return {
        "trial": f"{tuner.family}-{trial.trial_id}",
        "family": tuner.family,
        "variant": extra.get("variant", tuner.hypermodel.variant),
        "status": trial.status,
        "metric": tuner.oracle.objective.name,
        "score": None if score is None or (isinstance(score, float) and math.isnan(score)) else float(score),
        "seconds": extra.get("seconds"),
        "params": extra.get("params"),
        "epochs": extra.get("epochs"),
        "stopped_by_budget": extra.get("stopped_by_budget"),
        "stop_reason": extra.get("stop_reason"),
        "val_loss": _finite_or_none(extra.get("val_loss")),
        "rss_mb": extra.get("rss_mb"),
        "rss_trial_end_mb": extra.get("rss_trial_end_mb"),
        "worker": extra.get("worker") or getattr(tuner.oracle, "workers", {}).get(trial.trial_id),
        "hyperparameters": active_values(trial.hyperparameters),
        "history": extra.get("history", {}),
        "epoch_seconds": extra.get("epoch_seconds", []),
        "message": (trial.message or "").strip().splitlines()[-1][:200] if trial.message else "",
    }


def _finite_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


@dataclass
class FamilyResult:
    """The outcome of searching one family."""

    family: str
    variant: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    best_score: float | None = None
    best_trial: str | None = None
    seconds: float = 0.0
    budget: float = 0.0
    tuner: Any = None
    data: tuple[Any, Any] | None = None

    def best_model(self) -> keras.Model:
        """The best trial's model, restored from its checkpoint; retrained when the checkpoint is elsewhere
        (a worker on another machine without a shared run directory)."""
        try:
            return self.tuner.get_best_models(1)[0]
        except (OSError, ValueError, FileNotFoundError):
            if self.data is None:
                raise
        trial = self.tuner.oracle.get_best_trials(1)[0]
        model = self.tuner.hypermodel.build(trial.hyperparameters)
        train_ds, val_ds = self.data
        self.tuner.hypermodel.fit(
            trial.hyperparameters,
            model,
            train_ds,
            validation_data=val_ds,
            epochs=max(int(trial.best_step or 0) + 1, 1),
            verbose=0,
        )
        return model

    def best_row(self) -> dict[str, Any] | None:
        for row in self.rows:
            if row["trial"] == self.best_trial:
                return row
        return None


@dataclass
class SearchSetup:
    """What searching one family needs, the same for the local search, the chief and a worker.

    Attributes:
        hypermodel: The family's HyperModel.
        train_ds: Training batches.
        val_ds: Validation batches.
        directory: Where keras-tuner keeps its state (RUN_DIR/tuner).
        budget_seconds: Wall-clock seconds for this family.
        max_trials: Upper bound on trials (None: as many as the budget allows).
        seed: Base seed.
        regime: How trials train and stop (None: the large-data regime).
        trial_cap: Seconds one trial may run (None: TRIAL_SHARE of the budget, at least MIN_TRIAL_SECONDS).
        progress: Optional progress receiver.
        tensorboard: Write TensorBoard logs under the family's folder.
        distribution_strategy: A tf.distribute strategy, or None.
    """

    hypermodel: ArchHyperModel
    train_ds: Any
    val_ds: Any
    directory: Path
    budget_seconds: float
    max_trials: int | None = None
    seed: int = 0
    regime: Regime | None = None
    trial_cap: float | None = None
    progress: Progress | None = None
    tensorboard: bool = True
    distribution_strategy: Any = None

    def oracle(self, spent_before: float) -> BudgetOracle:
        """The family's BudgetOracle, with `spent_before` seconds of the budget already used."""
        return BudgetOracle(
            clock=Clock(self.budget_seconds, spent_before),
            initial_hps=self.hypermodel.initial_hps(),
            trial_cap=self.trial_cap or max(self.budget_seconds * TRIAL_SHARE, MIN_TRIAL_SECONDS),
            objective=heads.objective(self.hypermodel.spec.task),
            max_trials=self.max_trials or 999,
            num_initial_points=3,
            seed=self.seed,
            max_consecutive_failed_trials=3,
        )

    def tuner(self, oracle: BudgetOracle, overwrite: bool) -> ArchTuner:
        """The one tuner builder (keras-tuner's "Reloading Tuner from ..." is silenced)."""
        regime = self.regime or choose_regime(self.hypermodel.spec.n_train, 10**6, self.hypermodel.spec.task)
        with contextlib.redirect_stdout(io.StringIO()):
            return ArchTuner(
                oracle,
                self.hypermodel,
                seed=self.seed,
                progress=self.progress,
                regime=regime,
                directory=str(self.directory),
                project_name=self.hypermodel.family,
                overwrite=overwrite,
                distribution_strategy=self.distribution_strategy,
            )

    def run(self, tuner: ArchTuner) -> None:
        """Run the search; the regime's stopping callbacks are added per trial by the tuner."""
        callbacks: list[keras.callbacks.Callback] = []
        if self.tensorboard and keras.backend.backend() == "tensorflow":  # the callback writes through tf.summary
            callbacks.append(
                keras.callbacks.TensorBoard(
                    log_dir=str(self.directory / self.hypermodel.family / "logs"), write_graph=False, profile_batch=0
                )
            )
        tuner.search(
            self.train_ds, validation_data=self.val_ds, epochs=tuner.regime.max_epochs, callbacks=callbacks, verbose=0
        )

    def result(self, tuner: ArchTuner, seconds: float) -> FamilyResult:
        """The family's leaderboard rows and best trial."""
        rows = [trial_row(tuner, t) for t in sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)]
        best = [t for t in tuner.oracle.get_best_trials(1) if t.status == "COMPLETED"]
        family = self.hypermodel.family
        return FamilyResult(
            family=family,
            variant=self.hypermodel.variant,
            rows=rows,
            best_score=float(best[0].score) if best else None,
            best_trial=f"{family}-{best[0].trial_id}" if best else None,
            seconds=round(seconds, 3),
            budget=self.budget_seconds,
            tuner=tuner,
            data=(self.train_ds, self.val_ds),
        )


def search_family(setup: SearchSetup, resume: bool = False, spent_before: float = 0.0) -> FamilyResult:
    """Tune one family in this process within its budget.

    Args:
        setup: The family, data and limits.
        resume: Continue from the state in `setup.directory`; the budget counts the seconds spent before.
        spent_before: Budget seconds already used elsewhere (the larger of this and the saved figure counts).

    Returns:
        The FamilyResult with leaderboard rows.
    """

    def search(oracle: BudgetOracle, tuner: ArchTuner) -> None:
        if oracle.clock.remaining() > 0:
            setup.run(tuner)

    return _drive(setup, resume, spent_before, search)


def serve_family(setup: SearchSetup, port: int, resume: bool = False) -> FamilyResult:
    """Be the chief for one family: serve its oracle to workers on `port` until the budget is spent.

    Returns:
        The FamilyResult with the workers' trials.
    """
    from archpick.distributed import serve_oracle

    return _drive(setup, resume, 0.0, lambda oracle, tuner: serve_oracle(oracle, port))


def _drive(setup: SearchSetup, resume: bool, spent_before: float, drive) -> FamilyResult:
    """Build the oracle and tuner (counting the seconds spent before a resume), `drive` them, and collect."""
    if resume:
        spent_before = max(spent_before, spent_seconds(setup.directory / setup.hypermodel.family))
    started = time.monotonic()
    oracle = setup.oracle(spent_before)
    tuner = setup.tuner(oracle, overwrite=not resume)
    drive(oracle, tuner)
    return setup.result(tuner, time.monotonic() - started + spent_before)


def work_family(setup: SearchSetup, host: str, port: int, tuner_id: str) -> FamilyResult:
    """Be a worker for one family: run the trials the chief at host:port hands out.

    Returns:
        A FamilyResult without rows (the chief reports the trials).
    """
    from archpick.distributed import worker_env

    started = time.monotonic()
    with worker_env(host, port, tuner_id), contextlib.redirect_stdout(io.StringIO()):
        tuner = setup.tuner(setup.oracle(0.0), overwrite=False)
        setup.run(tuner)
    return FamilyResult(
        family=setup.hypermodel.family,
        variant=setup.hypermodel.variant,
        budget=setup.budget_seconds,
        seconds=round(time.monotonic() - started, 2),
        tuner=tuner,
    )
