"""Render report.json into Markdown and self-contained HTML through one list of blocks."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from archpick.blocks import blocks_for
from archpick.report.answer import answer
from archpick.report.schema import Baseline, ColumnUse, Race, Report, Selection
from archpick.report.views import ENDED, ForecastView, metric_words, ranked_trials

Block = tuple
"""("answer", tone, lines) | ("h1"|"h2"|"p"|"verdict", text) | ("table", headers, rows[, marked[, kind]])
| ("img", title, relpath).

`marked` (optional) holds the indexes of rows to set apart: bold in Markdown, in HTML the class `kind`:
"marked" (the default, shaded amber: columns a model leaves out) or "exported" (green: the exported trial).
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return str(value)


def headline(report: Report | dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metric, model value, best baseline value, gain) rows for the top of the report."""
    rep = Report.of(report)
    if rep.final is None:
        return []
    final, baselines = rep.final, rep.baselines
    if rep.task == "classification":
        keys = ["accuracy", "balanced_accuracy", "macro_f1"]
        if rep.split.class_weight:
            keys = ["balanced_accuracy", "accuracy", "macro_f1"]  # a majority guess cannot inflate it
        return [_classification_row(key, value, baselines) for key in keys if (value := final.score(key)) is not None]
    return [
        _error_row(key, value, baselines)
        for key in ("mase", "smape", "mae", "rmse", "r2")
        if (value := final.score(key)) is not None
    ]


def _best(baselines: list[Baseline], key: str, lower: bool) -> tuple[Baseline, float] | None:
    """The best baseline on `key` and its score, or None when none has one."""
    scored = [(b, s) for b in baselines if (s := b.score(key)) is not None]
    return (min if lower else max)(scored, key=lambda pair: pair[1], default=None)


def _classification_row(key: str, value: float, baselines: list[Baseline]) -> tuple[str, str, str, str]:
    """A headline row of a classification metric: the gain in points over the best baseline."""
    best = _best(baselines, key, lower=False)
    gain = f"{(value - best[1]) * 100:+.1f} points" if best else "–"
    return (
        f"test {key.replace('_', ' ').replace('macro f1', 'macro F1')}",
        f"{value:.4f}",
        f"{best[1]:.4f} ({best[0].name})" if best else "–",
        gain,
    )


def _error_row(key: str, value: float, baselines: list[Baseline]) -> tuple[str, str, str, str]:
    """A headline row of a regression or forecasting metric against the best baseline on it (not the first one:
    the training mean flattered every model)."""
    best = _best(baselines, key, lower=key != "r2")
    b = best[1] if best else None
    gain = "–"
    if key == "r2" and b is not None:  # a share of explained variance: compared in points, not %
        gain = f"{(value - b) * 100:+.1f} points"
    elif b not in (None, 0):
        better = value < b
        gain = f"{abs(value - b) / abs(b) * 100:.1f}% {'better' if better else 'worse'}"
    return (f"test {key.upper()}", _fmt(value), f"{_fmt(b)} ({best[0].name})" if best else "–", gain)


def _selection_blocks(sel: Selection) -> list[Block]:
    """Cross-validated scores (mean ± spread per fold), and the check against the best baseline."""
    out: list[Block] = []
    if sel.folds:
        out.append(
            (
                "p",
                f"The race was decided by {sel.folds}-fold cross-validation on train + validation "
                f"({sel.samples} samples); noise margin ±{_fmt(sel.noise_margin)}.",
            )
        )
        out.append(
            (
                "table",
                ["family", "trial", "mean", "± std", "folds"],
                [(s.family, s.trial, _fmt(s.mean), _fmt(s.std), _fmt(s.folds)) for s in sel.scores],
            )
        )
    elif sel.validation:
        v = sel.validation
        out.append(
            (
                "p",
                f"Best trials averaged on the validation split: ensemble {_fmt(v.ensemble)}, best single "
                f"trial {_fmt(v.single)}.",
            )
        )
    check = sel.baseline_check
    if check:
        word = "beats" if check.beats else "does NOT beat"
        out.append(
            (
                "p",
                f"On {check.on}, the model ({_fmt(check.model)}) {word} the best baseline, "
                f"{check.baseline} ({_fmt(check.baseline_score)}).",
            )
        )
    return out


def blocks(report: Report | dict[str, Any]) -> list[Block]:
    """The report as an ordered list of blocks, section by section."""
    rep = Report.of(report)
    out: list[Block] = [("h1", f"archpick report: {rep.dataset}")]
    card = answer(rep, rep.run_dir or "RUN_DIR")
    if card is not None:
        out.append(("answer", card.tone, card.lines()))
    out.append(("verdict", rep.verdict))
    if rep.status == "failed":
        out.append(("p", "This run failed: no trial finished within the budget."))
    for section in (
        _result_blocks,
        _data_blocks,
        _column_blocks,
        _backbone_blocks,
        _race_blocks,
        _model_blocks,
        _contract_blocks,
        _hardware_blocks,
        _file_blocks,
    ):
        out.extend(section(rep))
    out.append(("p", f"archpick {rep.version}, {rep.created}."))
    return out


def _result_blocks(report: Report) -> list[Block]:
    """The headline against the best baselines, single model against ensemble, what was exported."""
    rows = headline(report)
    final = report.final
    if not rows or final is None:
        return []
    out: list[Block] = [
        ("h2", "Result on the test split"),
        ("table", ["metric", "model", "best baseline", "gain"], rows),
    ]
    if final.single and final.ensemble:
        out.append(
            (
                "table",
                ["exported model (test split)", *final.ensemble],
                [
                    (
                        f"ensemble ({final.members} models, exported)",
                        *(_fmt(v) for v in final.ensemble.values()),
                    ),
                    ("single model", *(_fmt(final.single.get(k)) for k in final.ensemble)),
                ],
            )
        )
    split = report.split
    out.append(
        (
            "p",
            f"Exported: {final.variant or ''} (trial {final.trial or ''}, "
            f"{_fmt(final.params)} parameters). Test split: {split.how}, "
            f"{'' if split.test is None else split.test} samples ({split.test_source}).",
        )
    )
    return out


def _data_blocks(report: Report) -> list[Block]:
    """Facts about the data, its classes, skipped files, split notes and other notes."""
    prof = report.profile
    skipped = report.skipped
    out: list[Block] = [("h2", "The data")]
    facts = [
        ("path", report.path),
        ("modality", prof.modality),
        ("task", prof.task),
        ("source", prof.source),
        ("samples", prof.n_samples),
        ("classes", prof.n_classes or "–"),
        ("imbalance (max/min)", prof.imbalance),
        ("skipped files", skipped.count if skipped.count is not None else prof.n_skipped or 0),
    ]
    facts += [(k, v) for k, v in prof.facts.items() if not isinstance(v, (dict, list)) or len(str(v)) < 160]
    out.append(("table", ["fact", "value"], [(k, _fmt(v)) for k, v in facts]))
    if prof.classes and len(prof.classes) <= 30:
        out.append(("table", ["class", "samples"], list(prof.classes.items())))
    if skipped.files:
        out.append(("p", f"{len(skipped.files)} file(s) could not be used and were skipped:"))
        out.append(("table", ["file", "reason"], [(s.file, s.reason) for s in skipped.files[:50]]))
    for note in report.split.notes:
        out.append(("p", f"Split: {note}."))
    if report.split.class_weight:
        out.append(
            (
                "p",
                f"Imbalanced classes (largest/smallest {report.split.imbalance} in training): the loss weighs "
                "each class by n / (classes x its count), and balanced accuracy leads the headline.",
            )
        )
    for note in report.notes:
        out.append(("p", f"Note: {note}"))
    return out


def _column_blocks(report: Report) -> list[Block]:
    """Every column of a table-sourced dataset: its role, whether the model reads it, and why (or why not)."""
    return column_blocks(report.profile.column_uses)


def column_blocks(uses: list[ColumnUse] | list[dict[str, Any]]) -> list[Block]:
    """The "Columns" section from a profile's column uses; none without columns.

    Args:
        uses: One ColumnUse (or its report.json object) per column of the table, in file order.
    """
    if not uses:
        return []
    uses = [u if isinstance(u, ColumnUse) else ColumnUse.parse(u, "column_uses[].") for u in uses]
    left_out = [i for i, u in enumerate(uses) if not u.used]
    if left_out:
        summary = (
            f"{len(uses) - len(left_out)} of {len(uses)} columns are read by the model; {len(left_out)} "
            "not used (marked), each with the reason."
        )
    else:
        summary = f"All {len(uses)} columns are read by the model."
    rows = [(u.name, u.role, "yes" if u.used else "NOT USED", u.reason) for u in uses]
    return [("h2", "Columns"), ("p", summary), ("table", ["column", "role", "used", "why"], rows, frozenset(left_out))]


def _searched_block_blocks(report: Report) -> list[Block]:
    """One line per building block the raced families chose from (archpick/blocks.py), or nothing."""
    rec = report.recommendation
    raced = [f.family for f in report.race.families] or [rec.family, rec.runner_up]
    rows = [
        (family, f"{b.hyperparameter} = {b.name}", b.description)
        for family in dict.fromkeys(f for f in raced if f)
        for b in blocks_for(report.profile.modality or "", family)
    ]
    if not rows:
        return []
    return [("p", "Blocks searched (each trial picks one):"), ("table", ["family", "block", "what it is"], rows)]


def _challenger_note(race: Race) -> str:
    """Where the raced families outside the flowchart's pair sit: challengers (raced automatically beside it)
    or requested with --families, never the flowchart's pick ('' when there are none)."""
    others = [
        f"{f.variant} ({'challenger' if f.role == 'challenger' else 'requested with --families'})"
        for f in race.families
        if f.role in ("challenger", "requested")
    ]
    return f" Also raced, not the flowchart's pick: {', '.join(others)}." if others else ""


