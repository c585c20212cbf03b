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
  predicts the test split through its public API.
- The AutoKeras curve: after each trial the best trial so far is restored from its checkpoint and scored on the
  test split; the clock is paused while that happens, so it costs AutoKeras nothing.

Takes about 2 x (2 x BUDGET + 30 s): about 13 minutes with the default 3 minute budget on 2 CPU cores.
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
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "nproc": len(os.sched_getaffinity(0)), "cpu": cpu,
            "ram_gib": round(mem_kb / 2**20, 1), "gpu": gpu, "os": platform.platform(),
            "python": platform.python_version()}


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
            point = {"trial": len(_STATE["points"]) + 1, "trial_id": trial.trial_id, "status": trial.status,
                     "seconds": round(seconds, 2), "val_loss": trial.score, "wall_s": round(ended, 2),
                     "cut_by_deadline": _STATE.get("cut", False),
                     "block": {k.split("/")[0] + "/" + k.split("/")[-1]: v
                               for k, v in trial.hyperparameters.values.items() if k.endswith("block_type")}}
            _STATE["cut"] = False
            _STATE["durations"][trial.trial_id] = seconds
            if best:
                best_id = best[0].trial_id
                _STATE["refit_estimate"] = _STATE["durations"].get(best_id, seconds)
                point["best_trial_id"] = best_id
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
            _STATE["points"].append(point)
            _STATE["paused"] += time.time() - paused_at
            print(f"[autokeras] trial {point['trial']} ({point['block']}) {seconds:.1f}s "
                  f"val_loss={trial.score} best-so-far test acc={point.get('test_acc_best_so_far')} "
                  f"wall={ended:.1f}s", file=sys.stderr, flush=True)

        def on_search_end(self):
            super().on_search_end()
            _STATE["search_end"] = _clock()
            _STATE["searching"] = False

    return BudgetTuner


def autokeras_worker(name: str, budget: float, epochs: int, seed: int, t0: float, workdir: Path,
                     result_path: Path) -> int:
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
    _STATE.update({"t0": t0, "paused": 0.0, "budget": budget, "refit_estimate": 0.0, "points": [],
                   "durations": {}, "searching": True, "cut": False})
    result: dict[str, Any] = {"dataset": name, "budget_s": budget, "epochs": epochs, "seed": seed}
    try:
        import numpy as np

        data = _arrays(name, seed)
        split = data["split"]
        x, y = data["x"], data["y"]
        result.update({"test_digest": data["test_digest"], "x_shape": data["shape"],
                       "split": {"train": len(split.train), "validation": len(split.val), "test": len(split.test)}})
        result["load_s"] = round(_clock(), 2)
        import autokeras as ak
        import keras
        import keras_tuner
        import tensorflow as tf

        result["versions"] = {"autokeras": ak.__version__, "keras": keras.__version__,
                              "keras_tuner": keras_tuner.__version__, "tensorflow": tf.__version__,
                              "numpy": np.__version__, "python": platform.python_version()}
        result["import_s"] = round(_clock() - result["load_s"], 2)
        from autokeras.tuners import task_specific

        class Deadline(keras.callbacks.Callback):
            """Stops a trial's training at the search deadline (AutoKeras itself has no time budget)."""

            def on_train_batch_end(self, batch, logs=None):
                if _STATE["searching"] and _clock() >= _search_deadline():
                    _STATE["cut"] = True
                    self.model.stop_training = True

        x_test, y_test = x[split.test], y[split.test]
        ref: list = []
        if name == "digits":
            tuner = _make_tuner(task_specific.ImageClassifierTuner, ref, x_test, y_test)
            clf = ak.ImageClassifier(max_trials=1000, overwrite=True, directory=str(workdir), seed=seed,
                                     project_name=f"ak_{name}", tuner=tuner)
        else:
            tuner = _make_tuner(task_specific.TextClassifierTuner, ref, x_test, y_test)
            clf = ak.TextClassifier(max_trials=1000, overwrite=True, directory=str(workdir), seed=seed,
                                    project_name=f"ak_{name}", tuner=tuner)
        ref.append(clf)
        fit_started = _clock()
        clf.fit(x[split.train], y[split.train], validation_data=(x[split.val], y[split.val]), epochs=epochs,
                callbacks=[Deadline()], verbose=0)
        fit_ended = _clock()
        pred = clf.predict(x_test, verbose=0)
        accuracy = float(np.mean(np.asarray(pred).ravel() == y_test))
        wall = _clock()
        search_end = _STATE.get("search_end", fit_ended)
        result.update({"test_accuracy": accuracy, "wall_s": round(wall, 2), "fit_started_s": round(fit_started, 2),
                       "search_end_s": round(search_end, 2), "refit_s": round(fit_ended - search_end, 2),
                       "predict_s": round(wall - fit_ended, 2), "paused_s": round(_STATE["paused"], 2),
                       "trials": len(_STATE["points"]), "points": _STATE["points"], "status": "ok"})
        code = 0
    except Exception as exc:  # noqa: BLE001 - a crash is a result worth recording
        lines = traceback.format_exc().strip().splitlines()
        result.update({"status": "crashed", "error": f"{type(exc).__name__}: {exc}"[:500],
                       "traceback_tail": lines[-12:], "points": _STATE["points"], "wall_s": round(_clock(), 2)})
        traceback.print_exc()
        code = 1
    result_path.write_text(json.dumps(result, indent=1, default=str))
    return code


