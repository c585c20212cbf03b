"""Keras serialization: every custom layer and loss archpick defines is registered by the one import a
model.keras needs (`import archpick.layers`), in a fresh process."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

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
