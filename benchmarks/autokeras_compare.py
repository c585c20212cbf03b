"""Side-by-side: archpick vs AutoKeras 3.0.0 on data/digits and data/reviews, same split, machine and budget.

One command runs, for each dataset in turn, archpick (in its own virtual environment) and then AutoKeras (in a
second one with keras 3.12.0, see benchmarks/requirements-autokeras.txt), each in a child process under the
same wall-clock budget, and prints a markdown report (also written to benchmarks/AUTOKERAS.md):

    .venv/bin/python benchmarks/autokeras_compare.py --budget 3m --ak-python /work/ak-venv/bin/python

How each tool is run and timed (wall seconds are always counted from the launch of the child process):

- archpick: `archpick fit DATA --time BUDGET --seed 0 --out TMP -q`; test accuracy and split from report.json.
- AutoKeras: ImageClassifier (digits, as uint8 arrays of shape (N, 8, 8, 1)) or TextClassifier (reviews, the raw
  strings) with its default task-specific tuner, `seed=0`, a fixed `epochs` per trial, trained on archpick's
  train split with archpick's validation split as `validation_data`, scored on archpick's test split (the same
  indices: `archpick.splits.split_indices(y, "stratified", seed=0)`). AutoKeras has no time budget, so this
  script gives it one: the search stops at `BUDGET - (estimated final refit) - 5 s` (between trials, or in the
  middle of a trial by a Keras callback), then AutoKeras does its own final refit of the best trial and
  predicts the test split through its public API. One training step cannot be interrupted, so a slow trial (its
  second hand-picked image trial is a ResNet50 at 224x224) can overrun: each process is killed at
  `1.2 x BUDGET + 10 s`, and AutoKeras's accuracy at the budget is then read from its curve.
- The AutoKeras curve: after each trial the best trial so far is restored from its checkpoint and scored on the
  test split; the clock is paused while that happens, so it costs AutoKeras nothing.

Takes about 2 x (2 x BUDGET + 30 s): 12 minutes with the default 3 minute budget on 2 CPU cores.
The AutoKeras environment (outside the repository):

    python3 -m venv /work/ak-venv
    /work/ak-venv/bin/pip install -r benchmarks/requirements-autokeras.txt
    /work/ak-venv/bin/pip install --no-deps -e .
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {"digits": "data/digits", "reviews": "data/reviews"}
HP_SHOWN = ("block_type", "max_tokens", "optimizer", "learning_rate")  # shown in the AutoKeras curve
MARGIN_S = 5.0  # kept back for AutoKeras's test prediction and saving its best model
_STATE: dict[str, Any] = {}  # AutoKeras worker clock, shared by deep copies of the deadline callback


# --------------------------------------------------------------------------------------------- shared helpers


def parse_budget(text: str) -> float:
    """Seconds in a budget such as "3m", "90s" or "120".

    Args:
        text: The budget as typed.

    Returns:
        Seconds.
    """
    from archpick.options import parse_duration

    return parse_duration(text)


def load_split(name: str, seed: int) -> dict[str, Any]:
    """archpick's own loading and split of a dataset (no TensorFlow).

    Args:
        name: "digits" or "reviews".
        seed: archpick's seed (the split's random state).

    Returns:
        Dict with the Bundle, the Split and a digest of the test indices.
    """
    import numpy as np

    from archpick.datasets import load, profile_path
    from archpick.splits import split_indices

    profile = profile_path(ROOT / DATASETS[name])
    bundle = load(profile)
    y = np.asarray(bundle.y)
    split = split_indices(y, bundle.split, seed, bundle.x_test is not None)
    digest = hashlib.sha256(np.asarray(split.test, dtype=np.int64).tobytes()).hexdigest()[:12]
    return {"bundle": bundle, "split": split, "test_digest": digest}


def machine() -> dict[str, Any]:
    """The machine: CPU cores, RAM, GPU (nvidia-smi), OS and Python."""
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    gpu = "none"
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            gpu = out.stdout.strip().replace("\n", "; ")
    except (OSError, subprocess.SubprocessError):
        pass
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 2**20, 1),
        "gpu": gpu,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def loadavg() -> str:
    """The 1-minute load average (other work on the machine skews both tools' timings)."""
    return Path("/proc/loadavg").read_text().split()[0]


# ------------------------------------------------------------------------------------------- AutoKeras worker


def _arrays(name: str, seed: int) -> dict[str, Any]:
    import numpy as np

    data = load_split(name, seed)
    bundle, split = data["bundle"], data["split"]
    if bundle.decode is not None:
        x = np.stack([np.asarray(bundle.decode(p)) for p in bundle.x]).astype("uint8")
        if x.ndim == 3:
            x = x[..., None]
    else:
        x = np.asarray([str(t) for t in bundle.x])
    labels = np.asarray(bundle.class_names)[np.asarray(bundle.y)]  # class names: AutoKeras predicts strings
    return {"x": x, "y": labels, "split": split, "test_digest": data["test_digest"], "shape": list(x.shape)}


def _clock() -> float:
    """Worker seconds since the launch of its process, without the paused (curve-scoring) time."""
    return time.time() - _STATE["t0"] - _STATE["paused"]


def _search_deadline() -> float:
    return _STATE["budget"] - _STATE["refit_estimate"] - MARGIN_S


def _make_tuner(base: type, auto_model_ref: list, x_test: Any, y_test: Any) -> type:
    """A subclass of AutoKeras's task tuner that scores the best trial after each trial and stops at the deadline."""
    import numpy as np
    from autokeras import pipeline as pipeline_module

    class BudgetTuner(base):  # type: ignore[misc, valid-type]
        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            _STATE["trial_started"] = _clock()

        def pre_create_trial(self):
            super().pre_create_trial()
            if self.oracle.trials and _clock() >= _search_deadline():
                self.oracle.max_trials = len(self.oracle.trials)  # the oracle now answers STOPPED

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            ended = _clock()
            seconds = ended - _STATE.pop("trial_started", ended)
            paused_at = time.time()
            best = self.oracle.get_best_trials(1)
            point = {
                "trial": len(_STATE["points"]) + 1,
                "trial_id": trial.trial_id,
                "status": trial.status,
                "seconds": round(seconds, 2),
                "val_loss": trial.score,
                "wall_s": round(ended, 2),
                "cut_by_deadline": _STATE.get("cut", False),
                "hp": {
                    k.split("/")[-1]: v for k, v in trial.hyperparameters.values.items() if k.split("/")[-1] in HP_SHOWN
                },
            }
            _STATE["cut"] = False
            done = max(_STATE.get("epochs_done", 0), 1)
            point["epochs_done"] = _STATE.get("epochs_done", 0)
            # the refit trains all the epochs: scale up a trial cut short (by the deadline or by early stopping)
            full = seconds * max(_STATE["epochs"] / done, 1.0)
            _STATE["durations"][trial.trial_id] = full
            if best:
                best_id = best[0].trial_id
                _STATE["refit_estimate"] = _STATE["durations"].get(best_id, full)
                point["best_trial_id"] = best_id
                point["refit_estimate_s"] = round(_STATE["refit_estimate"], 2)
                if best_id != _STATE.get("scored_id"):
                    try:
                        model = self.load_model(best[0])
                        pipe = pipeline_module.load_pipeline(self._pipeline_path(best_id))
                        dataset = pipe.transform_x(auto_model_ref[0]._adapt(x_test, auto_model_ref[0].inputs))
                        pred = pipe.postprocess(model.predict(dataset, verbose=0))
                        _STATE["scored_acc"] = float(np.mean(np.asarray(pred).ravel() == y_test))
                    except Exception as exc:  # noqa: BLE001 - the curve is best effort; the final score is not
                        _STATE["scored_acc"] = None
                        point["score_error"] = f"{type(exc).__name__}: {exc}"[:300]
                    _STATE["scored_id"] = best_id
                point["test_acc_best_so_far"] = _STATE.get("scored_acc")
            point["score_s"] = round(time.time() - paused_at, 2)
            _STATE["points"].append(point)
            _STATE["paused"] += time.time() - paused_at
            _STATE["write"]({"status": "running", "points": _STATE["points"]})
            print(
                f"[autokeras] trial {point['trial']} ({point['hp']}) {seconds:.1f}s "
                f"val_loss={trial.score} best-so-far test acc={point.get('test_acc_best_so_far')} "
                f"wall={ended:.1f}s",
                file=sys.stderr,
                flush=True,
            )

        def on_search_end(self):
            super().on_search_end()
            _STATE["search_end"] = _clock()
            _STATE["searching"] = False

    return BudgetTuner


def autokeras_worker(
    name: str, budget: float, epochs: int, seed: int, t0: float, workdir: Path, result_path: Path
) -> int:
    """Run AutoKeras on one dataset (inside the AutoKeras virtual environment) and write a JSON result.

    Args:
        name: "digits" or "reviews".
        budget: Wall-clock budget in seconds, counted from `t0`.
        epochs: Epochs per trial (and for AutoKeras's final refit).
        seed: Split seed and AutoKeras seed.
        t0: time.time() at the launch of this process (set by the parent).
        workdir: AutoKeras's project directory parent.
        result_path: Where to write the JSON result.

    Returns:
        Process exit code.
    """
    _STATE.update(
        {
            "t0": t0,
            "paused": 0.0,
            "budget": budget,
            "epochs": epochs,
            "refit_estimate": 0.0,
            "points": [],
            "durations": {},
            "searching": True,
            "cut": False,
        }
    )
    result: dict[str, Any] = {"dataset": name, "budget_s": budget, "epochs": epochs, "seed": seed}

    def write(update: dict[str, Any]) -> None:  # after every trial, so a killed worker still leaves its curve
        result.update(update)
        tmp = result_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1, default=str))
        tmp.replace(result_path)

    _STATE["write"] = write
    try:
        import numpy as np

        data = _arrays(name, seed)
        split = data["split"]
        x, y = data["x"], data["y"]
        result.update(
            {
                "test_digest": data["test_digest"],
                "x_shape": data["shape"],
                "split": {"train": len(split.train), "validation": len(split.val), "test": len(split.test)},
            }
        )
        result["load_s"] = round(_clock(), 2)
        import autokeras as ak
        import keras
        import keras_tuner
        import tensorflow as tf

        result["versions"] = {
            "autokeras": ak.__version__,
            "keras": keras.__version__,
            "keras_tuner": keras_tuner.__version__,
            "tensorflow": tf.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        }
        result["import_s"] = round(_clock() - result["load_s"], 2)
        from autokeras.tuners import task_specific

        class Deadline(keras.callbacks.Callback):
            """Stops a trial's training at the search deadline (AutoKeras itself has no time budget)."""

            def on_train_begin(self, logs=None):
                _STATE["epochs_done"] = 0

            def on_epoch_end(self, epoch, logs=None):
                _STATE["epochs_done"] = _STATE.get("epochs_done", 0) + 1

            def on_train_batch_end(self, batch, logs=None):
                if _STATE["searching"] and _clock() >= _search_deadline():
                    _STATE["cut"] = True
                    self.model.stop_training = True

            def on_test_batch_end(self, batch, logs=None):
                if _STATE["searching"] and _clock() >= _search_deadline():
                    _STATE["cut"] = True
                    self.model.stop_evaluating = True

        x_test, y_test = x[split.test], y[split.test]
        ref: list = []
        if name == "digits":
            classifier, tuner_class = ak.ImageClassifier, task_specific.ImageClassifierTuner
        else:
            classifier, tuner_class = ak.TextClassifier, task_specific.TextClassifierTuner
        clf = classifier(
            max_trials=1000,
            overwrite=True,
            directory=str(workdir),
            seed=seed,
            project_name=f"ak_{name}",
            tuner=_make_tuner(tuner_class, ref, x_test, y_test),
        )
        ref.append(clf)
        fit_started = _clock()
        clf.fit(
            x[split.train],
            y[split.train],
            validation_data=(x[split.val], y[split.val]),
            epochs=epochs,
            callbacks=[Deadline()],
            verbose=0,
        )
        fit_ended = _clock()
        pred = clf.predict(x_test, verbose=0)
        accuracy = float(np.mean(np.asarray(pred).ravel() == y_test))
        wall = _clock()
        search_end = _STATE.get("search_end", fit_ended)
        result.update(
            {
                "test_accuracy": accuracy,
                "wall_s": round(wall, 2),
                "fit_started_s": round(fit_started, 2),
                "search_end_s": round(search_end, 2),
                "refit_s": round(fit_ended - search_end, 2),
                "predict_s": round(wall - fit_ended, 2),
                "paused_s": round(_STATE["paused"], 2),
                "trials": len(_STATE["points"]),
                "points": _STATE["points"],
                "status": "ok",
            }
        )
        code = 0
    except Exception as exc:  # noqa: BLE001 - a crash is a result worth recording
        lines = traceback.format_exc().strip().splitlines()
        result.update(
            {
                "status": "crashed",
                "error": f"{type(exc).__name__}: {exc}"[:500],
                "traceback_tail": lines[-12:],
                "points": _STATE["points"],
                "wall_s": round(_clock(), 2),
            }
        )
        traceback.print_exc()
        code = 1
    write({})
    return code