# -------------------------------------------------------------------------------------------------- the parent


def run_child(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a command, stdout and stderr to `log`.

    Returns:
        (wall seconds, exit code).
    """
    started = time.monotonic()
    with log.open("w") as fh:
        code = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env).returncode
    return time.monotonic() - started, code


def last_error(log: Path) -> str:
    """The last line of a log that looks like an error."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    hits = [ln for ln in lines if "Error" in ln or "error:" in ln.lower() or "Exception" in ln]
    return (hits or lines or ["(no output)"])[-1][:300]


def run_archpick(exe: str, name: str, budget_text: str, seed: int, out: Path, logs: Path) -> dict[str, Any]:
    """`archpick fit` on one dataset in archpick's own environment; the facts from its report.json."""
    cmd = [exe, "fit", DATASETS[name], "--time", budget_text, "--seed", str(seed), "--out", str(out), "-q"]
    load_before = loadavg()
    wall, code = run_child(cmd, logs / f"archpick_{name}.log", {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    res: dict[str, Any] = {"wall_s": round(wall, 2), "exit": code, "load_before": load_before,
                           "load_after": loadavg(), "command": shlex.join(cmd)}
    report_file = out / "report.json"
    if code or not report_file.exists():
        res.update({"status": "crashed", "error": last_error(logs / f"archpick_{name}.log")})
        return res
    rep = json.loads(report_file.read_text())
    rows = rep.get("leaderboard", [])
    res.update({"status": "ok", "test_accuracy": rep["final"]["metrics"]["accuracy"], "used_s": rep["budget"]["used_s"],
                "split": rep["split"], "winner": f"{rep['final']['family']} ({rep['final']['variant']})",
                "best_trial": rep["final"]["trial"], "timings": rep.get("timings", {}),
                "rows": [{k: r.get(k) for k in ("trial", "family", "status", "score", "seconds", "epochs")}
                         for r in rows]})
    return res


def archpick_time_to(res: dict[str, Any], target: float) -> tuple[float | None, str]:
    """Estimated archpick wall seconds to a model of test accuracy >= target, from its one budget-long run.

    The run as if its search had stopped after the first trial that reached the target: its measured wall time
    minus the seconds of the trials that came after that trial (startup, evaluation, export and report are kept).
    When the target is archpick's own final test accuracy, that trial is the exported one; otherwise the first
    trial whose validation accuracy reaches the target stands in for it (validation accuracy as a proxy).
    """
    rows = res.get("rows", [])
    index = None
    if target >= res["test_accuracy"] - 1e-12:
        index = next((i for i, r in enumerate(rows) if r["trial"] == res["best_trial"]), None)
        how = "exported trial"
    else:
        index = next((i for i, r in enumerate(rows) if (r["score"] or 0.0) >= target), None)
        how = "first trial with val acc >= target"
    if index is None:
        return None, "not reached"
    later = sum(float(r["seconds"] or 0.0) for r in rows[index + 1:])
    return round(res["wall_s"] - later, 1), f"{how}: {rows[index]['trial']}"


def autokeras_time_to(res: dict[str, Any], target: float) -> tuple[float | None, str]:
    """AutoKeras wall seconds to a model of test accuracy >= target, from its curve.

    The end of the first trial whose best-so-far checkpoint scores >= target on the test split, plus the
    AutoKeras final refit of that best trial (estimated as the best trial's own training seconds) and the
    measured prediction time. The final point is the measured end-to-end wall time.
    """
    if res.get("status") == "ok" and res["test_accuracy"] >= target - 1e-12:
        first = None
        for p in res["points"]:
            if p.get("test_acc_best_so_far") is not None and p["test_acc_best_so_far"] >= target - 1e-12:
                first = p
                break
        if first is None or first is res["points"][-1]:
            return res["wall_s"], "measured (final model)"
        best = next((p for p in res["points"] if p["trial_id"] == first["best_trial_id"]), first)
        est = first["wall_s"] + best["seconds"] + res.get("predict_s", 0.0)
        return round(min(est, res["wall_s"]), 1), f"trial {first['trial']} + refit estimate"
    for p in res.get("points", []):
        if p.get("test_acc_best_so_far") is not None and p["test_acc_best_so_far"] >= target - 1e-12:
            best = next((q for q in res["points"] if q["trial_id"] == p["best_trial_id"]), p)
            return round(p["wall_s"] + best["seconds"], 1), f"trial {p['trial']} checkpoint + refit estimate"
    return None, "not reached"


def fmt(value: float | None, digits: int = 4) -> str:
    """A number for a table cell, or an en dash."""
    return "–" if value is None else f"{value:.{digits}f}"


def render(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    """The markdown report."""
    m = meta["machine"]
    lines = [
        "# archpick vs AutoKeras 3.0.0",
        "",
        f"- date: {meta['date']}",
        f"- machine: {m['nproc']} CPU cores ({m['cpu']}), {m['ram_gib']} GiB RAM, GPU: {m['gpu']}; {m['os']}, "
        f"Python {m['python']}",
        f"- command: `{meta['command']}`",
        f"- budget: {meta['budget_s']:.0f} s per tool per dataset; AutoKeras epochs per trial: {meta['epochs']}; "
        f"seed {meta['seed']}; total run {meta['total_s'] / 60:.1f} min",
        f"- archpick environment: {meta['archpick_versions']}",
        f"- AutoKeras environment: {meta['ak_versions']}",
        "",
        "## Accuracy at equal wall time and wall time to equal accuracy",
        "",
        "| dataset | split train/val/test | tool | test accuracy at the budget | wall s (whole process) "
        "| trials | target (lower final acc) | wall s to reach target | how |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        ap, ak = r["archpick"], r["autokeras"]
        accs = [a["test_accuracy"] for a in (ap, ak) if a.get("status") == "ok"]
        target = min(accs) if len(accs) == 2 else None
        sp = r["split"]
        split_text = f"{sp['train']}/{sp['validation']}/{sp['test']}"
        for tool, res in (("archpick", ap), ("AutoKeras", ak)):
            if res.get("status") != "ok":
                lines.append(f"| {name} | {split_text} | {tool} | crashed | {fmt(res.get('wall_s'), 1)} | – | – | – "
                             f"| {res.get('error', '')} |")
                continue
            if target is None:
                t, how = None, "–"
            elif tool == "archpick":
                t, how = archpick_time_to(res, target)
            else:
                t, how = autokeras_time_to(res, target)
            trials = len(res["rows"]) if tool == "archpick" else res["trials"]
            lines.append(f"| {name} | {split_text} | {tool} | **{fmt(res['test_accuracy'])}** | {res['wall_s']:.1f} "
                         f"| {trials} | {fmt(target)} | {fmt(t, 1)} | {how} |")
    lines += ["", "## Details", ""]
    for name, r in results.items():
        ap, ak = r["archpick"], r["autokeras"]
        lines.append(f"### {name}")
        lines.append("")
        lines.append(f"- same split: {r['same_split']} (test-index digest {r['digest']}; "
                     f"split {r['split']['how']})")
        lines.append(f"- 1-min load average before/after: archpick {ap.get('load_before')}/{ap.get('load_after')}, "
                     f"AutoKeras {ak.get('load_before')}/{ak.get('load_after')}")
        if ap.get("status") == "ok":
            lines.append(f"- archpick: winner {ap['winner']}, trial {ap['best_trial']}; report used_s {ap['used_s']}; "
                         f"timings {ap['timings']}")
            lines.append("- archpick trials (validation accuracy, seconds): "
                         + ", ".join(f"{row['trial']} {fmt(row['score'], 3)} / {fmt(row['seconds'], 1)}s"
                                     for row in ap["rows"]))
        else:
            lines.append(f"- archpick failed: {ap.get('error')}")
        if ak.get("status") == "ok":
            lines.append(f"- AutoKeras: input {ak['x_shape']}; import {ak['import_s']} s, search ended at "
                         f"{ak['search_end_s']} s, final refit {ak['refit_s']} s, predict {ak['predict_s']} s; "
                         f"curve scoring paused the clock for {ak['paused_s']} s (not counted)")
        else:
            lines.append(f"- AutoKeras crashed: `{ak.get('error')}`")
            for ln in ak.get("traceback_tail", [])[-4:]:
                lines.append(f"    {ln}")
        if ak.get("points"):
            lines.append("- AutoKeras curve (trial: block, seconds, val_loss, best-so-far test accuracy, wall s at "
                         "trial end):")
            for p in ak["points"]:
                cut = " (cut at the deadline)" if p.get("cut_by_deadline") else ""
                lines.append(f"    - {p['trial']}: {p['block'] or '-'}, {p['seconds']} s, val_loss "
                             f"{fmt(p['val_loss'])}, test {fmt(p.get('test_acc_best_so_far'))}, "
                             f"wall {p['wall_s']} s{cut}{' ' + p['score_error'] if p.get('score_error') else ''}")
        lines.append("")
    lines += [
        "## How to read this",
        "",
        "- Wall seconds are the child process's, from launch to exit (archpick) or to AutoKeras's test predictions"
        " (AutoKeras), so both include Python start-up, the TensorFlow import and data loading.",
        "- archpick exports a SavedModel and writes a report inside its budget; AutoKeras only trains, refits and"
        " predicts.",
        "- AutoKeras has no time budget; this script stops its search at the budget minus its estimated final refit"
        " and 5 s (between trials, or mid-trial with a Keras callback), then lets it refit and predict as usual.",
        "- \"wall s to reach target\": AutoKeras, from its curve (end of the first trial whose best-so-far"
        " checkpoint reaches the target on the test split, plus that best trial's seconds as the refit estimate"
        " and the prediction time; the measured wall time when only the final model reaches it). archpick, from"
        " its one budget-long run: its wall time minus the seconds of the trials after the trial that reached the"
        " target (the exported trial when the target is archpick's own accuracy; else the first trial whose"
        " validation accuracy reaches it). Both are estimates from one run each, not separate runs.",
        "- The machine was shared with other work during the run (see the load averages); both tools saw it.",
    ]
    return "\n".join(lines) + "\n"


def versions_main(exe: str) -> str:
    """Versions in archpick's environment."""
    code = ("import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in "
            "('archpick', 'tensorflow', 'keras', 'keras-tuner', 'numpy')))")
    out = subprocess.run([exe, "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip()[-200:]


def main(argv: list[str] | None = None) -> int:
    """Parse options; run the parent, or (with --worker) one AutoKeras job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="3m", help="wall-clock budget per tool per dataset (default 3m)")
    parser.add_argument("--datasets", default="digits,reviews")
    parser.add_argument("--ak-python", default="/work/ak-venv/bin/python",
                        help="python of the AutoKeras environment (benchmarks/requirements-autokeras.txt)")
    parser.add_argument("--archpick", default=str(Path(sys.executable).with_name("archpick")),
                        help="archpick executable of archpick's own environment")
    parser.add_argument("--epochs", type=int, default=20, help="AutoKeras epochs per trial (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="keep run folders and logs here")
    parser.add_argument("--write", type=Path, default=ROOT / "benchmarks" / "AUTOKERAS.md",
                        help="markdown file to write ('-' for none)")
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
    meta: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
                            "command": shlex.join([Path(sys.executable).name, *sys.argv]), "budget_s": budget,
                            "epochs": args.epochs, "seed": args.seed, "archpick_versions": versions_main(args.archpick)}
    meta["command"] = shlex.join([".venv/bin/python", os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    results: dict[str, dict[str, Any]] = {}
    for name in [n.strip() for n in args.datasets.split(",") if n.strip()]:
        ours = load_split(name, args.seed)
        print(f"[{name}] archpick, {budget:.0f} s ...", file=sys.stderr, flush=True)
        ap = run_archpick(args.archpick, name, args.budget, args.seed, workdir / f"archpick_{name}", workdir)
        print(f"[{name}] archpick: {ap.get('test_accuracy')} in {ap['wall_s']} s; AutoKeras ...", file=sys.stderr,
              flush=True)
        result_path = workdir / f"autokeras_{name}.json"
        cmd = [args.ak_python, str(Path(__file__).resolve()), "--worker", name, "--budget", args.budget,
               "--epochs", str(args.epochs), "--seed", str(args.seed), "--workdir", str(workdir / "ak"),
               "--result", str(result_path), "--t0", "0"]
        load_before = loadavg()
        cmd[-1] = repr(time.time())
        wall, code = run_child(cmd, workdir / f"autokeras_{name}.log",
                               {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"})
        if result_path.exists():
            ak = json.loads(result_path.read_text())
        else:
            ak = {"status": "crashed", "error": last_error(workdir / f"autokeras_{name}.log"), "wall_s": wall}
        ak.update({"process_wall_s": round(wall, 2), "exit": code, "load_before": load_before,
                   "load_after": loadavg()})
        print(f"[{name}] AutoKeras: {ak.get('test_accuracy')} in {ak.get('wall_s')} s ({ak.get('status')})",
              file=sys.stderr, flush=True)
        sp = ours["split"]
        split = {"train": len(sp.train), "validation": len(sp.val), "test": len(sp.test), "how": sp.how}
        same = ak.get("test_digest") == ours["test_digest"] and all(
            ap.get("split", {}).get(k) == split[k] for k in ("train", "validation", "test"))
        results[name] = {"archpick": ap, "autokeras": ak, "split": split, "digest": ours["test_digest"],
                         "same_split": "yes" if same else f"NO (AutoKeras digest {ak.get('test_digest')}, "
                                                          f"archpick split {ap.get('split')})"}
        meta.setdefault("ak_versions", ", ".join(f"{k} {v}" for k, v in ak.get("versions", {}).items()))
    meta.setdefault("ak_versions", "unknown")
    meta["total_s"] = time.monotonic() - started
    text = render(results, meta)
    (workdir / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    print(text)
    if str(args.write) != "-":
        args.write.write_text(text)
    print(f"logs and run folders: {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
