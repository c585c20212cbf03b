"""A folder of datasets: split the budget, fit each in turn, write one summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from archpick import run
from archpick.errors import ArchpickError
from archpick.options import FitOptions
from archpick.profile import DatasetProfile
from archpick.report.schema import Report
from archpick.runner import DEFAULT_COLLECTION_BUDGET, MODALITY_WEIGHT, fit_profile
from archpick.tasks import LOWER_IS_BETTER, task_of


def budget_shares(members: list[DatasetProfile], total: float) -> list[float]:
    """Seconds per dataset, weighted by modality (video and text get more)."""
    weights = [MODALITY_WEIGHT.get(m.modality, 1.0) for m in members]
    return [total * w / sum(weights) for w in weights]


def summary_row(member: DatasetProfile, result: run.Run | None, seconds: float, error: str = "") -> dict[str, Any]:
    """One row of the collection summary."""
    rep = Report.from_json(result.report, Path(result.path) / run.REPORT_FILE) if result else None
    final = rep.final if rep else None
    # The answer card's metric (RMSE for regression, balanced accuracy when classes were weighted), so the summary
    # and each dataset's report lead with the same number.
    metric_name = rep.primary_metric if rep else task_of(member.task).headline_metric()
    lower = metric_name in LOWER_IS_BETTER
    vals = [v for b in (rep.baselines if rep else []) if (v := b.score(metric_name)) is not None]
    base = (min(vals) if lower else max(vals)) if vals else None
    model_value = final.score(metric_name) if final else None
    beats = None
    if model_value is not None and base is not None:
        beats = model_value < base if lower else model_value > base
    return {
        "dataset": member.name,
        "modality": member.modality,
        "task": member.task,
        "recommended": rep.recommendation.family if rep else None,
        "winner": final.family if final else None,
        "metric": metric_name,
        "test_metric": model_value,
        "baseline": base,
        "beats_baseline": beats,
        "verdict": rep.verdict if rep else "",
        "seconds": round(seconds, 1),
        "report": str(Path(result.path) / "report.html") if result else "",
        "status": result.status if result else "failed",
        "error": error,
    }


def fit_collection(profile: DatasetProfile, opts: FitOptions, progress=None) -> run.Run:
    """Fit every dataset of a collection within one budget and write summary.json/.md/.html.

    Args:
        profile: A profile with modality "collection".
        opts: Fit options; `time_budget` is the total for all datasets.
        progress: Optional progress receiver.

    Returns:
        A Run for the collection directory (report = the summary).
    """
    total = opts.time_budget or DEFAULT_COLLECTION_BUDGET
    # The collection's folder stays locked until its summary is written: no --overwrite elsewhere can clear it
    # between two members.
    with run.open_run_dir(profile.name, opts.out, profile.path, opts.overwrite, opts.runs_root) as root:
        started = time.monotonic()
        rows = []
        shares = budget_shares(profile.members, total)
        for i, (member, share) in enumerate(zip(profile.members, shares)):
            left = total - (time.monotonic() - started)
            remaining_share = sum(shares[i:])
            budget = max(left * share / remaining_share, 20.0) if remaining_share else share
            stage = getattr(progress, "stage", None)
            if stage:
                stage(f"dataset {i + 1}/{len(profile.members)}: {member.name} ({member.modality}, {budget:.0f}s)")
            member_opts = FitOptions(
                **{
                    **opts.__dict__,
                    "time_budget": budget,
                    "out": root / member.name,
                    "overwrite": False,
                    "resume": None,
                }
            )
            t = time.monotonic()
            try:
                result = fit_profile(member, member_opts, progress)
                rows.append(summary_row(member, result, time.monotonic() - t))
            except ArchpickError as exc:
                rows.append(summary_row(member, None, time.monotonic() - t, str(exc)))
        summary = {
            "collection": profile.name,
            "path": str(Path(profile.path).resolve()),
            "budget_s": total,
            "used_s": round(time.monotonic() - started, 1),
            "datasets": rows,
            "skipped": [{"file": s.file, "reason": s.reason} for s in profile.skipped],
        }
        from archpick.report.summary import write_summary

        write_summary(root, summary)
    return run.load_run(root)