# -------------------------------------------------------------------------------------------------- the parent


def run_child(
    cmd: list[str], log: Path, env: dict[str, str] | None = None, timeout: float | None = None
) -> tuple[float, int | None]:
    """Run a command, stdout and stderr to `log`; kill it after `timeout` seconds.

    Returns:
        (wall seconds, exit code or None when it was killed).
    """
    started = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
    return time.monotonic() - started, code


def last_error(log: Path) -> str:
    """The last line of a log that looks like an error."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    hits = [ln for ln in lines if "Error" in ln or "error:" in ln.lower() or "Exception" in ln]
    return (hits or lines or ["(no output)"])[-1][:300]


def run_archpick(
    exe: str, name: str, budget_text: str, seed: int, out: Path, logs: Path, timeout: float
) -> dict[str, Any]:
    """`archpick fit` on one dataset in archpick's own environment; the facts from its report.json."""
    cmd = [exe, "fit", DATASETS[name], "--time", budget_text, "--seed", str(seed), "--out", str(out), "-q"]
    load_before = loadavg()
    log = logs / f"archpick_{name}.log"
    wall, code = run_child(cmd, log, {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout)
    res: dict[str, Any] = {
        "wall_s": round(wall, 2),
        "exit": code,
        "load_before": load_before,
        "load_after": loadavg(),
        "command": shlex.join(cmd),
    }
    report_file = out / "report.json"
    if code != 0 or not report_file.exists():
        res.update({"status": "crashed" if code is not None else "killed", "error": last_error(log)})
        return res
    rep = json.loads(report_file.read_text())
    rows = rep.get("leaderboard", [])
    res.update(
        {
            "status": "ok",
            "test_accuracy": rep["final"]["metrics"]["accuracy"],
            "used_s": rep["budget"]["used_s"],
            "split": rep["split"],
            "winner": f"{rep['final']['family']} ({rep['final']['variant']})",
            "best_trial": rep["final"]["trial"],
            "timings": rep.get("timings", {}),
            "rows": [{k: r.get(k) for k in ("trial", "family", "status", "score", "seconds", "epochs")} for r in rows],
        }
    )
    return res


def archpick_time_to(res: dict[str, Any], target: float) -> tuple[float | None, str]:
    """Estimated archpick wall seconds to a model of test accuracy >= target, from its one budget-long run.

    The run as if its search had stopped after the first trial that reached the target: its measured wall time
    minus the seconds of the trials that came after that trial (start-up, evaluation, export and report are kept).
    When the target is archpick's own final test accuracy, that trial is the exported one; otherwise the first
    trial whose validation accuracy reaches the target stands in for it (validation accuracy as a proxy).
    """
    rows = res.get("rows", [])
    if target >= res["test_accuracy"] - 1e-9:
        index = next((i for i, r in enumerate(rows) if r["trial"] == res["best_trial"]), None)
        how = "exported trial"
    else:
        index = next((i for i, r in enumerate(rows) if (r["score"] or 0.0) >= target), None)
        how = "first trial with val acc >= target"
    if index is None:
        return None, "not reached"
    later = sum(float(r["seconds"] or 0.0) for r in rows[index + 1 :])
    if later == 0:
        return res["wall_s"], f"measured ({how} {rows[index]['trial']} was the last trial)"
    return round(res["wall_s"] - later, 1), f"estimated: wall minus the trials after {how} {rows[index]['trial']}"


def _delivered(res: dict[str, Any], point: dict[str, Any]) -> float:
    """When AutoKeras would have handed over a model had its search stopped after this trial."""
    predict = res.get("predict_s") or point.get("score_s") or 0.0
    return point["wall_s"] + point.get("refit_estimate_s", point["seconds"]) + predict


def _measured_in_budget(res: dict[str, Any]) -> bool:
    return res.get("status") == "ok" and res["wall_s"] <= res["budget_s"] * 1.03 + 2.0


def autokeras_at_budget(res: dict[str, Any]) -> tuple[float | None, str]:
    """AutoKeras's test accuracy at the budget.

    Measured when its process (search stopped at the deadline, its own refit, predict) ended within the budget;
    otherwise from the curve: the best-so-far checkpoint after the last trial that, with the refit estimate and
    the prediction time, would have been delivered within the budget.
    """
    if _measured_in_budget(res):
        return res["test_accuracy"], "measured"
    fits = [
        p
        for p in res.get("points", [])
        if p.get("test_acc_best_so_far") is not None and _delivered(res, p) <= res.get("budget_s", 0.0)
    ]
    if not fits:
        return None, "no trial finished in time"
    p = fits[-1]
    return p["test_acc_best_so_far"], (
        f"curve: best checkpoint after trial {p['trial']} (ends {_delivered(res, p):.0f} s with refit estimate)"
    )


def autokeras_time_to(res: dict[str, Any], target: float) -> tuple[float | None, str]:
    """AutoKeras wall seconds to a model of test accuracy >= target, from its curve (or the measured end).

    The end of the first trial whose best-so-far checkpoint scores >= target on the test split, plus the refit of
    that best trial (estimated as its own training seconds) and the prediction time. When no checkpoint reaches it
    but the final, refitted model does, the measured end-to-end wall time.
    """
    for p in res.get("points", []):
        if p.get("test_acc_best_so_far") is not None and p["test_acc_best_so_far"] >= target - 1e-9:
            if res.get("status") == "ok" and p is res["points"][-1]:
                return res["wall_s"], "measured (final model)"
            return round(_delivered(res, p), 1), f"estimated: trial {p['trial']} + refit estimate + predict"
    if res.get("status") == "ok" and res["test_accuracy"] >= target - 1e-9:
        return res["wall_s"], "measured (final model)"
    return None, "not reached"


def fmt(value: float | None, digits: int = 4) -> str:
    """A number for a table cell, or an en dash."""
    return "–" if value is None else f"{value:.{digits}f}"


def summarise(r: dict[str, Any]) -> dict[str, Any]:
    """The comparison numbers for one dataset."""
    ap, ak = r["archpick"], r["autokeras"]
    ap_acc = ap.get("test_accuracy") if ap.get("status") == "ok" else None
    ak_acc, ak_how = autokeras_at_budget(ak)
    out: dict[str, Any] = {
        "ap_acc": ap_acc,
        "ak_acc": ak_acc,
        "ak_how": ak_how,
        "target": None,
        "ap_to": (None, "–"),
        "ak_to": (None, "–"),
    }
    if ap_acc is not None and ak_acc is not None:
        out["target"] = min(ap_acc, ak_acc)
        out["ap_to"] = archpick_time_to(ap, out["target"])
        out["ak_to"] = autokeras_time_to(ak, out["target"])
    return out


def render(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    """The markdown report."""
    m = meta["machine"]
    lines = [
        "# archpick vs AutoKeras 3.0.0",
        "",
        f"- date: {meta['date']}",
        f"- machine: {m['nproc']} CPU cores ({m['cpu']}), {m['ram_gib']} GiB RAM, GPU: {m['gpu']}; {m['os']}",
        f"- command (repository root): `{meta['command']}`",
        f"- budget: {meta['budget_s']:.0f} s per tool per dataset; AutoKeras: {meta['epochs']} epochs per trial, "
        f"its default task tuner; seed {meta['seed']}; the whole comparison took {meta['total_s'] / 60:.1f} min",
        f"- archpick environment (/work/main/.venv): {meta['archpick_versions']}",
        f"- AutoKeras environment ({meta['ak_python']}): {meta['ak_versions']}",
        "",
        "## Test accuracy at equal wall time",
        "",
        "| dataset | split train/val/test | archpick: test acc (wall s, trials) | AutoKeras: test acc at the budget "
        "| AutoKeras: how | AutoKeras at its own end: test acc (wall s, trials) |",
        "|---|---|---|---|---|---|",
    ]
    sums = {name: summarise(r) for name, r in results.items()}
    for name, r in results.items():
        ap, ak, s = r["archpick"], r["autokeras"], sums[name]
        sp = r["split"]
        ap_cell = (
            f"**{fmt(s['ap_acc'])}** ({ap['wall_s']:.0f} s, {len(ap['rows'])})"
            if s["ap_acc"] is not None
            else f"{ap.get('status')}: {ap.get('error', '')}"
        )
        if ak.get("status") == "ok":
            end = f"{fmt(ak['test_accuracy'])} ({ak['wall_s']:.0f} s, {ak['trials']})"
        elif ak.get("status") == "killed":
            end = f"killed at {ak.get('process_wall_s', 0):.0f} s during trial {len(ak.get('points', [])) + 1}"
        else:
            end = f"{ak.get('status')}: `{ak.get('error', '')}`"
        lines.append(
            f"| {name} | {sp['train']}/{sp['validation']}/{sp['test']} | {ap_cell} | **{fmt(s['ak_acc'])}** "
            f"| {s['ak_how']} | {end} |"
        )
    lines += [
        "",
        "## Wall time to equal accuracy (target: the lower of the two accuracies above)",
        "",
        "| dataset | target test acc | archpick: wall s | archpick: how | AutoKeras: wall s | AutoKeras: how |",
        "|---|---|---|---|---|---|",
    ]
    for name in results:
        s = sums[name]
        lines.append(
            f"| {name} | {fmt(s['target'])} | {fmt(s['ap_to'][0], 0)} | {s['ap_to'][1]} "
            f"| {fmt(s['ak_to'][0], 0)} | {s['ak_to'][1]} |"
        )
    lines += ["", "## Details", ""]
    for name, r in results.items():
        ap, ak = r["archpick"], r["autokeras"]
        lines += [f"### {name}", ""]
        lines.append(f"- same split for both: {r['same_split']} (test-index digest {r['digest']}; {r['split']['how']})")
        lines.append(
            f"- 1-min load average before/after: archpick {ap.get('load_before')}/{ap.get('load_after')}, "
            f"AutoKeras {ak.get('load_before')}/{ak.get('load_after')}"
        )
        if ap.get("status") == "ok":
            lines.append(
                f"- archpick: winner {ap['winner']}, trial {ap['best_trial']}; report used_s {ap['used_s']}; "
                f"timings {ap['timings']}"
            )
            lines.append(
                "- archpick trials (validation accuracy / seconds): "
                + ", ".join(f"{row['trial']} {fmt(row['score'], 3)} / {fmt(row['seconds'], 1)}" for row in ap["rows"])
            )
        else:
            lines.append(f"- archpick {ap.get('status')}: {ap.get('error')}")
        if ak.get("status") == "ok":
            lines.append(
                f"- AutoKeras: input {ak['x_shape']}; data {ak['load_s']} s, imports {ak['import_s']} s, "
                f"search ended at {ak['search_end_s']} s, final refit {ak['refit_s']} s, predict "
                f"{ak['predict_s']} s; scoring the curve paused the clock for {ak['paused_s']} s"
            )
        elif ak.get("status") == "killed":
            lines.append(
                f"- AutoKeras was killed at {ak.get('process_wall_s')} s (hard limit) inside a trial that "
                "could not be interrupted (one training step is not interruptible)"
            )
        else:
            lines.append(f"- AutoKeras {ak.get('status')}: `{ak.get('error')}`")
            lines += [f"    {ln}" for ln in ak.get("traceback_tail", [])[-4:]]
        if ak.get("points"):
            lines.append(
                "- AutoKeras curve (trial: main hyperparameters, seconds, val_loss, best-so-far test "
                "accuracy, wall s at trial end):"
            )
            for p in ak["points"]:
                cut = " (cut at the deadline)" if p.get("cut_by_deadline") else ""
                err = f" [{p['score_error']}]" if p.get("score_error") else ""
                block = ", ".join(f"{k} {v}" for k, v in p["hp"].items()) or "-"
                lines.append(
                    f"    - {p['trial']}: {block}, {p['seconds']} s, val_loss {fmt(p['val_loss'])}, test "
                    f"{fmt(p.get('test_acc_best_so_far'))}, wall {p['wall_s']} s{cut}{err}"
                )
        lines.append("")
    lines += [
        "## How to read this",
        "",
        "- Wall seconds run from the launch of each tool's process: to its exit for archpick (search, test"
        " evaluation, SavedModel export and report included) and to AutoKeras's test predictions for AutoKeras"
        " (search, its final refit and prediction). Both include Python start-up, the TensorFlow import and data"
        " loading.",
        "- Both tools see the same data: archpick's stratified split (seed 0); AutoKeras trains on the train part"
        " with the validation part as `validation_data`, and both are scored on the same held-out test part.",
        "- AutoKeras has no time budget. The search is stopped at the budget minus its estimated final refit and"
        " 5 s (between trials, or mid-trial by a Keras callback that ends training and validation after the current"
        " batch), then AutoKeras refits the best trial and predicts as usual. A single training step cannot be"
        " interrupted, so a slow trial can carry it past the budget; the process is killed at"
        f" {meta['hard_factor']:.2f} x the budget + 10 s. When AutoKeras ends past the budget, its accuracy at the"
        " budget comes from its curve.",
        "- The curve: after each AutoKeras trial, the best trial so far (by val_loss, AutoKeras's objective) is"
        ' restored from its checkpoint and scored on the test split, with the clock paused. "Delivered" times add'
        " that best trial's own seconds as the estimate of AutoKeras's final refit (scaled by epochs / epochs"
        " trained when the deadline or early stopping cut that trial short), and the prediction time.",
        "- archpick's time to the target is estimated from its single budget-long run: its measured wall time minus"
        " the seconds of the trials after the one that reached the target (the exported trial when the target is"
        " archpick's own accuracy, otherwise the first trial whose validation accuracy reaches the target).",
        "- The machine was shared with other work during the run (see the load averages); both tools saw it, one"
        " after the other, so single-run timings are only indicative.",
    ]
    return "\n".join(lines) + "\n"


def versions_main(exe: str) -> str:
    """Versions in archpick's environment."""
    code = (
        "import importlib.metadata as m, platform; print(', '.join(f'{p} {m.version(p)}' for p in "
        "('archpick', 'tensorflow', 'keras', 'keras-tuner', 'numpy')) + ', python ' + platform.python_version())"
    )
    python = Path(exe).with_name("python")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip()[-200:]


def main(argv: list[str] | None = None) -> int:
    """Parse options; run the comparison, or (with --worker) one AutoKeras job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="3m", help="wall-clock budget per tool per dataset (default 3m)")
    parser.add_argument("--datasets", default="digits,reviews", help="comma-separated: digits, reviews")
    parser.add_argument(
        "--ak-python",
        default="/work/ak-venv/bin/python",
        help="python of the AutoKeras environment (benchmarks/requirements-autokeras.txt)",
    )
    parser.add_argument(
        "--archpick",
        default=str(Path(sys.executable).with_name("archpick")),
        help="archpick executable of archpick's own environment",
    )
    parser.add_argument("--epochs", type=int, default=20, help="AutoKeras epochs per trial (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--hard-factor",
        type=float,
        default=1.2,
        help="kill a tool's process after this many budgets plus 10 s (default 1.2)",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="keep run folders and logs here")
    parser.add_argument(
        "--write", default=str(ROOT / "benchmarks" / "AUTOKERAS.md"), help="markdown file to write ('-' for none)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    budget = parse_budget(args.budget)
    if args.worker:
        return autokeras_worker(args.worker, budget, args.epochs, args.seed, args.t0, args.workdir, args.result)

    started = time.monotonic()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="archpick-vs-autokeras-"))
    workdir.mkdir(parents=True, exist_ok=True)
    hard = budget * args.hard_factor + 10.0
    command = [os.path.relpath(sys.executable, ROOT), os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "command": shlex.join(command),
        "budget_s": budget,
        "epochs": args.epochs,
        "seed": args.seed,
        "hard_factor": args.hard_factor,
        "ak_python": args.ak_python,
        "archpick_versions": versions_main(args.archpick),
    }
    results: dict[str, dict[str, Any]] = {}
    for name in [n.strip() for n in args.datasets.split(",") if n.strip()]:
        ours = load_split(name, args.seed)
        print(f"[{name}] archpick, {budget:.0f} s ...", file=sys.stderr, flush=True)
        ap = run_archpick(args.archpick, name, args.budget, args.seed, workdir / f"archpick_{name}", workdir, hard)
        print(
            f"[{name}] archpick: {ap.get('test_accuracy')} in {ap['wall_s']} s; AutoKeras ...",
            file=sys.stderr,
            flush=True,
        )
        result_path = workdir / f"autokeras_{name}.json"
        result_path.unlink(missing_ok=True)
        load_before = loadavg()
        cmd = [
            args.ak_python,
            str(Path(__file__).resolve()),
            "--worker",
            name,
            "--budget",
            args.budget,
            "--epochs",
            str(args.epochs),
            "--seed",
            str(args.seed),
            "--workdir",
            str(workdir / "ak"),
            "--result",
            str(result_path),
            "--t0",
            repr(time.time()),
        ]
        log = workdir / f"autokeras_{name}.log"
        wall, code = run_child(cmd, log, {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}, hard)
        ak: dict[str, Any] = json.loads(result_path.read_text()) if result_path.exists() else {}
        ak.setdefault("budget_s", budget)
        if code is None:
            ak["status"] = "killed"
        elif ak.get("status") != "ok":
            ak.setdefault("error", last_error(log))
            ak["status"] = "crashed"
        ak.update({"process_wall_s": round(wall, 2), "exit": code, "load_before": load_before, "load_after": loadavg()})
        print(
            f"[{name}] AutoKeras: {ak.get('test_accuracy')} in {ak.get('wall_s')} s ({ak['status']})",
            file=sys.stderr,
            flush=True,
        )
        sp = ours["split"]
        split = {"train": len(sp.train), "validation": len(sp.val), "test": len(sp.test), "how": sp.how}
        same = ak.get("test_digest") == ours["test_digest"] and all(
            ap.get("split", {}).get(k) == split[k] for k in ("train", "validation", "test")
        )
        results[name] = {
            "archpick": ap,
            "autokeras": ak,
            "split": split,
            "digest": ours["test_digest"],
            "same_split": "yes"
            if same
            else f"NO (AutoKeras digest {ak.get('test_digest')}, archpick split {ap.get('split')})",
        }
        if ak.get("versions"):
            meta.setdefault("ak_versions", ", ".join(f"{k} {v}" for k, v in ak["versions"].items()))
    meta.setdefault("ak_versions", "unknown (AutoKeras did not start)")
    meta["total_s"] = time.monotonic() - started
    text = render(results, meta)
    (workdir / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    print(text)
    if args.write != "-":
        Path(args.write).write_text(text)
    print(f"logs and run folders: {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
