"""Render report.json into Markdown and self-contained HTML through one list of blocks."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from archpick.blocks import blocks_for
from archpick.report.answer import answer
from archpick.report.schema import Baseline, Report
from archpick.report.views import ENDED, ForecastView, lower_is_better, metric_words, ranked_trials

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


def _selection_blocks(sel: dict[str, Any]) -> list[Block]:
    """Cross-validated scores (mean ± spread per fold), and the check against the best baseline."""
    out: list[Block] = []
    if sel.get("folds"):
        out.append(
            (
                "p",
                f"The race was decided by {sel['folds']}-fold cross-validation on train + validation "
                f"({sel.get('samples')} samples); noise margin ±{_fmt(sel.get('noise_margin'))}.",
            )
        )
        out.append(
            (
                "table",
                ["family", "trial", "mean", "± std", "folds"],
                [
                    (s["family"], s["trial"], _fmt(s["mean"]), _fmt(s["std"]), ", ".join(_fmt(v) for v in s["folds"]))
                    for s in sel.get("scores", [])
                ],
            )
        )
    elif sel.get("validation"):
        v = sel["validation"]
        out.append(
            (
                "p",
                f"Best trials averaged on the validation split: ensemble {_fmt(v['ensemble'])}, best single "
                f"trial {_fmt(v['single'])}.",
            )
        )
    check = sel.get("baseline_check")
    if check:
        word = "beats" if check["beats"] else "does NOT beat"
        out.append(
            (
                "p",
                f"On {check['on']}, the model ({_fmt(check['model'])}) {word} the best baseline, "
                f"{check['baseline']} ({_fmt(check['baseline_score'])}).",
            )
        )
    return out


def blocks(report: dict[str, Any]) -> list[Block]:
    """The report as an ordered list of blocks, section by section."""
    out: list[Block] = [("h1", f"archpick report: {report.get('dataset', '')}")]
    card = answer(report, str(report.get("run_dir") or "RUN_DIR"))
    if card is not None:
        out.append(("answer", card.tone, card.lines()))
    out.append(("verdict", report.get("verdict", "")))
    if report.get("status") == "failed":
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
        out.extend(section(report))
    out.append(("p", f"archpick {report.get('archpick_version', '')}, {report.get('created', '')}."))
    return out


def _result_blocks(report: dict[str, Any]) -> list[Block]:
    """The headline against the best baselines, single model against ensemble, what was exported."""
    rows = headline(report)
    if not rows:
        return []
    final = report.get("final", {})
    out: list[Block] = [
        ("h2", "Result on the test split"),
        ("table", ["metric", "model", "best baseline", "gain"], rows),
    ]
    if final.get("single"):
        out.append(
            (
                "table",
                ["exported model (test split)", *final["ensemble"]],
                [
                    (
                        f"ensemble ({final.get('members')} models, exported)",
                        *(_fmt(v) for v in final["ensemble"].values()),
                    ),
                    ("single model", *(_fmt(final["single"].get(k)) for k in final["ensemble"])),
                ],
            )
        )
    split = report.get("split", {})
    out.append(
        (
            "p",
            f"Exported: {final.get('variant', '')} (trial {final.get('trial', '')}, "
            f"{_fmt(final.get('params'))} parameters). Test split: {split.get('how', '')}, "
            f"{split.get('test', '')} samples ({split.get('test_source', '')}).",
        )
    )
    return out


def _data_blocks(report: dict[str, Any]) -> list[Block]:
    """Facts about the data, its classes, skipped files, split notes and other notes."""
    prof = report.get("profile", {})
    out: list[Block] = [("h2", "The data")]
    facts = [
        ("path", report.get("path", "")),
        ("modality", prof.get("modality")),
        ("task", prof.get("task")),
        ("source", prof.get("source")),
        ("samples", prof.get("n_samples")),
        ("classes", prof.get("n_classes") or "–"),
        ("imbalance (max/min)", prof.get("imbalance")),
        ("skipped files", report.get("skipped", {}).get("count", prof.get("n_skipped", 0))),
    ]
    facts += [(k, v) for k, v in prof.get("facts", {}).items() if not isinstance(v, (dict, list)) or len(str(v)) < 160]
    out.append(("table", ["fact", "value"], [(k, _fmt(v)) for k, v in facts]))
    if prof.get("classes") and len(prof["classes"]) <= 30:
        out.append(("table", ["class", "samples"], [(k, v) for k, v in prof["classes"].items()]))
    skipped = report.get("skipped", {}).get("files", [])
    if skipped:
        out.append(("p", f"{len(skipped)} file(s) could not be used and were skipped:"))
        out.append(("table", ["file", "reason"], [(s["file"], s["reason"]) for s in skipped[:50]]))
    for note in report.get("split", {}).get("notes", []):
        out.append(("p", f"Split: {note}."))
    balance = report.get("split", {}).get("imbalance") or {}
    if balance.get("class_weight"):
        out.append(
            (
                "p",
                f"Imbalanced classes (largest/smallest {balance['ratio']} in training): the loss weighs "
                "each class by n / (classes x its count), and balanced accuracy leads the headline.",
            )
        )
    for note in report.get("notes", []):
        out.append(("p", f"Note: {note}"))
    return out


def _column_blocks(report: dict[str, Any]) -> list[Block]:
    """Every column of a table-sourced dataset: its role, whether the model reads it, and why (or why not)."""
    return column_blocks(report.get("profile", {}).get("column_uses") or [])


def column_blocks(uses: list[dict[str, Any]]) -> list[Block]:
    """The "Columns" section from a profile's column_uses (as in report.json); none without columns.

    Args:
        uses: One {"name", "role", "used", "reason"} per column of the table, in file order.
    """
    if not uses:
        return []
    left_out = [i for i, u in enumerate(uses) if not u.get("used")]
    if left_out:
        summary = (
            f"{len(uses) - len(left_out)} of {len(uses)} columns are read by the model; {len(left_out)} "
            "not used (marked), each with the reason."
        )
    else:
        summary = f"All {len(uses)} columns are read by the model."
    rows = [
        (u.get("name", ""), u.get("role", ""), "yes" if u.get("used") else "NOT USED", u.get("reason", ""))
        for u in uses
    ]
    return [("h2", "Columns"), ("p", summary), ("table", ["column", "role", "used", "why"], rows, frozenset(left_out))]


def _searched_block_blocks(report: dict[str, Any]) -> list[Block]:
    """One line per building block the raced families chose from (archpick/blocks.py), or nothing."""
    modality = report.get("profile", {}).get("modality", "")
    rec = report.get("recommendation", {})
    raced = [f["family"] for f in report.get("race", {}).get("families", [])] or [
        rec.get("family"),
        rec.get("runner_up"),
    ]
    rows = [
        (family, f"{b.hyperparameter} = {b.name}", b.description)
        for family in dict.fromkeys(f for f in raced if f)
        for b in blocks_for(modality, family)
    ]
    if not rows:
        return []
    return [("p", "Blocks searched (each trial picks one):"), ("table", ["family", "block", "what it is"], rows)]


def _challenger_note(race: dict[str, Any]) -> str:
    """Where the raced families outside the flowchart's pair sit: challengers (raced automatically beside it)
    or requested with --families, never the flowchart's pick ('' when there are none)."""
    others = [
        f"{f['variant']} ({'challenger' if f['role'] == 'challenger' else 'requested with --families'})"
        for f in race.get("families", [])
        if f.get("role") in ("challenger", "requested")
    ]
    return f" Also raced, not the flowchart's pick: {', '.join(others)}." if others else ""


