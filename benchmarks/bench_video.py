"""Video benchmark: hybrid CNN-RNN vs the order-free frame CNN on data/clips, and peak memory on 1,000 clips.

Runs three `archpick fit` commands, each in its own process (so its peak RSS is its own):

1. `archpick fit data/clips --time 5m` (families auto: the recommended hybrid, then the frame-CNN runner-up):
   the exported model's test accuracy, and both families' best validation accuracy.
2. `archpick fit data/clips --time 2m --families cnn`: the frame-only CNN exported and evaluated on the
   same test split (same seed, same split), since the race exports only its winner.
3. `archpick fit BIG --time 90s --families recommended --max-trials 1` on a temporary folder of 1,000 clips
   (data/clips repeated through symlinks, outside data/): peak RSS, to show that clips stream from disk.

Prints markdown lines for BENCHMARKS.md. Takes about 10 minutes on 2 CPU cores.

    python benchmarks/bench_video.py [--data data/clips] [--time 5m] [--cnn-time 2m] [--big 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif"}


def run_fit(args: list[str]) -> tuple[float, float, int]:
    """Run `archpick fit ARGS` in a child process.

    Returns:
        (wall seconds, peak RSS of the child in MiB, exit code).
    """
    cmd = [sys.executable, "-m", "archpick", "fit", *args, "--quiet"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if proc.returncode:
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    return seconds, usage.ru_maxrss / 1024.0, proc.returncode  # ru_maxrss is KiB on Linux


def make_big(src: Path, dst: Path, n: int) -> int:
    """A folder of about n clips: the classes of `src`, each clip repeated through symlinks."""
    classes = sorted(d for d in src.iterdir() if d.is_dir())
    per_class = max(1, n // len(classes))
    total = 0
    for folder in classes:
        clips = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        out = dst / folder.name
        out.mkdir(parents=True)
        for i in range(per_class):
            clip = clips[i % len(clips)]
            (out / f"rep{i:05d}{clip.suffix}").symlink_to(clip.resolve())
            total += 1
    return total


def family_scores(report: dict) -> dict[str, float | None]:
    return {f["family"]: f.get("best_score") for f in report.get("race", {}).get("families", [])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/clips")
    parser.add_argument("--time", default="5m")
    parser.add_argument("--cnn-time", default="2m")
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--big-time", default="90s")
    args = parser.parse_args()
    data = (ROOT / args.data).resolve()
    lines = [
        f"### Video ({data.name}, {os.cpu_count()} CPU cores, {platform.machine()}, {time.strftime('%Y-%m-%d')})",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="archpick-bench-video-") as tmp:
        tmp_path = Path(tmp)
        auto = tmp_path / "auto"
        seconds, rss, rc = run_fit([str(data), "--time", args.time, "--out", str(auto)])
        if rc == 0:
            rep = json.loads((auto / "report.json").read_text())
            scores = family_scores(rep)
            final = rep["final"]
            lines.append(
                f"- `archpick fit {args.data} --time {args.time}` (hybrid + cnn race): exported "
                f"**{final['family']}**, test accuracy **{final['metrics']['accuracy']:.3f}** "
                f"(n={rep['split']['test']}); best val accuracy hybrid "
                f"{_fmt(scores.get('hybrid'))}, frame-only cnn {_fmt(scores.get('cnn'))}; "
                f"trials {[f['trials'] for f in rep['race']['families']]}; "
                f"{seconds:.0f} s wall, peak RSS {rss:.0f} MiB"
            )
        else:
            lines.append(f"- `archpick fit {args.data} --time {args.time}` FAILED (exit {rc})")

        cnn = tmp_path / "cnn"
        seconds, rss, rc = run_fit([str(data), "--time", args.cnn_time, "--families", "cnn", "--out", str(cnn)])
        if rc == 0:
            rep = json.loads((cnn / "report.json").read_text())
            final = rep["final"]
            lines.append(
                f"- `archpick fit {args.data} --time {args.cnn_time} --families cnn` (frame-only, "
                f"order-free): test accuracy **{final['metrics']['accuracy']:.3f}** on the same "
                f"split (chance 0.25), best val {_fmt(family_scores(rep).get('cnn'))}; "
                f"{seconds:.0f} s wall"
            )
        else:
            lines.append(f"- frame-only cnn fit FAILED (exit {rc})")

        big = tmp_path / "big"
        n = make_big(data, big, args.big)
        seconds, rss, rc = run_fit(
            [
                str(big),
                "--time",
                args.big_time,
                "--families",
                "recommended",
                "--max-trials",
                "1",
                "--out",
                str(tmp_path / "big-run"),
            ]
        )
        status = "" if rc == 0 else f" FAILED (exit {rc})"
        decoded_mib = n * _clip_bytes(tmp_path / "big-run") / 2**20
        lines.append(
            f"- {n} clips (symlinked repeats), `--time {args.big_time} --families recommended "
            f"--max-trials 1`: peak RSS **{rss:.0f} MiB** (all clips decoded would be "
            f"{decoded_mib:.0f} MiB of uint8); {seconds:.0f} s wall{status}"
        )
    print("\n".join(lines))


def _clip_bytes(run_dir: Path) -> int:
    try:
        spec = json.loads((run_dir / "model" / "archpick.json").read_text())["input_spec"]
    except (OSError, KeyError, ValueError):
        return 8 * 64 * 64 * 3
    size = 1
    for d in spec["shape"]:
        size *= int(d)
    return size


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
