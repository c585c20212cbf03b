"""The collection summary: one row per dataset and a chart of each model against its baseline, as JSON, Markdown
and self-contained HTML."""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from archpick import run
from archpick.report import plots
from archpick.report.answer import NAMES, standing_of
from archpick.report.render import CSS, _md_cell, md_text
from archpick.report.schema import CollectionRow, CollectionSummary, Report
from archpick.report.views import DatasetScore
from archpick.tasks import LOWER_IS_BETTER

HEADERS = [
    "dataset",
    "data",
    "flowchart pick",
    "exported model",
    "test metric",
    "model",
    "best baseline",
    "against the baseline",
    "seconds",
    "status",
]
"""The summary table's columns (the report link follows)."""

STANDING_WORDS = {
    "beats": "beats it",
    "within noise": "within noise (not separable)",
    "loses": "does NOT beat it",
    "no baseline": "no baseline",
    "failed": "failed",
}

SUMMARY_CSS = """tr.beats td:nth-child(8){color:#1e6b2a;font-weight:600}
tr.within-noise td:nth-child(8){color:#8a5a00;font-weight:600}tr.loses td:nth-child(8),
tr.failed td:nth-child(8){color:#a3261a;font-weight:600}"""


@dataclass(frozen=True)
class SummaryRow:
    """One dataset of the collection as the summary shows it.

    Attributes:
        score: Its model's test score against the best baseline.
        modality: The kind of data ("image", "timeseries").
        recommended: The flowchart's family.
        exported: The exported model's family ("" when the fit failed).
        seconds: Seconds the dataset took.
        status: The run's status ("complete", "failed").
        report: The dataset's report.html, relative to the collection directory ("" when none).
        verdict: The run's verdict, or the error when it failed.
    """

    score: DatasetScore
    modality: str
    recommended: str
    exported: str
    seconds: float
    status: str
    report: str
    verdict: str

    def cells(self) -> list[str]:
        """The table cells under HEADERS, as text."""
        s = self.score
        model = "–" if s.value is None else f"{s.value:.4g}"
        if s.interval and s.value is not None:
            model += f" ({s.interval[0]:.4g}–{s.interval[1]:.4g})"
        base = "–" if s.baseline is None else f"{s.baseline:.4g}" + (f" ({s.baseline_name})" if s.baseline_name else "")
        direction = "lower is better" if s.lower_is_better else "higher is better"
        return [
            s.dataset,
            self.modality or "–",
            self.recommended or "–",
            self.exported or "–",
            f"{s.metric} ({direction})",
            model,
            base,
            STANDING_WORDS[s.standing],
            f"{self.seconds:g}",
            self.status,
        ]


def _member_report(row: CollectionRow) -> Report | None:
    """The dataset's report.json beside its report.html (None when absent)."""
    path = Path(row.report).with_name(run.REPORT_FILE) if row.report else None
    if path is None or not path.exists():
        return None
    return Report.from_json(run.read_json(path), path)


def summary_row(row: CollectionRow, root: Path) -> SummaryRow:
    """A summary.json row, with the baseline's name and the interval from the dataset's own report."""
    rep = _member_report(row)
    key = row.metric
    lower = key in LOWER_IS_BETTER
    value, base = row.test_metric, row.baseline
    scored = [(b, s) for b in (rep.baselines if rep else []) if (s := b.score(key)) is not None]
    best = (min if lower else max)(scored, key=lambda pair: pair[1], default=None)
    band = rep.final.interval if rep and rep.final else None
    interval = (band.low, band.high) if band and band.metric == key else None
    standing = "failed" if value is None else standing_of(value, base, interval, lower)
    score = DatasetScore(
        row.dataset,
        NAMES.get(key, key),
        value,
        base,
        best[0].name if best and best[1] == base else "",
        lower,
        standing,
        interval,
    )
    return SummaryRow(
        score,
        row.modality,
        row.recommended,
        row.winner,
        row.seconds,
        row.status,
        os.path.relpath(row.report, root) if row.report else "",
        row.verdict or row.error,
    )