def _race_blocks(report: dict[str, Any]) -> list[Block]:
    """The flowchart's path, the race between families, and every trial."""
    rec = report.get("recommendation", {})
    race = report.get("race", {})
    plots = report.get("plots", {})
    out: list[Block] = [
        ("h2", "Why this architecture: the flowchart path"),
        (
            "table",
            ["question", "answer", "evidence", "leads to"],
            [(s["question"], s["answer"], s["evidence"], s.get("outcome", "")) for s in rec.get("steps", [])],
        ),
        (
            "p",
            f"Recommended: {rec.get('variant', '')}. Runner-up: {rec.get('runner_up_variant') or 'none'}."
            f"{_challenger_note(race)}",
        ),
        *_searched_block_blocks(report),
        ("h2", "Recommend, then verify: the race"),
        (
            "table",
            ["family", "role", "model", "trials", "best validation", "budget s", "used s"],
            [
                (
                    f["family"],
                    f["role"],
                    f["variant"],
                    f["trials"],
                    _fmt(f["best_score"]),
                    _fmt(f["budget"]),
                    _fmt(f["seconds"]),
                )
                for f in race.get("families", [])
            ],
        ),
    ]
    out.extend(_selection_blocks(race.get("selection") or {}))
    if race.get("not_trainable_yet"):
        out.append(("p", f"Not searched (not trainable on this data yet): {', '.join(race['not_trainable_yet'])}."))
    if "race" in plots:
        out.append(("img", "family against family", plots["race"]))
    out.extend(_leaderboard_blocks(report))
    return out


