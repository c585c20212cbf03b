"""Transfer-learning benchmark (issue 14): pretrain an archpick CNN on part of data/digits, transfer it to a
small folder of digits it never saw, against the same fit from scratch.

Writes two folders from data/digits (real scikit-learn digits, copied, nothing generated). With
`--split classes` (the default):

- OUT/pretrain/<0..4>/: every image of classes 0-4, for the run whose feature extractor is reused;
- OUT/target/train/<5..9>/: the first PER_CLASS images of classes 5-9 (the small folder), and
  OUT/target/test/<5..9>/: the rest of classes 5-9, a shipped test split (split_roots) that both the transfer run
  and the from-scratch run are scored on. The backbone never saw a 5-9 digit.

With `--split half`: OUT/pretrain/<0..9>/ holds the first half of every class; the target's train/ holds the
next PER_CLASS images of each class and its test/ the rest of the second half (digits the backbone never saw,
of classes it knows).

Then runs, one at a time, each in its own process (unless --folders-only):

1. `archpick fit OUT/pretrain --families cnn --time PRE` (the backbone);
2. `archpick fit OUT/target --backbone RUN_1 --time TIME` (transfer);
3. `archpick fit OUT/target --time TIME` (from scratch, the same budget, seed and split);

and prints one markdown row per run: test accuracy, the best baseline, and what was frozen.

    python benchmarks/transfer_digits.py [--out /tmp/transfer] [--per-class 10] [--pre 2m] [--time 1m]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "data" / "digits"


def write_folders(out: Path, per_class: int, split: str = "classes") -> tuple[Path, Path]:
    """(the pretraining folder, the target folder with train/ and test/), rewritten from data/digits."""
    shutil.rmtree(out / "pretrain", ignore_errors=True)
    shutil.rmtree(out / "target", ignore_errors=True)
    for name in "0123456789":
        files = sorted((DIGITS / name).iterdir())
        if split == "half":
            pre, rest = files[: len(files) // 2], files[len(files) // 2 :]
        else:
            pre, rest = (files, []) if name in "01234" else ([], files)
        parts = [("pretrain", pre), ("target/train", rest[:per_class]), ("target/test", rest[per_class:])]
        parts = [(where, chosen) for where, chosen in parts if chosen]
        for where, chosen in parts:
            folder = out / where / name
            folder.mkdir(parents=True)
            for f in chosen:
                shutil.copy2(f, folder / f.name)
    return out / "pretrain", out / "target"


def fit(args: list[str]) -> tuple[dict, float]:
    """`archpick fit ARGS --quiet` in a child process; (its report.json, wall seconds)."""
    started = time.monotonic()
    cmd = [sys.executable, "-m", "archpick", "fit", *args, "--quiet"]
    print("$ archpick fit " + " ".join(args), flush=True)
    subprocess.run(cmd, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    run_dir = Path(args[args.index("--out") + 1])
    return json.loads((run_dir / "report.json").read_text()), time.monotonic() - started


def row(name: str, report: dict, seconds: float) -> str:
    """A markdown row: run, exported model, test accuracy (interval), best baseline, frozen, wall seconds."""
    final = report["final"]
    interval = final.get("interval") or {}
    low, high = interval.get("low"), interval.get("high")
    shown = f"{final['metrics']['accuracy']:.4f}" + (f" ({low:.3f}-{high:.3f})" if low is not None else "")
    best = max(report["baselines"], key=lambda b: b.get("accuracy") or 0)
    frozen = (report.get("backbone") or {}).get("frozen", "-")
    return (
        f"| {name} | {final['variant']} | {shown} | {best['accuracy']:.4f} ({best['name']}) | {frozen} | "
        f"{seconds:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/transfer"))
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument(
        "--split",
        choices=["classes", "half"],
        default="classes",
        help="classes: pretrain on 0-4, transfer to 5-9; half: pretrain on half of every class",
    )
    parser.add_argument("--pre", default="2m", help="--time of the pretraining run")
    parser.add_argument("--time", default="1m", help="--time of the transfer and from-scratch runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folders-only", action="store_true")
    args = parser.parse_args()
    pretrain, target = write_folders(args.out, args.per_class, args.split)
    if args.folders_only:
        print(pretrain, target)
        return
    seed = ["--seed", str(args.seed), "--overwrite"]
    pre_run = args.out / "runs" / "pretrain"
    rows = [
        row(
            f"pretrain ({args.split} split)",
            *fit([str(pretrain), "--families", "cnn", "--time", args.pre, "--out", str(pre_run), *seed]),
        )
    ]
    rows.append(
        row(
            "transfer",
            *fit(
                [
                    str(target),
                    "--backbone",
                    str(pre_run),
                    "--time",
                    args.time,
                    "--out",
                    str(args.out / "runs" / "transfer"),
                    *seed,
                ]
            ),
        )
    )
    rows.append(
        row(
            "from scratch", *fit([str(target), "--time", args.time, "--out", str(args.out / "runs" / "scratch"), *seed])
        )
    )
    print("| run | exported | test accuracy (95% interval) | best baseline | frozen | wall s |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
