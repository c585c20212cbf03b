"""The collection summary: one row per dataset, as JSON, Markdown and HTML."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from archpick import run
from archpick.report.render import CSS, _fmt

COLUMNS = ["dataset", "modality", "recommended", "winner", "metric", "test_metric", "baseline", "beats_baseline",
           "seconds", "status"]


def write_summary(root: Path, summary: dict[str, Any]) -> None:
    """Write summary.json (the truth), summary.md and summary.html into the collection run directory."""
    run.write_json(root / "summary.json", summary)
    rows = summary["datasets"]
    md = [f"# archpick summary: {summary['collection']}", "",
          f"{len(rows)} datasets in {summary['used_s']} s (budget {summary['budget_s']:.0f} s).", "",
          "| " + " | ".join(COLUMNS + ["report"]) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
    for r in rows:
        link = os.path.relpath(r["report"], root) if r["report"] else r.get("error", "")
        md.append("| " + " | ".join(_fmt(r[c]) for c in COLUMNS) + f" | {link} |")
    md += [""] + [f"- **{r['dataset']}**: {r['verdict'] or r.get('error', '')}" for r in rows]
    run.write_atomic(root / "summary.md", "\n".join(md) + "\n")
    cells = "".join(f"<th>{c}</th>" for c in COLUMNS + ["report"])
    body = []
    for r in rows:
        link = os.path.relpath(r["report"], root) if r["report"] else ""
        tail = f"<a href='{html.escape(link)}'>report</a>" if link else html.escape(r.get("error", ""))
        body.append("<tr>" + "".join(f"<td>{html.escape(_fmt(r[c]))}</td>" for c in COLUMNS) + f"<td>{tail}</td></tr>")
    verdicts = "".join(f"<li><b>{html.escape(r['dataset'])}</b>: {html.escape(r['verdict'] or r.get('error', ''))}</li>"
                       for r in rows)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>archpick summary</title><style>{CSS}</style>"
            f"</head><body><h1>archpick summary: {html.escape(summary['collection'])}</h1>"
            f"<p>{len(rows)} datasets in {summary['used_s']} s (budget {summary['budget_s']:.0f} s).</p>"
            f"<table><tr>{cells}</tr>{''.join(body)}</table><h2>Verdicts</h2><ul>{verdicts}</ul></body></html>")
    run.write_atomic(root / "summary.html", page)