def _race_blocks(report: Report) -> list[Block]:
    """The flowchart's path, the race between families, and every trial."""
    rec = report.recommendation
    race = report.race
    out: list[Block] = [
        ("h2", "Why this architecture: the flowchart path"),
        (
            "table",
            ["question", "answer", "evidence", "leads to"],
            [(s.question, s.answer, s.evidence, s.outcome) for s in rec.steps],
        ),
        (
            "p",
            f"Recommended: {rec.variant}. Runner-up: {rec.runner_up_variant or 'none'}.{_challenger_note(race)}",
        ),
        *_searched_block_blocks(report),
        ("h2", "Recommend, then verify: the race"),
        (
            "table",
            ["family", "role", "model", "trials", "best validation", "budget s", "used s"],
            [
                (f.family, f.role, f.variant, f.trials, _fmt(f.best_score), _fmt(f.budget), _fmt(f.seconds))
                for f in race.families
            ],
        ),
    ]
    out.extend(_selection_blocks(race.selection))
    if race.not_trainable_yet:
        out.append(("p", f"Not searched (not trainable on this data yet): {', '.join(race.not_trainable_yet)}."))
    if "race" in report.plots:
        out.append(("img", "family against family", report.plots["race"]))
    out.extend(_leaderboard_blocks(report))
    return out


