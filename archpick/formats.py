"""Other export formats: LiteRT (TFLite) and ONNX, converted from a run's SavedModel and checked by running them.

The SavedModel's `serve` endpoint is the model every format is converted from: it is what `archpick predict`
and TensorFlow Serving run, traced in inference mode, with the preprocessing inside. Each converted file is
run with its own runtime (LiteRT's interpreter, onnxruntime) on raw inputs read from the run's data (or,
where the data has moved, inputs of the model's shape) and compared with the SavedModel; a file that
disagrees beyond the tolerance is not written. A format that cannot carry the model is refused in one line
saying why: ONNX takes no strings (text, string tables), LiteRT has no StringNGrams (text), and a LiteRT file
that needs TensorFlow select ops (LSTM/GRU loops, string parsing) is refused when no runtime here can run it
to check it.

TensorFlow is imported inside the functions only: `archpick --help` never loads it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from archpick.contract import ENDPOINT, OUTPUT
from archpick.datasets.inputspec import InputSpec
from archpick.errors import DependencyError, OptionError, RunError
from archpick.kinds import kind_of

FORMATS = ("savedmodel", "litert", "onnx")
FILES = {"litert": "model.tflite", "onnx": "model.onnx"}
ONNX_PIP = "pip install 'archpick[onnx]'"
CHECK_INPUTS = 16  # raw inputs each converted file is checked on (fewer when the data holds fewer)
MIN_INPUTS = 6  # topped up with inputs of the model's shape when the data gives fewer (a forecast gives one)
RTOL = 1e-4  # tolerance: RTOL * max(1, largest |SavedModel output|)


@dataclass(frozen=True)
class CheckInputs:
    """Raw inputs to check a converted model on, as batches of equal shape.

    Attributes:
        batches: Each a numpy batch in the model's input dtype (an object array of str for string inputs).
        source: Where the inputs came from, in words.
    """

    batches: list[np.ndarray]
    source: str

    @property
    def count(self) -> int:
        """How many inputs there are in all."""
        return int(sum(len(b) for b in self.batches))


@dataclass(frozen=True)
class FormatResult:
    """One converted file and its check against the SavedModel.

    Attributes:
        format: "litert" or "onnx".
        path: The file written.
        size_bytes: Its size.
        converter: The converter and its version (and ONNX opset).
        runtime: The runtime the check ran it with.
        checked_on: How many raw inputs the check ran.
        inputs_from: Where those inputs came from.
        max_abs_diff: Largest absolute difference from the SavedModel's outputs.
        tolerance: The largest difference accepted.
        input_name: The model's input, by which both runtimes take it.
        notes: What a user of the file must know (e.g. TensorFlow select ops).
    """

    format: str
    path: Path
    size_bytes: int
    converter: str
    runtime: str
    checked_on: int
    inputs_from: str
    max_abs_diff: float
    tolerance: float
    input_name: str = "input"
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the terminal: what was written and how close it is to the SavedModel."""
        notes = "".join(f"; {n}" for n in self.notes)
        size = f"{self.size_bytes / 1e6:.1f} MB" if self.size_bytes >= 1e6 else f"{self.size_bytes / 1e3:.0f} kB"
        return (
            f"{LABELS[self.format]}: {self.path} ({size}, {self.converter}); "
            f"{self.runtime} on {self.checked_on} inputs ({self.inputs_from}): max |diff| from the SavedModel "
            f"{self.max_abs_diff:.2g} (tolerance {self.tolerance:.2g}){notes}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**asdict(self), "path": str(self.path)}


@dataclass(frozen=True)
class ExportResult:
    """What `archpick export` did.

    Attributes:
        run_dir: The run directory.
        saved_model: The "model" section of report.json after the SavedModel step.
        formats: One result per converted format, in the order asked.
    """

    run_dir: Path
    saved_model: dict[str, Any]
    formats: list[FormatResult] = field(default_factory=list)
    asked_saved_model: bool = True

    def lines(self) -> list[str]:
        """What was written, one line each: the SavedModel (when asked for or added), then each format."""
        out = []
        model_dir = self.run_dir / "model"
        if self.saved_model.get("already_there") and self.asked_saved_model:
            out.append(f"SavedModel: {model_dir} (already there; nothing to do)")
        elif not self.saved_model.get("already_there"):
            diff = self.saved_model.get("reload_max_abs_diff", float("nan"))
            out.append(f"SavedModel: {model_dir} (reload check max |diff| = {diff:.2g})")
        return out + [r.line() for r in self.formats]


LABELS = {"litert": "LiteRT", "onnx": "ONNX"}


def parse_formats(names: list[str] | tuple[str, ...]) -> list[str]:
    """Requested formats, lower-cased and deduplicated in order ("tflite" is "litert"); [] means savedmodel."""
    out: list[str] = []
    for name in names or ("savedmodel",):
        key = {"tflite": "litert", "saved_model": "savedmodel"}.get(name.strip().lower(), name.strip().lower())
        if key not in FORMATS:
            raise OptionError(f"unknown export format {name!r}; choose from {', '.join(FORMATS)}")
        if key not in out:
            out.append(key)
    return out


def takes_strings(spec: InputSpec) -> bool:
    """Whether the model's raw input is strings (text, or a table with string columns)."""
    return kind_of(spec).takes_strings(spec)


def refusal(fmt: str, spec: InputSpec) -> str | None:
    """Why `fmt` cannot carry a model with this input spec, or None when it can."""
    if fmt == "onnx" and takes_strings(spec):
        what = "raw text" if kind_of(spec).one_string else "table rows as strings (it has non-numeric columns)"
        return (
            f"ONNX cannot carry this model: it takes {what}, and the string handling inside it (tokenising, "
            "parsing, vocabulary lookups) is TensorFlow string ops that neither tf2onnx nor onnxruntime has; "
            "use the SavedModel (tf.saved_model.load, TensorFlow Serving)"
        )
    return None


def require(fmt: str) -> None:
    """One-line DependencyError naming the pip command when a format's converter or runtime is missing."""
    from archpick.backend import installed

    if fmt == "onnx":
        missing = [m for m in ("tf2onnx", "onnx", "onnxruntime") if not installed(m)]
        if missing:
            raise DependencyError(f"ONNX export needs {', '.join(missing)}, which is not installed; {ONNX_PIP}")
    if fmt in ("litert", "onnx") and not installed("tensorflow"):
        raise DependencyError(
            f"{LABELS[fmt]} export converts the SavedModel and needs TensorFlow; pip install tensorflow"
        )


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


@contextlib.contextmanager
def quiet_stderr(verbose: bool = False):
    """Drop what the converters' C++ code writes on file descriptor 2 (MLIR notes, absl warnings)."""
    if verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _signature(loaded) -> tuple[str, Any]:
    """The serve endpoint's one input (name, TensorSpec) (a RunError for more than one)."""
    _, specs = loaded.signatures[ENDPOINT].structured_input_signature
    if len(specs) != 1:
        raise RunError(
            f"its SavedModel's serve endpoint takes {len(specs)} inputs; archpick exports models of one input", "model"
        )
    return next(iter(specs.items()))


def _spread(items: list, n: int) -> list:
    """At most n items, evenly spaced over the list (first and last included)."""
    if len(items) <= n:
        return list(items)
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, n).round()]


