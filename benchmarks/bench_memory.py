"""Memory between trials: RSS once each trial's model is freed, trial after trial, with and without the
malloc_trim archpick calls between trials.

    python benchmarks/bench_memory.py --datasets airline,digits --time 4m --trials 12

Each fit runs in a child process (`benchmarks/_child.py`) with `--families recommended --max-trials N`. The
leaderboard's `rss_mb` is read after `clear_session`, `gc` and (unless turned off) `malloc_trim`, so it is
what the next trial starts from. Growth = RSS after trial 10 / RSS after trial 2 - 1 (goal: within +10 %).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _child import run_child

REPO = Path(__file__).resolve().parents[1]


def run(dataset: str, budget: str, trials: int, trim: bool, out: Path) -> dict:
    args = ["fit", str(REPO / "data" / dataset), "--time", budget, "--families", "recommended"]
    args += ["--max-trials", str(trials), "--seed", "0", "--out", str(out), "-q"]
    wall, peak = run_child(args, env={"ARCHPICK_BENCH_NO_TRIM": "0" if trim else "1"})
    rows = [r for r in json.loads((out / "report.json").read_text())["leaderboard"] if r.get("rss_mb")]
    after = [r["rss_mb"] for r in rows]
    at_end = [r.get("rss_trial_end_mb") for r in rows]
    tenth = min(9, len(after) - 1)
    return {
        "dataset": dataset,
        "trim": trim,
        "trials": len(after),
        "rss_after_mb": after,
        "rss_trial_end_mb": at_end,
        "peak_mb": peak,
        "growth": after[tenth] / after[1] - 1 if len(after) > 2 else None,
        "compared": f"{tenth + 1} vs 2",
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="airline,digits")
    parser.add_argument("--time", default="4m")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--modes", default="trim,notrim")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="archpick-mem-"))
    print(f"Date: {time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores.")
    print(
        "| dataset | malloc_trim | trials | RSS after trial 2 (MB) | after trial 10 | growth | peak RSS MB | "
        "RSS after each trial (MB) |\n|---|---|---|---|---|---|---|---|"
    )
    for dataset in args.datasets.split(","):
        for mode in args.modes.split(","):
            r = run(dataset, args.time, args.trials, mode == "trim", tmp / f"{dataset}-{mode}")
            after = r["rss_after_mb"]
            growth = "–" if r["growth"] is None else f"{r['growth']:+.1%}"
            print(
                f"| {dataset} | {'on' if r['trim'] else 'off'} | {r['trials']} | {after[1]:.0f} | "
                f"{after[min(9, len(after) - 1)]:.0f} ({r['compared']}) | {growth} | {r['peak_mb']:.0f} | "
                f"{', '.join(f'{v:.0f}' for v in after)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