def _leaderboard_blocks(report: Report) -> list[Block]:
    """Every trial, best first by the validation metric, the exported one highlighted, with why each ended."""
    trials = ranked_trials(report)
    lower = report.race.lower_is_better
    metric = metric_words(report.race.metric or "score")
    text = f"Best first by {metric} ({'lower' if lower else 'higher'} is better); the exported trial is highlighted."
    final = report.final
    if final and final.members > 1:
        text += f" The exported model is an {final.exported or 'ensemble'}; the highlighted trial is its best."
    hit = sum(t.ended == ENDED["budget"] for t in trials)
    if hit:
        text += (
            f" {hit} of {len(trials)} trials hit the time budget before they finished training: a larger "
            "--time gives them more epochs."
        )
    workers = len({t.worker for t in trials}) > 1
    headers = [
        "rank",
        "trial",
        metric,
        "ended",
        "exported",
        "seconds",
        "epochs",
        "params",
        *(["worker"] if workers else []),
        "hyperparameters",
    ]
    rows = [
        (
            i + 1,
            t.trial,
            _fmt(t.score),
            t.ended,
            t.role or "",
            _fmt(t.seconds),
            _fmt(t.epochs),
            _fmt(t.params),
            *([t.worker] if workers else []),
            _fmt(t.hyperparameters),
        )
        for i, t in enumerate(trials)
    ]
    out: list[Block] = [
        ("h2", "Leaderboard (every trial, best first)"),
        ("p", text),
        ("table", headers, rows, frozenset(i for i, t in enumerate(trials) if t.role == "exported"), "exported"),
    ]
    if report.regime:
        out.append(("p", f"Training regime: {report.regime.why}."))
    if "leaderboard" in report.plots:
        out.append(
            ("img", "every trial's validation score, best at the top (star: exported)", report.plots["leaderboard"])
        )
    return out