def _read_data(data: Path, spec: InputSpec, limit: int) -> list[np.ndarray | str]:
    """Up to `limit` raw inputs read from the run's data as `archpick predict` reads files (spread over it)."""
    from archpick.batchpredict import expand_paths
    from archpick.errors import ArchpickError

    kind = kind_of(spec)
    targets = [t for t in expand_paths([data], kind.name).targets if t.error is None]
    read = (
        _series_windows if kind.forecasts else lambda path, spec_, n: [x for _, x in _spread(kind.read(path, spec_), n)]
    )
    raw: list[Any] = []
    for target in _spread(targets, limit):
        try:
            raw += read(target.path, spec, limit)
        except (ArchpickError, OSError, ValueError):
            continue  # a file the model cannot take: the next one
        if len(raw) >= limit:
            break
    return _spread(raw, limit)


def _series_windows(file: Path, spec: InputSpec, n: int) -> list[np.ndarray]:
    """Up to n forecast windows of a series file: the last one (what `archpick predict` serves) and windows
    ending earlier, read and imputed as in training."""
    from archpick.datasets import columns as cols
    from archpick.datasets.series import detect_time_column, prepare, select_columns, windows_from_frame

    frame = cols.read_frame(file)
    time_column, _ = detect_time_column(frame, cols.classify_columns(frame))
    values = select_columns(prepare(frame, time_column, spec.target, file), list(spec.columns), str(file)).values
    lookback = int(spec.lookback)
    ends = sorted({int(e) for e in np.linspace(lookback, len(values), n).round()}, reverse=True)
    return [windows_from_frame(values[:end], lookback, path=file)[0] for end in ends if end >= lookback]


