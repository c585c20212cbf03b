"""model/archpick.json: what an exported model takes and predicts, typed (`ModelMeta`), beside labels.json.

Written once by `export.export_model`; read by predict, `archpick export`, the serving contract and
`--backbone RUN_DIR`. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archpick.datasets.inputspec import InputSpec
from archpick.errors import RunError
from archpick.kinds import KINDS
from archpick.run import read_json

META_FILE = "archpick.json"
LABELS_FILE = "labels.json"

_LEGACY_KEYS = frozenset({"profile_facts"})
"""Keys older runs wrote and nothing read: accepted and dropped."""


@dataclass(frozen=True)
class ModelMeta:
    """An exported model's metadata.

    Attributes:
        input_spec: The raw input the model takes.
        task: "classification", "regression" or "forecasting".
        family: The family that won ("cnn", "rnn", ...).
        variant: Its short name in the leaderboard.
        dataset: The dataset's name.
        source: The source module that read the data ("image-folders", "ts", ...).
        archpick_version: The archpick that exported it.
        backend: The Keras backend it was trained on.
    """

    input_spec: InputSpec
    task: str
    family: str = ""
    variant: str = ""
    dataset: str = ""
    source: str = ""
    archpick_version: str = ""
    backend: str = "tensorflow"

    def to_json(self) -> dict[str, Any]:
        """The JSON form archpick.json holds."""
        return {
            "input_spec": self.input_spec.to_json(),
            "task": self.task,
            "family": self.family,
            "variant": self.variant,
            "dataset": self.dataset,
            "source": self.source,
            "archpick_version": self.archpick_version,
            "backend": self.backend,
        }

    @classmethod
    def from_json(cls, data: Any) -> ModelMeta:
        """A ModelMeta from archpick.json's content.

        Raises:
            ValueError: Not an object, no input_spec or task, a value of the wrong type, or a key archpick
                never wrote.
        """
        if not isinstance(data, dict):
            raise ValueError(f"holds a JSON {type(data).__name__}, not an object")
        if "input_spec" not in data or not isinstance(data.get("task"), str):
            raise ValueError("needs an input_spec and a string task")
        strings = ("family", "variant", "dataset", "source", "archpick_version", "backend")
        unknown = set(data) - {"input_spec", "task", *strings} - _LEGACY_KEYS
        if unknown:
            raise ValueError(f"has unknown keys: {', '.join(sorted(unknown))}")
        values = {k: data[k] for k in strings if k in data}
        if not all(isinstance(v, str) for v in values.values()):
            raise ValueError(f"{', '.join(strings)} must be strings")
        return cls(InputSpec.from_json(data["input_spec"]), data["task"], **values)


DAMAGED_MODEL_HINT = "the exported model is damaged: fit the data again with --out RUN_DIR --overwrite"


def load_meta(model_dir: Path, hint: str = DAMAGED_MODEL_HINT) -> tuple[ModelMeta, list[str]]:
    """The metadata and class names `export.export_model` wrote into `model_dir`, validated.

    Args:
        model_dir: RUN_DIR/model.
        hint: What the user should do when a file is missing or damaged.

    Raises:
        RunError: One line naming the missing or damaged file.
    """
    data, labels = read_json(model_dir / META_FILE, hint), read_json(model_dir / LABELS_FILE, hint)
    try:
        meta = ModelMeta.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"is damaged ({exc}); {hint}", model_dir / META_FILE) from exc
    if meta.input_spec.kind not in KINDS:
        raise RunError(f"is damaged (unknown input kind {meta.input_spec.kind!r}); {hint}", model_dir / META_FILE)
    names = [labels.get(str(i)) for i in range(len(labels))]
    if not all(isinstance(n, str) for n in names):
        raise RunError(f"is damaged (not class index -> name); {hint}", model_dir / LABELS_FILE)
    return meta, names