def _backbone_blocks(report: Report) -> list[Block]:
    """Transfer learning (--backbone): the backbone, where its weights came from, what was frozen."""
    b = report.backbone
    if b is None:
        return []
    exported = "exported" if b.exported else "not the exported model"
    rows = [
        ("backbone", b.label or b.name),
        ("weights from", f"{b.origin}: {b.path}"),
        ("input", b.input),
        ("frozen", b.frozen),
        ("used by", f"{b.searched_as} ({exported})"),
    ]
    return [("h2", "Transfer learning: the backbone"), ("table", ["item", "value"], rows)]


def _contract_blocks(report: Report) -> list[Block]:
    """How to call the exported model without archpick (model/README.md has the full text)."""
    c = report.model.contract if report.model else None
    if c is None:
        return []
    rows = [
        (f"{kind} {t.name}", t.dtype, str(t.shape))
        for kind, t in [*(("input", t) for t in c.inputs), ("output", c.output)]
    ]
    out: list[Block] = [
        ("h2", "Serving contract"),
        ("table", ["tensor", "dtype", "shape"], rows),
        (
            "p",
            f"Endpoint `{c.endpoint}` (also serving_default). Raw input: {c.raw}. "
            f"Inside the model: {c.inside}. Output: {c.meaning}.",
        ),
    ]
    if c.labels:
        out.append(("p", "Label order: " + ", ".join(f"{i}: {n}" for i, n in enumerate(c.labels)) + "."))
    out.append(
        ("p", "model/README.md has a TensorFlow snippet that needs no archpick, and a TensorFlow Serving example.")
    )
    return out


def _model_blocks(report: Report) -> list[Block]:
    """The exported model's hyperparameters, curves, per-class scores and plots; the baselines."""
    final = report.final
    plots = report.plots
    out: list[Block] = []
    if final:
        out.append(("h2", "The exported model"))
        out.append(("table", ["hyperparameter", "value"], [(k, _fmt(v)) for k, v in final.hyperparameters.items()]))
        if "learning_curves" in plots:
            out.append(("img", "learning curves of the winning trial", plots["learning_curves"]))
        if final.per_class:
            out.append(
                (
                    "table",
                    ["class", "precision", "recall", "F1", "support"],
                    [(c.name, _fmt(c.precision), _fmt(c.recall), _fmt(c.f1), c.support) for c in final.per_class],
                )
            )
        if "confusion_matrix" in plots:
            out.append(("img", "confusion matrix (test)", plots["confusion_matrix"]))
        out.extend(_forecast_blocks(report))
    out.append(("h2", "Baselines (same test split)"))
    out.append(("table", ["baseline", "metrics"], [(b.name, _fmt(b.metrics)) for b in report.baselines]))
    return out


