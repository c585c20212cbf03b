"""Write a run's report: report.json (the truth), leaderboard.csv, plots, report.md and report.html."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from archpick import faults, run
from archpick.report import plots
from archpick.report.render import render_html, render_markdown
from archpick.report.schema import Report, Trial
from archpick.report.views import ForecastView, ranked_trials


def _leaderboard_csv(trials: list[Trial]) -> str:
    import pandas as pd

    flat = [{**t.fields, **{f"hp_{k}": v for k, v in t.hyperparameters.items()}} for t in trials]
    return pd.DataFrame(flat).to_csv(index=False)


def make_plots(run_dir: Path, report: Report) -> dict[str, str]:
    """Draw every plot the report has data for; returns name -> path relative to the run directory."""
    out: dict[str, str] = {}
    pdir = run_dir / "plots"
    final = report.final
    metric = report.race.metric or "score"
    lower = report.race.lower_is_better
    drawn = {
        "learning_curves": lambda p: plots.learning_curves(final.history if final else {}, p),
        "leaderboard": lambda p: plots.leaderboard(ranked_trials(report), metric, lower, p),
        "race": lambda p: plots.race(report.race.families, metric, lower, p),
    }
    if final and final.confusion_matrix:
        labels = [c.name for c in final.per_class]
        drawn["confusion_matrix"] = lambda p: plots.confusion(final.confusion_matrix, labels, p)
    view = ForecastView.from_report(report)
    if view is not None:
        drawn["forecast"] = lambda p: plots.forecast(view, p)
    for name, draw in drawn.items():
        path = draw(pdir / f"{name}.png")
        if path:
            out[name] = str(Path(path).relative_to(run_dir))
    return out


def write_report(run_dir: Path, report: dict[str, Any]) -> dict[str, Any]:
    """Render every form of the report into `run_dir` (atomic writes).

    `report` is parsed once, as report.json will hold it (numpy scalars and paths converted), and gets the
    plots' paths under "plots".
    """
    file = run_dir / run.REPORT_FILE
    typed = Report.from_json(run.as_written(report), file)
    report["plots"] = make_plots(run_dir, typed)
    typed = dataclasses.replace(typed, plots=dict(report["plots"]))
    run.write_json(file, report)
    faults.point("report")
    if typed.leaderboard:
        run.write_atomic(run_dir / "leaderboard.csv", _leaderboard_csv(typed.leaderboard))
    run.write_atomic(run_dir / "report.md", render_markdown(typed))
    run.write_atomic(run_dir / "report.html", render_html(typed, run_dir))
    return report