def _leaderboard_blocks(report: dict[str, Any]) -> list[Block]:
    """Every trial, best first by the validation metric, the exported one highlighted, with why each ended."""
    trials = ranked_trials(report)
    lower = lower_is_better(report)
    metric = metric_words(report.get("race", {}).get("metric", "score"))
    text = f"Best first by {metric} ({'lower' if lower else 'higher'} is better); the exported trial is highlighted."
    final = report.get("final") or {}
    if (final.get("members") or 1) > 1:
        text += f" The exported model is an {final.get('exported', 'ensemble')}; the highlighted trial is its best."
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
    if report.get("regime"):
        out.append(("p", f"Training regime: {report['regime'].get('why', '')}."))
    if "leaderboard" in report.get("plots", {}):
        out.append(
            ("img", "every trial's validation score, best at the top (star: exported)", report["plots"]["leaderboard"])
        )
    return out


def _backbone_blocks(report: dict[str, Any]) -> list[Block]:
    """Transfer learning (--backbone): the backbone, where its weights came from, what was frozen."""
    b = report.get("backbone")
    if not b:
        return []
    exported = "exported" if b.get("exported") else "not the exported model"
    rows = [
        ("backbone", b.get("label", b.get("name", ""))),
        ("weights from", f"{b.get('origin', '')}: {b.get('path', '')}"),
        ("input", b.get("input", "")),
        ("frozen", b.get("frozen", "")),
        ("used by", f"{b.get('searched_as', '')} ({exported})"),
    ]
    return [("h2", "Transfer learning: the backbone"), ("table", ["item", "value"], rows)]


def _contract_blocks(report: dict[str, Any]) -> list[Block]:
    """How to call the exported model without archpick (model/README.md has the full text)."""
    c = (report.get("model") or {}).get("contract")
    if not c:
        return []
    rows = [(f"input {t['name']}", t["dtype"], str(tuple(t["shape"]))) for t in c["inputs"]]
    rows.append((f"output {c['output']['name']}", c["output"]["dtype"], str(tuple(c["output"]["shape"]))))
    out: list[Block] = [
        ("h2", "Serving contract"),
        ("table", ["tensor", "dtype", "shape"], rows),
        (
            "p",
            f"Endpoint `{c['endpoint']}` (also serving_default). Raw input: {c['raw']}. "
            f"Inside the model: {c['inside']}. Output: {c['meaning']}.",
        ),
    ]
    if c.get("labels"):
        out.append(("p", "Label order: " + ", ".join(f"{i}: {n}" for i, n in enumerate(c["labels"])) + "."))
    out.append(
        ("p", "model/README.md has a TensorFlow snippet that needs no archpick, and a TensorFlow Serving example.")
    )
    return out


