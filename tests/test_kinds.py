"""One Kind per input kind (archpick/kinds.py): every kind has every part, every kind a data source writes is
one of them, and the modules that serve a model look the kind up instead of switching on its name."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archpick.datasets.inputspec import InputSpec
from archpick.errors import RunError
from archpick.kinds import KINDS, Kind, kind_of

from conftest import REPO

PACKAGE = REPO / "archpick"
SERVING_MODULES = ("predict.py", "export.py", "pipeline.py", "batchpredict.py", "formats.py")
# Input kinds written by the data sources: InputSpec literals, and the modalities arrays.py writes as the kind.
SPEC_KIND = re.compile(r'InputSpec\(\s*(?:kind=)?"(\w+)"')
ARRAY_KIND = re.compile(r'(?:Shape\(\s*|modality, sample, axes = )"(\w+)"')


def _source_kinds() -> set[str]:
    found: set[str] = set()
    for file in (PACKAGE / "datasets").rglob("*.py"):
        text = file.read_text()
        found.update(SPEC_KIND.findall(text))
        if file.name == "arrays.py":
            found.update(ARRAY_KIND.findall(text))
    return found


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_every_part(name: str) -> None:
    kind = KINDS[name]
    assert isinstance(kind, Kind) and kind.name == name
    assert kind.dtype in ("string", "uint8", "float32") and kind.dtype in kind.dtypes
    assert kind.raw and kind.inside and kind.words
    assert callable(kind.read) and callable(getattr(importlib.import_module("archpick.hypermodels.stats"), kind.stats))
    suffixes = kind.suffixes()
    assert suffixes and all(s.startswith(".") and s == s.lower() for s in suffixes)


def test_the_kinds_are_the_six_input_kinds() -> None:
    assert set(KINDS) == {"image", "video", "text", "sequence", "window", "table"}
    assert "timeseries" not in KINDS  # the modality; its input kind is "window"


def test_every_kind_a_data_source_writes_is_a_kind() -> None:
    found = _source_kinds()
    assert {"image", "video", "text", "sequence", "window", "table"} <= found  # the grep still sees them all
    assert found <= set(KINDS)


def test_kind_of_takes_a_spec_or_a_name_and_refuses_unknown_kinds() -> None:
    assert kind_of(InputSpec("window", (4, 1), "float32")) is KINDS["window"] is kind_of("window")
    for bad in (InputSpec("timeseries", (4, 1), "float32"), "nope"):
        with pytest.raises(RunError, match="unknown input kind"):
            kind_of(bad)


def test_serving_dtype_and_the_array_conversion() -> None:
    table = InputSpec("table", (2,), "string")
    assert KINDS["table"].takes_strings(table) and not KINDS["table"].takes_strings(InputSpec("table", (2,), "float32"))
    rows = KINDS["table"].to_array(np.array([[1.5, "a"]], dtype=object), table)
    assert rows.dtype == object and rows.tolist() == [["1.5", "a"]]
    assert KINDS["text"].to_array(["a", 3], InputSpec("text", (), "string")).tolist() == ["a", "3"]
    assert KINDS["image"].to_array(np.zeros((1, 2, 2, 1)), InputSpec("image", (2, 2, 1), "uint8")).dtype == np.uint8
    assert KINDS["image"].to_array(np.zeros((1, 2, 2, 1)), InputSpec("image", (2, 2, 1), "float32")).dtype == np.float32
    assert KINDS["sequence"].to_array(np.zeros((1, 3, 1)), InputSpec("sequence", (3, 1), "float64")).dtype == np.float32


@pytest.mark.parametrize("module", SERVING_MODULES)
def test_no_switch_on_the_input_kind_remains(module: str) -> None:
    text = (PACKAGE / module).read_text()
    switches = re.findall(r'kind"?\]?\)?\s*(?:==|!=)\s*"\w+"|kind"?\]?\)?\s+(?:not )?in \(|\["kind"\] ==', text)
    assert not switches, f"{module} switches on the kind: {switches}; add a part to archpick/kinds.Kind instead"


def test_kinds_imports_neither_tensorflow_nor_the_readers() -> None:
    probe = (
        "import sys, archpick.kinds\nheavy = ('tensorflow', 'keras', 'archpick.datasets', "
        "'archpick.hypermodels')\nprint([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=Path(REPO), check=True)
    assert out.stdout.strip() == "[]"