def _synthetic(real: list[Any], shape: list[int | None], spec: InputSpec, n: int) -> list[Any]:
    """n inputs of the model's shape: real ones rescaled and jittered (NaN padding kept), else random values."""
    from archpick.decoding import input_dtype

    rng = np.random.default_rng(0)
    if takes_strings(spec):
        if kind_of(spec).one_string:
            return ["", "good", "this is not what I expected at all", "great value, would buy again"][:n]
        width = int(shape[1] or 1) if len(shape) > 1 else 1
        return [np.asarray([""] * width, dtype=object)] * min(n, 1)
    dtype = input_dtype(spec)
    out = []
    for i in range(n):
        if real and dtype != np.uint8:
            base = np.asarray(real[i % len(real)], dtype=np.float32)
            scale = np.nanstd(base) if np.isfinite(np.nanstd(base)) and np.nanstd(base) > 0 else 1.0
            out.append((base * rng.uniform(0.5, 1.5) + rng.normal(0, 0.1 * scale, base.shape)).astype(dtype))
        elif real:
            out.append(rng.integers(0, 256, np.shape(real[i % len(real)])).astype(dtype))
        else:
            dims = [d or 8 for d in shape[1:]]
            out.append((rng.integers(0, 256, dims) if dtype == np.uint8 else rng.normal(0, 1, dims)).astype(dtype))
    return out


def check_inputs(data: Path | None, spec: InputSpec, shape: list[int | None], limit: int = CHECK_INPUTS) -> CheckInputs:
    """Raw inputs to check a conversion on: read from the run's data, topped up to MIN_INPUTS with inputs of
    the model's shape (the data may have moved, and a forecast run gives one window).

    Args:
        data: The data the run fitted (report.json's "path"), or None.
        spec: The model's input_spec.
        shape: The serve endpoint's input shape.
        limit: At most this many inputs.
    """
    from archpick.export import as_array

    real = _read_data(data, spec, limit) if data is not None and data.exists() else []
    extra = _synthetic(real, shape, spec, MIN_INPUTS - len(real)) if len(real) < MIN_INPUTS else []
    source = (
        (f"{len(real)} read from {data}" if real else "")
        + (" and " if real and extra else "")
        + (f"{len(extra)} made in the model's shape" if extra else "")
    )
    inputs = real + extra
    if kind_of(spec).one_string:
        return CheckInputs([np.asarray([str(s) for s in inputs], dtype=object)], source)
    groups: dict[tuple[int, ...], list[Any]] = {}
    for x in inputs:
        groups.setdefault(np.shape(x), []).append(x)
    return CheckInputs([as_array(np.stack(group), spec) for group in groups.values()], source)


def _reference(loaded, batches: list[np.ndarray], spec: InputSpec) -> list[np.ndarray]:
    """The SavedModel's outputs on each batch."""
    from archpick.export import as_tensor

    return [np.asarray(loaded.serve(as_tensor(b, spec))) for b in batches]


