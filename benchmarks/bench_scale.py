"""Scale figures: inspecting and fitting a 100,000-image folder, memory trial after trial, local workers.

    python benchmarks/bench_scale.py                 # everything (about 10 minutes on 2 cores)
    python benchmarks/bench_scale.py --images 100000 --fit-time 2m --workers-time 2m

The image folder is made of hard links to data/digits (no disk cost) in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _child import run_child

QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "3"}

REPO = Path(__file__).resolve().parents[1]


def make_folder(n: int, root: Path) -> Path:
    """n images in 10 class folders, hard-linked from data/digits."""
    sources = {c.name: sorted(c.iterdir()) for c in sorted((REPO / "data" / "digits").iterdir())}
    per_class = n // len(sources)
    for name, files in sources.items():
        target = root / name
        target.mkdir(parents=True)
        for i in range(per_class):
            os.link(files[i % len(files)], target / f"{i:06d}.png")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--fit-time", default="2m")
    parser.add_argument("--workers-time", default="2m")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="archpick-scale-"))
    folder = make_folder(args.images, tmp / "big")
    lines = [f"Date: {time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; folder of {args.images:,} PNGs.", ""]
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "archpick", "inspect", str(folder), "-q"], check=True, stdout=subprocess.DEVNULL
    )
    inspect_s = time.perf_counter() - t
    lines.append(f"- `archpick inspect` on {args.images:,} images: {inspect_s:.2f} s (process start included).")
    out = tmp / "fit"
    wall, rss = run_child(
        ["fit", str(folder), "--time", args.fit_time, "--families", "recommended", "--out", str(out), "-q"], QUIET_TF
    )
    report = json.loads((out / "report.json").read_text())
    rows = [r for r in report["leaderboard"] if r.get("rss_mb")]
    lines.append(
        f"- `archpick fit` on it, `--time {args.fit_time}`: wall {wall:.0f} s, peak RSS {rss:.0f} MB, "
        f"{len(rows)} trials, test accuracy {report['final']['metrics']['accuracy']:.4f}."
    )
    if len(rows) >= 2:
        trail = ", ".join(f"{r['trial']}: {r['rss_mb']:.0f}" for r in rows)
        lines.append(
            f"- RSS after each trial (MB): {trail}; last/second = {rows[-1]['rss_mb'] / rows[1]['rss_mb']:.3f}."
        )
    digits = str(REPO / "data" / "digits")
    for workers in (0, 2):
        wout = tmp / f"workers{workers}"
        cmd = ["fit", digits, "--time", args.workers_time, "--families", "recommended", "--out", str(wout), "-q"]
        if workers:
            cmd += ["--workers", str(workers)]
        wall, rss = run_child(cmd, QUIET_TF)
        rep = json.loads((wout / "report.json").read_text())
        done = sum(r["status"] == "COMPLETED" for r in rep["leaderboard"])
        lines.append(
            f"- data/digits, `--time {args.workers_time}`, "
            f"{'--workers ' + str(workers) if workers else 'in-process (no workers)'}: {done} trials "
            f"finished, best val {max((r['score'] or 0) for r in rep['leaderboard']):.4f}, wall {wall:.0f} s."
        )
    lines.append(f"- this process's peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
