"""The benchmark harness: fit every sample dataset at a fixed budget and write BENCHMARKS.md.

    python benchmarks/run.py --budget 3m            # all of data/, about 3 minutes each
    python benchmarks/run.py --datasets digits --budget 3m --output /tmp/b.md

For each dataset it records archpick's test metric and wall time, the baseline, the family chosen and whether
the race overturned the flowchart, the overhead ratio (a hand-written `model.fit` epoch of the exported model on
archpick's own tf.data pipeline, divided by archpick's epoch time in the winning trial; 1.0 means no overhead),
the peak RSS of the fit, and the time of `archpick --help` and `archpick inspect`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _child import run_child

REPO = Path(__file__).resolve().parents[1]
DATASETS = ["digits", "vowels", "reviews", "airline", "clips"]


def machine() -> str:
    """Cores, RAM and GPU of this machine, in words."""
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    gpu = "none"
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=5)
        gpu = out.stdout.strip() or "none"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return f"{os.cpu_count()} CPU cores, {mem_kb / 2**20:.0f} GiB RAM, GPU: {gpu}, {platform.platform()}"


def time_command(args: list[str], repeat: int = 3) -> float:
    """Best wall time of a command over `repeat` runs (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True, cwd=REPO)
        best = min(best, time.perf_counter() - start)
    return best


def fit(dataset: str, budget: str, out: Path) -> tuple[dict, float, float]:
    """Run `archpick fit` in a child process; returns (report, wall seconds, peak RSS MB)."""
    args = ["fit", str(REPO / "data" / dataset), "--time", budget, "--seed", "0", "--out", str(out), "-q"]
    wall, rss = run_child(args, quiet=False)
    return json.loads((out / "report.json").read_text()), wall, rss


def overhead_ratio(dataset: str, report: dict, run_dir: Path) -> float | None:
    """Hand-written model.fit epoch time over archpick's epoch time, on the same model and pipeline."""
    import keras

    import archpick.hypermodels.layers  # noqa: F401 - registers the custom layers model.keras uses
    from archpick import inspect
    from archpick.hypermodels import heads
    from archpick.options import FitOptions
    from archpick.runner import prepare

    ours = report["final"].get("epoch_seconds", [])[1:]
    if len(ours) < 2:
        return None
    prep = prepare(inspect(REPO / "data" / dataset), FitOptions(seed=0))
    model = keras.saving.load_model(run_dir / "model" / "model.keras")
    lr = report["final"]["hyperparameters"].get("learning_rate", 1e-3)
    heads.compile_model(model, report["task"], lr)
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(prep.train_ds, validation_data=prep.val_ds, epochs=4, verbose=0, callbacks=[Timer()])
    return statistics.median(times[1:]) / statistics.median(ours)


def metric_cells(report: dict) -> tuple[str, str, str]:
    """(metric name, model value, best baseline) for the table."""
    m = report["final"]["metrics"]
    if report["task"] == "classification":
        base = max(report["baselines"], key=lambda b: b.get("accuracy") or 0)
        return "accuracy", f"{m['accuracy']:.4f}", f"{base['accuracy']:.4f} ({base['name']})"
    if report["task"] == "forecasting":
        base = report["baselines"][0]
        return "MASE", f"{m['mase']:.3f}", f"{base['mase']:.3f} ({base['name']})"
    base = report["baselines"][-1]
    return "MAE", f"{m['mae']:.4g}", f"{base['mae']:.4g} ({base['name']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="3m")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument(
        "--output",
        default=str(REPO / "benchmarks" / "results" / "suite.md"),
        help="Markdown file for the results (BENCHMARKS.md quotes it with the command)",
    )
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    archpick = str(Path(sys.executable).with_name("archpick"))
    help_s = time_command([archpick, "--help"])
    rows, inspect_rows = [], []
    tmp = Path(tempfile.mkdtemp(prefix="archpick-bench-"))
    for name in args.datasets.split(","):
        inspect_rows.append((name, time_command([archpick, "inspect", str(REPO / "data" / name), "-q"])))
        report, wall, rss = fit(name, args.budget, tmp / name)
        metric, value, base = metric_cells(report)
        fams = report["race"]["families"]
        runner = next((f for f in fams if f["role"] != "recommended"), None)
        runner_cell = f"{runner['variant']}: {runner['best_score']:.4f}" if runner and runner["best_score"] else "–"
        ratio = overhead_ratio(name, report, tmp / name)
        rows.append(
            [
                name,
                report["profile"]["modality"],
                report["recommendation"]["family"],
                report["final"]["family"],
                "yes" if report["final"]["family"] != report["recommendation"]["family"] else "no",
                runner_cell,
                metric,
                value,
                base,
                f"{wall:.0f}",
                f"{rss:.0f}",
                "–" if ratio is None else f"{ratio:.2f}",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    header = [
        "dataset",
        "modality",
        "flowchart",
        "exported",
        "overturned",
        "runner-up best (val)",
        "metric",
        "archpick (test)",
        "best baseline (test)",
        "wall s",
        "peak RSS MB",
        "overhead ratio",
    ]
    lines = [
        f"## `python benchmarks/run.py --budget {args.budget} --datasets {args.datasets}`",
        "",
        f"Date: {time.strftime('%Y-%m-%d')}. Machine: {machine()}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += [
        "",
        f"`archpick --help`: {help_s:.2f} s (best of 3).",
        *[f"`archpick inspect data/{n}`: {s:.2f} s (best of 3)." for n, s in inspect_rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