def graph_ops(model_dir: Path) -> set[str]:
    """Every TensorFlow op type in the SavedModel's graph and functions (read from saved_model.pb)."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((model_dir / "saved_model.pb").read_bytes())
    ops: set[str] = set()
    for graph in saved.meta_graphs:
        ops |= {node.op for node in graph.graph_def.node}
        for function in graph.graph_def.library.function:
            ops |= {node.op for node in function.node_def}
    return ops


# TensorFlow ops that LiteRT has neither as built-ins nor as select ops, and why archpick's models use them.
NO_LITERT = {"StringNGrams": "the word 1-2-grams of the text vectoriser, which every archpick text model has"}


def litert_refusal(model_dir: Path) -> str | None:
    """Why LiteRT cannot carry the SavedModel in `model_dir` (ops it lacks), or None when it may."""
    lacking = sorted(set(NO_LITERT) & graph_ops(model_dir))
    if not lacking:
        return None
    why = "; ".join(f"{op}: {NO_LITERT[op]}" for op in lacking)
    return (
        f"LiteRT cannot carry this model: it uses TensorFlow op(s) that neither LiteRT's built-in ops nor its "
        f"TensorFlow select ops include ({why}); use the SavedModel"
    )


# Which part of an archpick model needs TensorFlow select ops in LiteRT, by a word in the ops' names.
SELECT_HINTS = {
    "TensorList": "the LSTM/GRU loop over steps, traced for any batch size",
    "String": "the string inputs, parsed inside the model",
}


def _op_names(message: str) -> list[str]:
    """The TensorFlow ops a converter error lists ("tf.StringStrip(...)", "'tf.X' op")."""
    import re

    return sorted(set(re.findall(r"\btf\.([A-Z]\w+)", message)))


def convert_litert(model_dir: Path, target: Path, verbose: bool = False) -> tuple[str, list[str]]:
    """Convert the SavedModel's serve endpoint to a .tflite file: LiteRT built-in ops where they suffice, else
    with TensorFlow select ops (string parsing, for one).

    Returns:
        The converter's name, and the TensorFlow select ops the file uses (empty: built-in ops only).
    """
    import tensorflow as tf

    def convert(select: bool) -> bytes:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(model_dir), signature_keys=[ENDPOINT])
        ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if select:
            ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
            converter._experimental_lower_tensor_list_ops = False
        converter.target_spec.supported_ops = ops
        converter.experimental_enable_resource_variables = True
        with quiet_stderr(verbose):
            return converter.convert()

    select_ops: list[str] = []
    try:
        flat = convert(select=False)
    except Exception as first:  # noqa: BLE001 - ops outside LiteRT's built-ins: retry with TensorFlow's
        try:
            flat = convert(select=True)
        except Exception as exc:  # noqa: BLE001 - the converter's own words, in one line
            from archpick.decoding import first_line

            raise RunError(
                f"its SavedModel cannot be converted to LiteRT ({first_line(exc)}); use the SavedModel", model_dir
            ) from exc
        named = _op_names(str(first)) or ["(unnamed)"]
        select_ops = sorted(named, key=lambda op: not any(key in op for key in SELECT_HINTS))  # the telling first
    target.write_bytes(flat)
    return f"TFLiteConverter, TensorFlow {tf.__version__}", select_ops


def _litert_runner(path: Path, flex: bool):
    """The file's serve signature runner, and the runtime's name: ai_edge_litert where installed (built-in ops
    only), else TensorFlow's interpreter (which also runs select ops)."""
    import warnings

    from archpick.backend import installed

    if installed("ai_edge_litert") and not flex:
        from ai_edge_litert.interpreter import Interpreter

        name = f"ai_edge_litert {_version('ai-edge-litert')}"
    else:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806 - a class
        name = f"tf.lite.Interpreter (TensorFlow {tf.__version__})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = Interpreter(model_path=str(path))
    return interpreter.get_signature_runner(ENDPOINT), name


