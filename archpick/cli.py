"""The `archpick` command line: parse options, call the API, print with rich. No logic lives here."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from archpick.errors import ArchpickError
from archpick.hardware import PRECISIONS

# Off a terminal (pipes, logs, CI) rich assumes 80 columns and truncates table cells; use a wider page there.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, soft_wrap=True)
PATH = click.Path(path_type=Path, readable=False)  # archpick reports unreadable paths itself, in one line
KINDS = click.Choice(["image", "video", "text", "sequence", "timeseries", "table"])


def handle_errors(func):
    """One line on stderr instead of a traceback (which only -v shows): an ArchpickError with its exit code (2 for
    bad input), and, as a last resort, any unexpected exception with exit code 1 and a request to report it."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        verbose = kwargs.get("verbose") or (click.get_current_context().find_root().params.get("verbose"))
        try:
            return func(*args, **kwargs)
        except ArchpickError as exc:
            if verbose:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: the run directory is marked incomplete; continue with --resume RUN_DIR", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the last resort: no traceback reaches a user without -v
            if verbose:
                raise
            click.echo(
                f"error: {_inputs(kwargs)}: unexpected {type(exc).__name__}: {_one_line(exc)}; this is a "
                "bug in archpick: run the command again with -v and report the traceback",
                err=True,
            )
            sys.exit(1)

    return wrapper


