"""Write a run's report: report.json (the truth), leaderboard.csv, plots, report.md and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archpick import faults, run
from archpick.report import plots
from archpick.report.render import render_html, render_markdown
from archpick.report.views import ForecastView, lower_is_better, ranked_trials


def _leaderboard_csv(rows: list[dict[str, Any]]) -> str:
    import pandas as pd

    flat = []
    for row in rows:
        item = {k: v for k, v in row.items() if k != "hyperparameters"}
        item.update({f"hp_{k}": v for k, v in row.get("hyperparameters", {}).items()})
        flat.append(item)
    return pd.DataFrame(flat).to_csv(index=False)


def make_plots(run_dir: Path, report: dict[str, Any]) -> dict[str, str]:
    """Draw every plot the report has data for; returns name -> path relative to the run directory."""
    out: dict[str, str] = {}
    pdir = run_dir / "plots"
    final = report.get("final", {})
    metric = report.get("race", {}).get("metric", "score")
    lower = lower_is_better(report)
    drawn = {
        "learning_curves": lambda p: plots.learning_curves(final.get("history", {}), p),
        "leaderboard": lambda p: plots.leaderboard(ranked_trials(report), metric, lower, p),
        "race": lambda p: plots.race(report.get("race", {}).get("families", []), metric, lower, p),
    }
    cm = final.get("metrics", {}).get("confusion_matrix")
    if cm:
        labels = [c["class"] for c in final["metrics"]["per_class"]]
        drawn["confusion_matrix"] = lambda p: plots.confusion(cm, labels, p)
    view = ForecastView.from_report(report)
    if view is not None:
        drawn["forecast"] = lambda p: plots.forecast(view, p)
    for name, draw in drawn.items():
        path = draw(pdir / f"{name}.png")
        if path:
            out[name] = str(Path(path).relative_to(run_dir))
    return out


def write_report(run_dir: Path, report: dict[str, Any]) -> dict[str, Any]:
    """Render every form of the report into `run_dir` (atomic writes)."""
    report["plots"] = make_plots(run_dir, report)
    run.write_json(run_dir / run.REPORT_FILE, report)
    faults.point("report")
    rows = report.get("leaderboard", [])
    if rows:
        run.write_atomic(run_dir / "leaderboard.csv", _leaderboard_csv(rows))
    run.write_atomic(run_dir / "report.md", render_markdown(report))
    run.write_atomic(run_dir / "report.html", render_html(report, run_dir))
    return report