def run_litert(
    path: Path, input_name: str, batches: list[np.ndarray], select_ops: list[str], where: Path | None = None
) -> tuple[list[np.ndarray], str]:
    """The .tflite file's outputs on each batch, and the runtime used.

    Raises:
        OptionError: The file needs TensorFlow select ops and no runtime here has the Flex delegate to run
            them, so it cannot be checked.
    """
    outputs = []
    try:
        with quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            runner, name = _litert_runner(path, bool(select_ops))
            for batch in batches:
                result = runner(**{input_name: batch})
                outputs.append(np.asarray(result[OUTPUT] if OUTPUT in result else next(iter(result.values()))))
    except RuntimeError as exc:
        if "Flex delegate" not in str(exc):
            raise
        import tensorflow as tf

        shown = ", ".join(select_ops[:6]) + (", ..." if len(select_ops) > 6 else "")
        why = "; ".join(hint for key, hint in SELECT_HINTS.items() if any(key in op for op in select_ops))
        raise OptionError(
            f"LiteRT cannot carry this model here: it needs TensorFlow select ops ({shown}"
            f"{': ' + why if why else ''}), and no "
            "LiteRT runtime installed here has the Flex delegate to run and check them (neither "
            f"ai_edge_litert nor TensorFlow {tf.__version__}'s tf.lite.Interpreter has it), so "
            "nothing was written; use the SavedModel",
            where,
        ) from exc
    return outputs, name


def _select_as_where(graph, ops):
    """tf2onnx rewriter: every Select becomes ONNX Where. tf2onnx otherwise writes a float Select as
    cond * x + (1 - cond) * y, which gives NaN where the branch not taken is NaN or infinite (0 * NaN): wrong
    for NaN-padded sequences and for MiniRocket's -inf padding (seen: every output of a vowels model)."""
    for op in ops:
        if op.type in ("Select", "SelectV2"):
            op.set_attr("handles_nan", True)
    return ops


def convert_onnx(loaded, target: Path, verbose: bool = False) -> str:
    """Convert the SavedModel's serve endpoint to ONNX with tf2onnx (dynamic batch and sizes kept).

    The endpoint is frozen here first: tf2onnx's own `from_function` turns constants captured by the
    function (a Normalization layer's mean and variance) into extra graph inputs.

    Returns:
        The converter's name, version and opset.
    """
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    name, spec = _signature(loaded)
    serve = loaded.signatures[ENDPOINT]

    @tf.function(input_signature=[tf.TensorSpec(spec.shape, spec.dtype, name=name)], autograph=False)
    def endpoint(x):
        return serve(**{name: x})[OUTPUT]

    try:
        with quiet_stderr(verbose):
            frozen = convert_variables_to_constants_v2(
                endpoint.get_concrete_function(), lower_control_flow=False, aggressive_inlining=True
            )
            inputs, outputs = [t.name for t in frozen.inputs], [t.name for t in frozen.outputs]
            proto, _ = tf2onnx.convert.from_graph_def(
                frozen.graph.as_graph_def(add_shapes=True),
                input_names=inputs,
                output_names=outputs,
                custom_rewriter=[_select_as_where],
                tensors_to_rename={inputs[0]: name, outputs[0]: OUTPUT},
                output_path=str(target),
            )
    except Exception as exc:  # noqa: BLE001 - the converter's own words, in one line
        from archpick.decoding import first_line

        raise RunError(
            f"its SavedModel cannot be converted to ONNX ({first_line(exc)}); use --format litert or the SavedModel",
            target.parent,
        ) from exc
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), "?")
    return f"tf2onnx {_version('tf2onnx')}, opset {opset}"


def run_onnx(path: Path, batches: list[np.ndarray]) -> tuple[list[np.ndarray], str]:
    """The .onnx file's outputs on each batch with onnxruntime (CPU), and the runtime used."""
    import onnxruntime

    with quiet_stderr():
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        outputs = [np.asarray(session.run(None, {name: b})[0]) for b in batches]
    return outputs, f"onnxruntime {onnxruntime.__version__}"