def _inputs(params: dict[str, Any]) -> str:
    """The input a command was given (data, run directory, files), for the last-resort error line."""
    names = [params.get(key) for key in ("path", "resume", "run_dir")] + list(params.get("files") or ())
    names = [str(name) for name in names if name is not None]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return shown or click.get_current_context().info_name or "archpick"


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, shortened to `limit` characters."""
    text = " ".join(str(exc).split()) or "(no message)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def verbosity(func):
    """-v/--verbose and -q/--quiet on every command."""
    func = click.option("-q", "--quiet", is_flag=True, help="Print only the result.")(func)
    return click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and TensorFlow logs.")(func)


def data_options(func):
    """Options that change how data is read."""
    for opt in reversed(
        [
            click.option("--kind", type=KINDS, help="Force the data kind instead of detecting it."),
            click.option("--target", help="Label/target column (tables, text CSVs, series)."),
            click.option("--horizon", type=int, help="Forecast steps ahead (time series)."),
            click.option("--lookback", type=int, help="Window length for forecasting (default: from the data)."),
            click.option("--frames", type=int, help="Frames per clip for video (default: from the data)."),
            click.option("--size", type=int, help="Image/frame side in pixels (default: from the data)."),
        ]
    ):
        func = opt(func)
    return func


def hardware_options(precision_help: str):
    """--device and --precision (its help: `precision_help`), for the commands that train."""

    def decorate(func):
        func = click.option(
            "--precision", type=click.Choice(list(PRECISIONS)), default="auto", show_default=True, help=precision_help
        )(func)
        return click.option("--device", type=click.Choice(["auto", "cpu", "gpu"]), default="auto", show_default=True)(
            func
        )

    return decorate


def _data_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = ("kind", "target", "horizon", "lookback", "frames", "size")
    return {k: kwargs.pop(k) for k in keys if k in kwargs and kwargs[k] is not None}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archpick")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and TensorFlow logs.")
def main(verbose: bool) -> None:
    """archpick: look at a dataset, pick a Keras architecture family by a flowchart, tune it within a
    wall-clock budget, check it against the runner-up, export a SavedModel and a report.

    \b
      archpick inspect data/digits        what is this data, what would you build, and why
      archpick fit data/digits --time 3m  inspect -> recommend -> tune -> export -> report
      archpick fit data/                  every dataset in a folder, one summary
      archpick report                     the latest run
      archpick predict RUN_DIR FILE...    the exported model on new raw files
    """
    from archpick.hardware import quiet_tensorflow

    quiet_tensorflow(verbose or "-v" in sys.argv[1:] or "--verbose" in sys.argv[1:])


def _columns_table(uses) -> Table:
    """Every column of a table with how it is used, or (in yellow) why it is left out."""
    left_out = sum(not u.used for u in uses)
    title = f"columns ({len(uses)}; {left_out} not used)" if left_out else f"columns ({len(uses)}, all used)"
    table = Table(title=title)
    for col in ("column", "role", "used", "why"):
        table.add_column(col, overflow="fold")
    for use in uses:
        style = None if use.used else "yellow"
        table.add_row(use.name, use.role, "yes" if use.used else "no", use.reason, style=style)
    return table


def _profile_tables(profile) -> list[Table]:
    from archpick.report.render import _fmt

    facts = Table(title=f"{profile.name}: {profile.modality} ({profile.source})", show_header=False)
    rows = [
        ("path", profile.path),
        ("task", profile.task),
        ("samples", profile.n_samples),
        ("split", profile.split + (f" ({profile.n_test} test)" if profile.n_test else "")),
        ("classes", f"{profile.n_classes} (imbalance {profile.imbalance})" if profile.classes else "–"),
        ("skipped", f"{len(profile.skipped)} file(s)"),
    ]
    rows += [(k, _fmt(v)) for k, v in profile.facts.items()]
    for key, value in rows:
        facts.add_row(str(key), str(value))
    tables = [facts]
    if profile.column_uses:
        tables.append(_columns_table(profile.column_uses))
    if profile.notes:
        notes = Table(title=f"notes ({len(profile.notes)})", show_header=False)
        notes.add_column("note", overflow="fold")
        for note in profile.notes:
            notes.add_row(note, style="yellow")
        tables.append(notes)
    if profile.classes and len(profile.classes) <= 30:
        counts = Table(title="classes")
        counts.add_column("class")
        counts.add_column("samples", justify="right")
        for name, n in profile.classes.items():
            counts.add_row(name, str(n))
        tables.append(counts)
    if profile.skipped:
        bad = Table(title=f"skipped ({len(profile.skipped)})")
        bad.add_column("file")
        bad.add_column("reason")
        for s in profile.skipped[:20]:
            bad.add_row(s.file, s.reason)
        tables.append(bad)
    return tables


def _flowchart_table(rec) -> Table:
    table = Table(title=f"flowchart -> {rec.reason}")
    for col in ("question", "answer", "evidence", "leads to"):
        table.add_column(col, overflow="fold")
    for step in rec.steps:
        table.add_row(step.question, step.answer, step.evidence, step.outcome)
    return table


@main.command()
@click.argument("path", type=PATH)
@click.option("--json", "as_json", is_flag=True, help="Print the profile and recommendation as JSON.")
@data_options
@verbosity
@handle_errors
def inspect(path: Path, as_json: bool, verbose: bool, quiet: bool, **kwargs: Any) -> None:
    """Profile PATH and show the recommended family with the flowchart path (no TensorFlow)."""
    import archpick

    profile = archpick.inspect(path, **_data_kwargs(kwargs))
    members = profile.members if profile.modality == "collection" else [profile]
    recs = [archpick.recommend(m) for m in members]
    if as_json:
        payload = [{"profile": m.to_dict(), "recommendation": r.to_dict()} for m, r in zip(members, recs)]
        skipped = [{"file": s.file, "reason": s.reason} for s in profile.skipped]
        click.echo(
            json.dumps(
                payload[0]
                if profile.modality != "collection"
                else {"collection": profile.name, "datasets": payload, "skipped": skipped},
                indent=2,
            )
        )
        return
    if profile.modality == "collection":
        out.print(f"[bold]{profile.path}[/bold] is a folder of {len(members)} datasets")
    for member, rec in zip(members, recs):
        if not quiet:
            for table in _profile_tables(member):
                out.print(table)
            out.print(_flowchart_table(rec))
        runner = f"; runner-up: {rec.runner_up_variant}" if rec.runner_up else ""
        out.print(f"[bold green]{member.name}[/]: recommend {rec.variant}{runner}")
    for s in profile.skipped if profile.modality == "collection" else []:
        out.print(f"[yellow]skipped {s.file}: {s.reason}[/]")


class RichProgress:
    """Fit progress. On a terminal: a live bar of the whole budget with the current family, trial, epoch and
    best score, stage and trial lines printed above it. Elsewhere (CI logs, pipes): the lines only.

    Args:
        console: Where to print (stderr).
        quiet: Print nothing.
    """

    def __init__(self, console: Console, quiet: bool):
        self.console = console
        self.quiet = quiet
        self.live = console.is_terminal and not quiet
        self._bar: Any = None
        self._task: Any = None
        self._started = 0.0
        self._best: dict[str, float] = {}

    def budget(self, name: str, seconds: float) -> None:
        """The fit of dataset `name` starts, with `seconds` of budget: start the bar."""
        import time

        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.finish()
        self._started = time.monotonic()
        if self.live:
            self._bar = Progress(
                TextColumn("[bold]{task.fields[name]}[/]"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("of {task.fields[budget]}"),
                TextColumn("{task.description}"),
                console=self.console,
                transient=True,
            )
            self._task = self._bar.add_task("starting", total=seconds, name=name, budget=f"{seconds:.0f}s")
            self._bar.start()

    def _advance(self, description: str) -> None:
        if self._bar is not None:
            import time

            total = self._bar.tasks[0].total or 1.0
            self._bar.update(
                self._task, completed=min(time.monotonic() - self._started, total), description=description
            )

    def finish(self) -> None:
        """Stop the bar (the fit ended, or failed)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def stage(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[dim]·[/] {text}")
        self._advance(text)

    def trial_started(self, family: str, trial_id: str, remaining: float) -> None:
        self._advance(f"{family} trial {trial_id}")

    def epoch_ended(self, family: str, trial_id: str, epoch: int, logs: dict[str, float]) -> None:
        best = self._best.get(family)
        self._advance(
            f"{family} trial {trial_id}, epoch {epoch + 1}" + (f", best so far {best:.4f}" if best is not None else "")
        )

    def trial_ended(self, family: str, row: dict[str, Any], best: float | None, remaining: float) -> None:
        if best is not None:
            self._best[family] = best
        self._advance(f"{family}: trial {row['trial']} done")
        if self.quiet:
            return
        score = "failed" if row["score"] is None else f"{row['metric']} {row['score']:.4f}"
        best_text = "–" if best is None else f"{best:.4f}"
        self.console.print(
            f"  trial [bold]{row['trial']}[/] {score}  best {best_text}  "
            f"{row['seconds'] or 0:.0f}s, {row['epochs'] or 0} epochs"
            + (f" ({row['stop_reason']})" if row.get("stop_reason") else "")
            + "  "
            f"[dim]{max(remaining, 0):.0f}s of {family} budget left[/]"
        )


@main.command()
@click.argument("path", type=PATH, required=False)
@click.option("--time", "time_budget", help="Wall-clock budget, e.g. 90s, 3m, 1h (default 5m; 8m for a folder).")
@click.option("--max-trials", type=click.IntRange(min=1), help="At most this many trials per family.")
@click.option(
    "--max-epochs",
    type=click.IntRange(min=1),
    help="At most this many epochs per trial (default: as many as the time cap allows).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", type=PATH, help="Run directory (default runs/<dataset>-<time>).")
@click.option("--families", help="'recommended', or a list such as cnn,rnn (default: recommended + runner-up).")
@click.option("--overwrite", is_flag=True, help="Replace the run directory --out (not one still being written).")
@click.option(
    "--resume",
    type=PATH,
    help="Continue an interrupted run directory (on PATH; without PATH, on the data it recorded).",
)
@hardware_options("auto: mixed_float16 on GPUs of compute capability >= 7.0, else float32.")
@click.option(
    "--chief-port",
    type=click.IntRange(1, 65535),
    help="Serve the search to `archpick worker` processes (family i on PORT+i) instead of training here.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    help="Start N local workers (one GPU each when GPUs exist) for parallel trials.",
)
@click.option(
    "--backbone",
    metavar="NAME|RUN_DIR",
    help="Start images/video from a pretrained backbone: mobilenet_v2, efficientnet_b0, resnet50 (ImageNet "
    "weights from Keras's cache, never downloaded) or an archpick image run's feature extractor.",
)
@click.option("--backbone-weights", type=PATH, help="The --backbone NAME's weights file, instead of Keras's cache.")
@data_options
@verbosity
@handle_errors
def fit(path: Path | None, time_budget: str | None, verbose: bool, quiet: bool, **kwargs: Any) -> None:
    """Inspect, recommend, tune within --time, check the runner-up, export and report (PATH: the data)."""
    import archpick

    data = _data_kwargs(kwargs)
    progress = RichProgress(err, quiet)
    verbose = verbose or bool(click.get_current_context().find_root().params.get("verbose"))
    try:
        result = archpick.fit(path, time_budget, progress=progress, verbose=verbose, **kwargs, **data)
    finally:
        progress.finish()
    _print_summary(result, quiet)


def _print_summary(result, quiet: bool) -> None:
    rep = result.report
    if "datasets" in rep:
        table = Table(title=f"summary: {rep['collection']} ({rep['used_s']} s)")
        for col in ("dataset", "modality", "recommended", "winner", "test", "baseline", "beats", "s"):
            table.add_column(col)
        for r in rep["datasets"]:
            table.add_row(
                r["dataset"],
                r["modality"],
                str(r["recommended"]),
                str(r["winner"]),
                _num(r["test_metric"]),
                _num(r["baseline"]),
                {True: "yes", False: "no", None: "–"}[r["beats_baseline"]],
                f"{r['seconds']:.0f}",
            )
        out.print(table)
        out.print(f"summary: {result.path / 'summary.html'}")
        return
    if result.status != "complete":
        out.print(
            f"[yellow]run {result.path} is INCOMPLETE (status: {result.status}); "
            f"continue it with: archpick fit --resume {result.path}[/]"
        )
    from archpick.report.answer import answer
    from archpick.report.render import headline
    from archpick.report.schema import Report
    from archpick.run import REPORT_FILE

    typed = Report.from_json(rep, result.path / REPORT_FILE)
    card = answer(typed, str(result.path))
    if card is not None:
        colour = {"good": "green", "amber": "yellow", "red": "red"}[card.tone]
        for line in card.lines():
            out.print(f"[bold {colour}]{escape(line)}[/]")
    out.print(f"[bold]{escape(typed.verdict)}[/]")

    for metric, model, base, gain in headline(typed):
        out.print(f"{metric}: [bold]{model}[/]  baseline {base}  gain {gain}")
    out.print(f"report: {result.path / 'report.html'}")
    if not quiet and typed.model is not None:
        out.print(f"model:  {result.path / 'model'}  (archpick predict {result.path} FILE...)")


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:.4f}"


