"""The serving contract of an exported model, written down: model/README.md and the report's section.

A SavedModel works without archpick, but only for someone who knows its endpoint, its input names, dtypes and
shapes, what preprocessing is already inside, and what the output means. This module states those from the
model itself (its inputs and output) and the run's metadata (the input kind, the labels), so the text cannot
drift from what was exported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from archpick.kinds import KINDS
from archpick.modelmeta import ModelMeta

ENDPOINT = "serve"  # also the SavedModel's serving_default signature
OUTPUT = "output_0"


@dataclass(frozen=True)
class TensorInfo:
    """One input or output tensor: name, dtype and shape (None = any size)."""

    name: str
    dtype: str
    shape: list[int | None]


@dataclass(frozen=True)
class ServingContract:
    """How to call an exported model without archpick.

    Attributes:
        endpoint: The SavedModel endpoint (and signature) name.
        inputs: The model's inputs.
        output: The output tensor.
        kind: The input kind.
        raw: What a raw input is.
        inside: The preprocessing the model does itself.
        meaning: What the output holds.
        labels: Class names in output order (classification), else empty.
        columns: Table columns in input order, else empty.
    """

    endpoint: str
    inputs: list[TensorInfo]
    output: TensorInfo
    kind: str
    raw: str
    inside: str
    meaning: str
    labels: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for report.json)."""
        return asdict(self)


def _dtype(t) -> str:
    dtype = getattr(t, "dtype", "float32")
    return str(getattr(dtype, "name", dtype))


def describe(model, meta: ModelMeta, class_names: list[str]) -> ServingContract:
    """The contract of `model` as exported with `meta` (archpick.json) and `class_names` (labels.json)."""
    spec = meta.input_spec
    kind = spec.kind
    inputs = [
        TensorInfo(t.name.split(":")[0], _dtype(t), [None if d is None else int(d) for d in t.shape])
        for t in model.inputs
    ]
    out = model.outputs[0]
    output = TensorInfo(OUTPUT, _dtype(out), [None if d is None else int(d) for d in out.shape])
    task = meta.task
    if task == "classification":
        meaning = (
            f"class probabilities (batch, {len(class_names)}), summing to 1, in the order of labels.json: "
            'index i is the class named by key "i"'
        )
    elif task == "forecasting":
        meaning = f"the next {spec.horizon or 1} values of the target, in its units (batch, horizon)"
    else:
        meaning = "the predicted target, in its units (batch, outputs)"
    known = KINDS.get(kind)
    raw, inside = (known.raw, known.inside) if known else ("raw inputs", "preprocessing inside the model")
    if kind == "table" and spec.row:  # a table with string columns takes one string per column
        raw = str(spec.row).rstrip(".")
        inside = (
            "numbers parsed, imputed and standardised; categories one-hot or embedded; text as TF-IDF; "
            "dates as calendar features"
        )
    return ServingContract(
        ENDPOINT,
        inputs,
        output,
        kind,
        raw,
        inside,
        meaning,
        labels=list(class_names) if task == "classification" else [],
        columns=list(spec.columns or ()) if kind == "table" else [],
    )


def _example(contract: ServingContract) -> str:
    first = contract.inputs[0]
    dims = [1 if d is None else d for d in first.shape[1:]] or []
    if first.dtype == "string" and len(first.shape) == 2:  # a table row: one string per column
        empty = ", ".join(['""'] * int(first.shape[1] or 1))
        value = f"tf.constant([[{empty}]])"
    elif first.dtype == "string":
        value = 'tf.constant(["some text to classify"])'
    else:
        value = (
            f"tf.zeros([1, {', '.join(str(d) for d in dims)}], tf.{first.dtype})"
            if dims
            else f"tf.zeros([1], tf.{first.dtype})"
        )
    return value


def markdown(contract: ServingContract, saved_model: bool) -> str:
    """model/README.md."""
    lines = [
        "# Serving contract",
        "",
        "This folder holds the exported model. It takes raw inputs: the preprocessing is inside it.",
        "",
        "## Inputs",
        "",
        "| name | dtype | shape |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{t.name}` | {t.dtype} | {tuple(t.shape)} |" for t in contract.inputs]
    lines += ["", f"Raw input: {contract.raw}.", "", f"Inside the model: {contract.inside}.", ""]
    if contract.columns:
        lines += ["Columns, in input order: " + ", ".join(f"`{c}`" for c in contract.columns) + ".", ""]
    lines += [
        "## Output",
        "",
        f"`{contract.output.name}`, {contract.output.dtype}, shape {tuple(contract.output.shape)}: {contract.meaning}.",
        "",
    ]
    if contract.labels:
        lines += ["Label order (labels.json): " + ", ".join(f"{i}: `{n}`" for i, n in enumerate(contract.labels)), ""]
    if saved_model:
        lines += [
            "## Without archpick (TensorFlow only)",
            "",
            "```python",
            "import tensorflow as tf",
            'model = tf.saved_model.load("model")  # run from RUN_DIR, which holds this folder',
            f"x = {_example(contract)}  # your raw inputs, as above",
            f"y = model.{contract.endpoint}(x)  # {contract.output.name}",
            "print(y.numpy())",
            "```",
            "",
            "TensorFlow Serving (the folder as version 1 of a model named `m`):",
            "",
            "```sh",
            'curl -d \'{"signature_name": "serve", "instances": [...]}\' \\',
            "  http://localhost:8501/v1/models/m:predict",
            "```",
            "",
        ]
    lines += [
        "## With Keras (any backend)",
        "",
        "```python",
        "import keras",
        "import archpick.layers  # registers archpick's custom layers",
        'model = keras.saving.load_model("model/model.keras", compile=False)',
        "```",
        "",
        "Or: `archpick predict RUN_DIR FILE_OR_FOLDER --csv out.csv`.",
        "",
    ]
    return "\n".join(lines)


def with_section(readme: str, title: str, lines: list[str]) -> str:
    """model/README.md with its `## title` section replaced by (or, when absent, ended with) `lines`."""
    heading = f"## {title}"
    kept = readme.rstrip("\n").split("\n") if readme.strip() else []
    if heading in kept:
        start = kept.index(heading)
        end = next((i for i in range(start + 1, len(kept)) if kept[i].startswith("## ")), len(kept))
        kept = kept[:start] + kept[end:]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept + ["", heading, "", *lines]).lstrip("\n").rstrip("\n") + "\n"