def _model_blocks(report: dict[str, Any]) -> list[Block]:
    """The exported model's hyperparameters, curves, per-class scores and plots; the baselines."""
    final = report.get("final", {})
    plots = report.get("plots", {})
    out: list[Block] = []
    if final:
        out.append(("h2", "The exported model"))
        hps = final.get("hyperparameters", {})
        out.append(("table", ["hyperparameter", "value"], [(k, _fmt(v)) for k, v in hps.items()]))
        if "learning_curves" in plots:
            out.append(("img", "learning curves of the winning trial", plots["learning_curves"]))
        per_class = final.get("metrics", {}).get("per_class")
        if per_class:
            out.append(
                (
                    "table",
                    ["class", "precision", "recall", "F1", "support"],
                    [
                        (c["class"], _fmt(c["precision"]), _fmt(c["recall"]), _fmt(c["f1"]), c["support"])
                        for c in per_class
                    ],
                )
            )
        if "confusion_matrix" in plots:
            out.append(("img", "confusion matrix (test)", plots["confusion_matrix"]))
        out.extend(_forecast_blocks(report))
    out.append(("h2", "Baselines (same test split)"))
    out.append(
        (
            "table",
            ["baseline", "metrics"],
            [(b["name"], _fmt({k: v for k, v in b.items() if k != "name"})) for b in report.get("baselines", [])],
        )
    )
    return out


def _short_time(stamp: str) -> str:
    """An ISO time without a midnight clock ("1960-12-01T00:00:00" -> "1960-12-01")."""
    return stamp[:-9] if stamp.endswith("T00:00:00") else stamp


def _forecast_blocks(report: dict[str, Any]) -> list[Block]:
    """The forecast plot and the model's forecast of the steps after the end of the data, dated."""
    view = ForecastView.from_report(report)
    if view is None:
        return []
    out: list[Block] = []
    if "forecast" in report.get("plots", {}):
        title = (
            "forecast: the next steps after the data (top), the test period (bottom)"
            if view.future_values
            else "forecast over the test period"
        )
        out.append(("img", title, report["plots"]["forecast"]))
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


def _hardware_blocks(report: dict[str, Any]) -> list[Block]:
    """The hardware, the budget and the stage timings."""
    hw = report.get("hardware", {})
    budget = report.get("budget", {})
    return [
        ("h2", "Hardware, budget and timings"),
        (
            "table",
            ["item", "value"],
            [
                ("backend", hw.get("backend")),
                ("device", hw.get("device")),
                ("CPU cores", hw.get("cpus")),
                ("threads per op", hw.get("threads")),
                ("GPUs", _fmt([g.get("name") for g in hw.get("gpus", [])]) or "none"),
                ("strategy", hw.get("strategy")),
                ("precision", hw.get("precision")),
                ("why", "; ".join(hw.get("reasons", []))),
                ("budget given (s)", _fmt(budget.get("given_s"))),
                ("search budget (s)", _fmt(budget.get("search_s"))),
                ("wall time used (s)", _fmt(budget.get("used_s"))),
                ("batch size", report.get("batch_size")),
            ]
            + [(f"stage: {k} (s)", _fmt(v)) for k, v in report.get("timings", {}).items()],
        ),
    ]


def _file_blocks(report: dict[str, Any]) -> list[Block]:
    """Where the model, labels, trials and logs are, and how to predict."""
    model = report.get("model", {})
    if not model:
        return []
    out: list[Block] = [("h2", "Files")]
    check = f"reload check max |diff| = {_fmt(model.get('reload_max_abs_diff'))}"
    if model.get("saved_model"):
        out.append(
            (
                "p",
                f"SavedModel: {model['saved_model']}/ (serving signature takes raw inputs; {check}), "
                f"Keras: {model.get('keras')}, labels: model/labels.json, trials: leaderboard.csv, "
                "keras-tuner state and TensorBoard logs: tuner/.",
            )
        )
        out.append(("p", "Predict: archpick predict RUN_DIR FILE...   TensorBoard: tensorboard --logdir RUN_DIR/tuner"))
    else:
        out.append(
            (
                "p",
                f"Keras: {model.get('keras')} ({check}), labels: model/labels.json, trials: "
                "leaderboard.csv, keras-tuner state: tuner/. No SavedModel: "
                + (model.get("note") or "this run trained without TensorFlow."),
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


def render_markdown(report: dict[str, Any]) -> str:
    """Markdown form of the report."""
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


def render_html(report: dict[str, Any], run_dir: Path) -> str:
    """Self-contained HTML: plots are embedded as data URIs, nothing is fetched."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>archpick: {html.escape(str(report.get('dataset', '')))}</title>",
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