@main.command()
@click.argument("path", type=PATH)
@click.option("--chief", required=True, help="HOST:PORT of `archpick fit DATA --chief-port PORT`.")
@click.option("--time", "time_budget", help="The chief's --time (sizes each trial's limit).")
@click.option("--seed", type=int, default=0, show_default=True, help="The chief's --seed (same split).")
@click.option("--families", help="The chief's --families.")
@click.option("--max-trials", type=click.IntRange(min=1), help="The chief's --max-trials.")
@click.option("--max-epochs", type=click.IntRange(min=1), help="The chief's --max-epochs.")
@click.option("--run-dir", type=PATH, help="The chief's run directory, when shared.")
@click.option("--tuner-id", default=None, help="This worker's name in the leaderboard (default worker-<pid>).")
@hardware_options("The chief's --precision.")
@click.option("--backbone", metavar="NAME|RUN_DIR", help="The chief's --backbone.")
@click.option("--backbone-weights", type=PATH, help="The chief's --backbone-weights.")
@click.option("--batch-size", type=click.IntRange(min=1), hidden=True, help="The chief's FitOptions.batch_size.")
@click.option("--share", type=click.FloatRange(0, 1), hidden=True, help="The chief's FitOptions.share.")
@data_options
@verbosity
@handle_errors
def worker(path: Path, chief: str, run_dir: Path | None, tuner_id: str | None, quiet: bool, **options: Any) -> None:
    """Join a distributed search as a keras-tuner worker (PATH: the same data the chief fits)."""
    import os

    from archpick.options import FitOptions
    from archpick.worker import run_worker

    opts = FitOptions.from_worker_options(options)  # the inverse of FitOptions.to_worker_argv
    tuner_id = tuner_id or f"worker-{os.getpid()}"
    n = run_worker(path, chief, opts, tuner_id, run_dir, RichProgress(err, quiet))
    out.print(f"{tuner_id}: done, worked on {n} family searches")