def _tally(rows: list[SummaryRow]) -> str:
    counts = {k: sum(r.score.standing == k for r in rows) for k in STANDING_WORDS}
    parts = [f"is within noise of it on {counts['within noise']}", f"does NOT beat it on {counts['loses']}"]
    parts += [f"failed on {counts['failed']}"] if counts["failed"] else []
    return (
        f"The model beats its best baseline beyond the test split's noise on {counts['beats']} of {len(rows)} "
        f"datasets, {', '.join(parts)}."
    )


def write_summary(root: Path, summary: dict[str, Any]) -> None:
    """Write summary.json (the truth), the chart plots/summary.png, summary.md and summary.html into the
    collection run directory."""
    run.write_json(root / "summary.json", summary)
    typed = CollectionSummary.from_json(summary, root / "summary.json")
    rows = [summary_row(r, root) for r in typed.datasets]
    chart = plots.summary([r.score for r in rows], root / "plots" / "summary.png")
    intro = f"{len(rows)} datasets in {typed.used_s} s (budget {typed.budget_s:.0f} s). {_tally(rows)}"
    skipped = typed.skipped
    md = [f"# archpick summary: {md_text(typed.collection)}", "", intro, ""]
    if chart:
        md += ["![each dataset's model against its best baseline](plots/summary.png)", ""]
    md += ["| " + " | ".join(HEADERS + ["report"]) + " |", "|" + "---|" * (len(HEADERS) + 1)]
    md += [
        "| "
        + " | ".join(
            [
                md_text(r.score.dataset),
                *(_md_cell(c) for c in r.cells()[1:]),
                f"[report]({quote(r.report)})" if r.report else "–",
            ]
        )
        + " |"
        for r in rows
    ]
    md += ["", "## Verdicts", ""] + [f"- **{md_text(r.score.dataset)}**: {r.verdict}" for r in rows]
    if skipped:
        md += ["", "## Skipped folders", ""] + [f"- {s.file}: {s.reason}" for s in skipped]
    run.write_atomic(root / "summary.md", "\n".join(md) + "\n")

    head = "".join(f"<th>{html.escape(c)}</th>" for c in HEADERS + ["report"])
    body = []
    for r in rows:
        link = f"<a href='{html.escape(quote(r.report))}'>report</a>" if r.report else "–"
        body.append(
            f"<tr class='{r.score.standing.replace(' ', '-')}'>"
            + "".join(f"<td>{html.escape(c)}</td>" for c in r.cells())
            + f"<td>{link}</td></tr>"
        )
    figure = ""
    if chart:
        data = base64.b64encode(Path(chart).read_bytes()).decode("ascii")
        figure = (
            '<figure><img alt="each dataset\'s model against its best baseline" '
            f"src='data:image/png;base64,{data}'><figcaption>each dataset's model against its best baseline "
            "(test split)</figcaption></figure>"
        )
    verdicts = "".join(f"<li><b>{html.escape(r.score.dataset)}</b>: {html.escape(r.verdict)}</li>" for r in rows)
    skips = (
        (
            "<h2>Skipped folders</h2><ul>"
            + "".join(f"<li>{html.escape(s.file)}: {html.escape(s.reason)}</li>" for s in skipped)
            + "</ul>"
        )
        if skipped
        else ""
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>archpick summary: "
        f"{html.escape(typed.collection)}</title><style>{CSS}\n{SUMMARY_CSS}</style></head><body>"
        f"<h1>archpick summary: {html.escape(typed.collection)}</h1><p>{html.escape(intro)}</p>{figure}"
        f"<div class='wide'><table><tr>{head}</tr>{''.join(body)}</table></div>"
        f"<h2>Verdicts</h2><ul>{verdicts}</ul>{skips}</body></html>"
    )
    run.write_atomic(root / "summary.html", page)
