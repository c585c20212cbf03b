"""Keras serialization: every custom layer and loss archpick defines is registered by the one import a
model.keras needs (`import archpick.layers`), in a fresh process."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from conftest import REPO

PACKAGE = REPO / "archpick"


def _registered_classes() -> set[str]:
    """ "archpick>Class" for every class under archpick/ decorated with register_keras_serializable."""
    found = set()
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                "register_keras_serializable" in ast.unparse(d) for d in node.decorator_list
            ):
                found.add(f"archpick>{node.name}")
    return found


def test_the_grep_sees_the_custom_objects() -> None:
    names = _registered_classes()
    assert {"archpick>MaskedStandardize", "archpick>PositionEncoding", "archpick>StandardisedMSE"} <= names


def test_import_archpick_layers_registers_every_custom_object() -> None:
    names = sorted(_registered_classes())
    code = (
        "import json, sys, keras\n"
        "import archpick.layers\n"
        "names = json.loads(sys.argv[1])\n"
        "print(json.dumps([n for n in names if keras.saving.get_registered_object(n) is None]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, json.dumps(names)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_an_archpick_json_from_before_the_typed_spec_still_loads(tmp_path) -> None:
    """Runs exported before InputSpec and ModelMeta wrote keys nothing read; predict still takes them."""
    from archpick.datasets.inputspec import InputSpec
    from archpick.errors import RunError
    from archpick.modelmeta import load_meta

    old = {
        "input_spec": {"kind": "sequence", "shape": [None, 12], "dtype": "float32", "max_length": 29, "pad": "nan"},
        "task": "classification",
        "family": "cnn",
        "variant": "1-D CNN",
        "dataset": "vowels",
        "source": "ts-files",
        "archpick_version": "0.9.0",
        "profile_facts": {"files": {"train": "x"}},
        "backend": "tensorflow",
    }
    (tmp_path / "archpick.json").write_text(json.dumps(old))
    (tmp_path / "labels.json").write_text(json.dumps({"0": "a", "1": "b"}))
    meta, labels = load_meta(tmp_path)
    assert meta.input_spec == InputSpec("sequence", (None, 12), "float32", max_length=29) and labels == ["a", "b"]
    assert meta.input_spec.variable_length and meta.to_json()["input_spec"] == {
        "kind": "sequence",
        "shape": [None, 12],
        "dtype": "float32",
        "max_length": 29,
    }
    (tmp_path / "archpick.json").write_text(json.dumps({**old, "input_spec": {**old["input_spec"], "colour": 1}}))
    with pytest.raises(RunError, match="unknown keys: colour"):
        load_meta(tmp_path)