def _short_time(stamp: str) -> str:
    """An ISO time without a midnight clock ("1960-12-01T00:00:00" -> "1960-12-01")."""
    return stamp[:-9] if stamp.endswith("T00:00:00") else stamp


def _forecast_blocks(report: Report) -> list[Block]:
    """The forecast plot and the model's forecast of the steps after the end of the data, dated."""
    view = ForecastView.from_report(report)
    if view is None:
        return []
    out: list[Block] = []
    if "forecast" in report.plots:
        title = (
            "forecast: the next steps after the data (top), the test period (bottom)"
            if view.future_values
            else "forecast over the test period"
        )
        out.append(("img", title, report.plots["forecast"]))
    if view.future_values:
        out.append(
            (
                "p",
                f"The model's forecast of the {len(view.future_values)} steps after the end of the data "
                f"(last {view.time_name}: {_short_time(view.times[-1]) if view.times else '?'}); "
                "`archpick predict RUN_DIR FILE` forecasts after the end of any file like it.",
            )
        )
        out.append(
            (
                "table",
                [view.time_name, f"forecast of {view.target}"],
                [(t, _fmt(v)) for t, v in zip(view.future_times, view.future_values)],
            )
        )
    return out


def _hardware_blocks(report: Report) -> list[Block]:
    """The hardware, the budget and the stage timings."""
    hw = report.hardware
    budget = report.budget
    return [
        ("h2", "Hardware, budget and timings"),
        (
            "table",
            ["item", "value"],
            [
                ("backend", hw.backend),
                ("device", hw.device),
                ("CPU cores", hw.cpus),
                ("threads per op", hw.threads),
                ("GPUs", _fmt(hw.gpus) or "none"),
                ("strategy", hw.strategy),
                ("precision", hw.precision),
                ("why", "; ".join(hw.reasons)),
                ("budget given (s)", _fmt(budget.given_s)),
                ("search budget (s)", _fmt(budget.search_s)),
                ("wall time used (s)", _fmt(budget.used_s)),
                ("batch size", report.batch_size),
            ]
            + [(f"stage: {k} (s)", _fmt(v)) for k, v in report.timings.items()],
        ),
    ]


def _file_blocks(report: Report) -> list[Block]:
    """Where the model, labels, trials and logs are, and how to predict."""
    model = report.model
    if model is None:
        return []
    out: list[Block] = [("h2", "Files")]
    check = f"reload check max |diff| = {_fmt(model.reload_max_abs_diff)}"
    if model.saved_model:
        out.append(
            (
                "p",
                f"SavedModel: {model.saved_model}/ (serving signature takes raw inputs; {check}), "
                f"Keras: {model.keras}, labels: model/labels.json, trials: leaderboard.csv, "
                "keras-tuner state and TensorBoard logs: tuner/.",
            )
        )
        out.append(("p", "Predict: archpick predict RUN_DIR FILE...   TensorBoard: tensorboard --logdir RUN_DIR/tuner"))
    else:
        out.append(
            (
                "p",
                f"Keras: {model.keras} ({check}), labels: model/labels.json, trials: "
                "leaderboard.csv, keras-tuner state: tuner/. No SavedModel: "
                + (model.note or "this run trained without TensorFlow."),
            )
        )
        out.append(("p", "Predict: archpick predict RUN_DIR FILE... (loads model.keras)"))
    return out


def md_text(value: Any) -> str:
    """Text from the data (a dataset's name) safe in Markdown: the characters that would start emphasis, a link,
    an HTML tag or a table cell are backslash-escaped, so `two<&sets` or `a_b_c` show as typed."""
    return re.sub(r"([\\`*_\[\]<>|&])", r"\\\1", str(value)).replace("\n", " ")


def _md_cell(value: Any, marked: bool = False) -> str:
    """A Markdown table cell: pipes escaped, one line; a marked cell in bold (its asterisks escaped)."""
    text = str(value).replace("|", "\\|").replace("\n", " ")
    if not marked or not text.strip():
        return text
    return "**" + text.replace("*", "\\*").strip() + "**"