@main.command()
@click.argument("run_dir", required=False, type=PATH)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md", "html", "json"]),
    default="text",
    show_default=True,
    help="Print this form of the report.",
)
@click.option("--runs", type=PATH, default=Path("runs"), show_default=True, help="Where to look for the latest run.")
@verbosity
@handle_errors
def report(run_dir: Path | None, fmt: str, runs: Path, verbose: bool, quiet: bool) -> None:
    """Show a run (the latest under ./runs by default)."""
    from archpick.errors import RunError
    from archpick.run import DAMAGED_HINT, REPORT_FILE, latest_run, load_run

    result = load_run(run_dir or latest_run(runs))
    if fmt != "text":
        click.echo(result.read_form(fmt))
        return
    if result.complete and not result.report:
        raise RunError(f"is complete but has no {REPORT_FILE}; {DAMAGED_HINT}", result.path)
    if result.status != "complete":
        out.print(
            f"[bold yellow]INCOMPLETE run[/] {result.path} (status: {result.status}); results below, if any, "
            "are partial. Continue it with: archpick fit DATA --resume RUN_DIR"
        )
        if not result.report:
            return
    _print_summary(result, quiet)


@main.command()
@click.argument("run_dir", type=PATH)
@click.argument("files", nargs=-1, required=True, type=PATH)
@click.option(
    "-o",
    "--out",
    "--csv",
    "out_file",
    type=PATH,
    help="Write the CSV (or, with --json, the JSON lines) to this file instead of stdout.",
)
@click.option("--json", "as_json", is_flag=True, help="Print predictions as JSON lines.")
@verbosity
@handle_errors
def predict(
    run_dir: Path, files: tuple[Path, ...], out_file: Path | None, as_json: bool, verbose: bool, quiet: bool
) -> None:
    """Predict FILES with RUN_DIR's exported SavedModel (model.keras for runs trained without TensorFlow).

    FILES may be files, folders (every usable file inside, recursively) or quoted globs. The output is a CSV
    with a header: path, row (for rows of a table), prediction and one probability column per class; a
    forecast has one row per step with its date. A file that cannot be read gets a row with its error and
    the rest are predicted; a line on stderr counts them; the exit code is 2 when nothing could be predicted.
    """
    from archpick.batchpredict import check_out, format_output, predict_paths, write_output

    if out_file is not None:
        check_out(out_file)
    result = predict_paths(run_dir, list(files))
    write_output(format_output(result, as_json), out_file)
    if result.skipped or not (quiet or result.single):
        click.echo(result.summary() + (f"; written to {out_file}" if out_file is not None else ""), err=True)
    if not result.predicted_files:
        sys.exit(2)


@main.command("export")
@click.argument("run_dir", type=PATH)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["savedmodel", "litert", "onnx"], case_sensitive=False),
    help="savedmodel (default), litert (model/model.tflite) or onnx "
    "(model/model.onnx; pip install 'archpick[onnx]'); repeatable. Each file is checked against the "
    "SavedModel on raw inputs.",
)
@verbosity
@handle_errors
def export_command(run_dir: Path, formats: tuple[str, ...], verbose: bool, quiet: bool) -> None:
    """Add a SavedModel to RUN_DIR (trained on JAX or torch), or convert it to LiteRT or ONNX (needs TensorFlow)."""
    from archpick.formats import export

    for line in export(run_dir, formats, verbose).lines():
        click.echo(line)


if __name__ == "__main__":
    main()