def _max_diff(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    """Largest absolute difference over all batches (inf when shapes differ; NaN where only one side is NaN)."""
    worst = 0.0
    for g, w in zip(got, want, strict=True):
        if g.shape != w.shape:
            return float("inf")
        both_nan = np.isnan(g) & np.isnan(w)
        diff = np.where(both_nan, 0.0, np.abs(g.astype(np.float64) - w.astype(np.float64)))
        worst = max(worst, float(np.nan_to_num(diff, nan=np.inf).max(initial=0.0)))
    return worst


def convert_and_check(
    fmt: str, model_dir: Path, loaded, spec: InputSpec, inputs: CheckInputs, verbose: bool = False
) -> FormatResult:
    """Convert to `fmt` beside the SavedModel, run the file on `inputs`, and keep it only when it agrees.

    Args:
        fmt: "litert" or "onnx".
        model_dir: RUN_DIR/model, holding the SavedModel.
        loaded: The SavedModel, loaded.
        spec: The model's input_spec.
        inputs: Raw inputs to compare the two on.
        verbose: Let the converters' logs through.

    Raises:
        OptionError: The format cannot carry the model (or no runtime here can run it to check it).
        RunError: The conversion failed, or the converted model disagrees with the SavedModel.
    """
    final = model_dir / FILES[fmt]
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    name, _ = _signature(loaded)
    want = _reference(loaded, inputs.batches, spec)
    try:
        notes: list[str] = []
        if fmt == "litert":
            converter, select_ops = convert_litert(model_dir, partial, verbose)
            got, runtime = run_litert(partial, name, inputs.batches, select_ops, model_dir.parent)
            if select_ops:
                notes.append(
                    f"uses TensorFlow select ops ({', '.join(select_ops)}): it needs a LiteRT runtime "
                    "with the Flex delegate (Android: tensorflow-lite-select-tf-ops)"
                )
        else:
            converter = convert_onnx(loaded, partial, verbose)
            got, runtime = run_onnx(partial, inputs.batches)
        diff = _max_diff(got, want)
        tolerance = RTOL * max(1.0, max(float(np.nanmax(np.abs(w), initial=0.0)) for w in want))
        if not diff <= tolerance:
            by = (
                "gives NaN or inf where the SavedModel gives numbers"
                if not np.isfinite(diff)
                else f"differs from the SavedModel by up to {diff:.3g} (tolerance {tolerance:.2g})"
            )
            raise RunError(
                f"the {LABELS[fmt]} conversion {by} on {inputs.count} raw inputs, so it was not written; "
                "use the SavedModel",
                model_dir,
            )
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    return FormatResult(
        fmt, final, final.stat().st_size, converter, runtime, inputs.count, inputs.source, diff, tolerance, name, notes
    )


def export(
    run_dir: str | Path, formats: list[str] | tuple[str, ...] = ("savedmodel",), verbose: bool = False
) -> ExportResult:
    """`archpick export`: the SavedModel (added when the run trained on JAX or torch), then each other format,
    converted from it, checked, and listed in model/README.md.

    Args:
        run_dir: A complete run directory.
        formats: Any of "savedmodel", "litert", "onnx".
        verbose: Let the converters' logs through.

    Returns:
        The SavedModel step's report section and one result per other format.

    Raises:
        OptionError: An unknown format, or one that cannot carry this model (one line saying why).
        DependencyError: A converter or runtime is not installed (the line names the pip command).
        RunError: The run has no model, or a conversion failed or disagreed with the SavedModel.
    """
    from archpick.export import add_saved_model
    from archpick.modelmeta import load_meta
    from archpick.run import load_run

    wanted = parse_formats(formats)
    others = [f for f in wanted if f != "savedmodel"]
    run = load_run(run_dir)
    if others:
        if not run.complete or not (run.model_path / "archpick.json").exists():
            raise RunError("has no exported model; was the run complete?", run.path)
        meta, _ = load_meta(run.model_path)
        for fmt in others:
            why = refusal(fmt, meta.input_spec)
            if why:
                raise OptionError(why, run.path)
            require(fmt)
        if "litert" in others and (run.model_path / "saved_model.pb").exists():
            from archpick.hardware import import_tensorflow

            import_tensorflow(verbose)
            why = litert_refusal(run.model_path)
            if why:
                raise OptionError(why, run.path)
    saved = add_saved_model(run.path)
    result = ExportResult(run.path, saved, asked_saved_model="savedmodel" in wanted)
    if not others:
        return result
    from archpick.hardware import import_tensorflow
    from archpick.run import RunLock

    tf = import_tensorflow(verbose)
    meta, _ = load_meta(run.model_path)
    spec = meta.input_spec
    loaded = tf.saved_model.load(str(run.model_path))  # keep a reference: its variables die with it
    _, signature = _signature(loaded)
    data = run.report.get("path")
    inputs = check_inputs(Path(data) if data else None, spec, signature.shape.as_list())
    with RunLock(run.path):
        for fmt in others:
            result.formats.append(convert_and_check(fmt, run.model_path, loaded, spec, inputs, verbose))
        _write_readme(run.model_path, result.formats)
    return result


def readme_lines(results: list[FormatResult]) -> list[str]:
    """The "Other formats" section of model/README.md (without its heading)."""
    lines = [
        "Converted from the SavedModel's `serve` endpoint by `archpick export --format ...`, and checked by "
        "running each file with its own runtime on raw inputs against the SavedModel. Same input (name, "
        "dtype, shape, raw values) and output as above.",
        "",
        "| file | converted with | checked with | on | max abs diff |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{r.path.name}` | {r.converter} | {r.runtime} | {r.checked_on} inputs ({r.inputs_from}) | "
        f"{r.max_abs_diff:.2g} |"
        for r in results
    ]
    notes = [f"- `{r.path.name}` {note}." for r in results for note in r.notes]
    lines += ["", *notes] if notes else []
    for r in results:
        if r.format == "onnx":
            lines += [
                "",
                "```python",
                "import onnxruntime",
                'session = onnxruntime.InferenceSession("model/model.onnx")',
                f'y = session.run(None, {{"{r.input_name}": x}})[0]  # x: a numpy batch of raw inputs',
                "```",
            ]
        if r.format == "litert":
            lines += [
                "",
                "```python",
                "from ai_edge_litert.interpreter import Interpreter",
                'runner = Interpreter(model_path="model/model.tflite").get_signature_runner("serve")',
                f'y = runner({r.input_name}=x)["{OUTPUT}"]  # x: a numpy batch of raw inputs',
                "```",
            ]
    lines += [
        "",
        "Not every model converts: ONNX has no string ops, so text models and tables with string columns "
        "stay SavedModel-only; LiteRT has no StringNGrams (every text model), and LSTM/GRU loops and string "
        "parsing need TensorFlow select ops, which neither ai_edge_litert nor TensorFlow's tf.lite.Interpreter "
        "runs (no Flex delegate), so those are refused rather than written unchecked.",
        "",
    ]
    return lines


def _write_readme(model_dir: Path, results: list[FormatResult]) -> None:
    """Add (or replace) the "Other formats" section of model/README.md, keeping formats written before."""
    from archpick.contract import with_section

    readme = model_dir / "README.md"
    text = readme.read_text() if readme.exists() else ""
    done = {r.format: r for r in _earlier_results(model_dir)}
    done.update({r.format: r for r in results})
    _save_results(model_dir, list(done.values()))
    readme.write_text(with_section(text, "Other formats", readme_lines(list(done.values()))))


RESULTS_FILE = "formats.json"


def _earlier_results(model_dir: Path) -> list[FormatResult]:
    """Results of formats converted before whose files are still there."""
    import json

    try:
        rows = json.loads((model_dir / RESULTS_FILE).read_text())
    except (OSError, ValueError):
        return []
    out = []
    for row in rows if isinstance(rows, list) else []:
        try:
            result = FormatResult(**{**row, "path": model_dir / Path(row["path"]).name})
        except (TypeError, KeyError):
            continue
        if result.path.exists():
            out.append(result)
    return out


def _save_results(model_dir: Path, results: list[FormatResult]) -> None:
    from archpick.run import write_json

    write_json(model_dir / RESULTS_FILE, [r.to_dict() for r in results])