def _markdown_table(headers: list[str], rows: list[tuple], marked: frozenset[int]) -> list[str]:
    """A Markdown table's lines (and a blank line); the rows in `marked` in bold."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(v, i in marked) for v in row) + " |" for i, row in enumerate(rows)]
    return lines + [""]


def _html_table(headers: list[str], rows: list[tuple], marked: frozenset[int], kind: str = "marked") -> str:
    """An HTML table (in a box that scrolls sideways rather than widen the page); the rows in `marked` carry
    the class `kind`."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        (f"<tr class='{kind}'>" if i in marked else "<tr>")
        + "".join(f"<td>{html.escape(str(v))}</td>" for v in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>"


def render_markdown(report: Report | dict[str, Any]) -> str:
    """Markdown form of the report (a dict is parsed first)."""
    lines: list[str] = []
    for block in blocks(report):
        kind = block[0]
        if kind == "h1":
            lines += [f"# {md_text(block[1])}", ""]
        elif kind == "h2":
            lines += [f"## {block[1]}", ""]
        elif kind == "answer":
            mark = {"good": "✅", "amber": "⚠️", "red": "❌"}[block[1]]
            lines += [f"> {mark} **Answer.** {block[2][0]}", ">", f"> {block[2][1]}", ""]
        elif kind == "verdict":
            lines += [f"**{block[1]}**", ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "table":
            lines += _markdown_table(block[1], block[2], block[3] if len(block) > 3 else frozenset())
        elif kind == "img":
            lines += [f"![{block[1]}]({block[2]})", ""]
    return "\n".join(lines)


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}td,th{border:1px solid #ddd;padding:.25em .55em;
text-align:left;vertical-align:top}th{background:#f4f6f8}.verdict{background:#f4f6f8;border-left:4px solid #8a96a3;
padding:.7em 1em;font-weight:600}img{max-width:100%;border:1px solid #eee}figure{margin:1em 0}
figcaption{font-size:.85em;color:#666}tr.marked td{background:#fff4e0;color:#7a4b00}
tr.exported td{background:#e3f3e6;font-weight:600}td{overflow-wrap:break-word}.wide{overflow-x:auto}
.answer{padding:.6em 1em;margin:1em 0;border-left:6px solid}.answer p{margin:.3em 0}
.answer.good{background:#eef6ee;border-color:#3a3}.answer.amber{background:#fff6e0;border-color:#d90}
.answer.red{background:#fdecea;border-color:#c33}"""


def render_html(report: Report | dict[str, Any], run_dir: Path) -> str:
    """Self-contained HTML: plots are embedded as data URIs, nothing is fetched (a dict is parsed first)."""
    report = Report.of(report)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>archpick: {html.escape(report.dataset)}</title>",
        f"<style>{CSS}</style></head><body>",
    ]
    for block in blocks(report):
        kind = block[0]
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
        elif kind == "answer":
            body = "".join(f"<p>{html.escape(line)}</p>" for line in block[2])
            parts.append(f"<div class='answer {block[1]}'><b>Answer</b>{body}</div>")
        elif kind == "verdict":
            parts.append(f"<p class='verdict'>{html.escape(block[1])}</p>")
        elif kind == "p":
            parts.append(f"<p>{html.escape(block[1])}</p>")
        elif kind == "table":
            parts.append(
                _html_table(
                    block[1],
                    block[2],
                    block[3] if len(block) > 3 else frozenset(),
                    block[4] if len(block) > 4 else "marked",
                )
            )
        elif kind == "img":
            path = run_dir / block[2]
            if path.exists():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                parts.append(
                    f"<figure><img alt='{html.escape(block[1])}' src='data:image/png;base64,{data}'>"
                    f"<figcaption>{html.escape(block[1])}</figcaption></figure>"
                )
    parts.append("</body></html>")
    return "\n".join(parts)
