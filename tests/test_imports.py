"""`archpick --help`, `inspect` and `recommend()` stay free of TensorFlow and keras-tuner."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import DATA, REPO

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in ("tensorflow", "keras", "keras_tuner") if m in sys.modules)))
"""


def _heavy_modules(body: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)], capture_output=True, text=True, cwd=REPO, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_imports_no_tensorflow() -> None:
    body = (
        "from click.testing import CliRunner\nfrom archpick.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\nassert r.exit_code == 0, r.output"
    )
    assert _heavy_modules(body) == []


def test_recommend_and_inspect_import_no_tensorflow() -> None:
    body = (
        f"import archpick\np = archpick.inspect({str(DATA / 'digits')!r})\n"
        "r = archpick.recommend(p)\nassert r.family == 'cnn'\n"
        "from click.testing import CliRunner\nfrom archpick.cli import main\n"
        f"res = CliRunner().invoke(main, ['inspect', {str(DATA / 'digits')!r}])\nassert res.exit_code == 0"
    )
    assert _heavy_modules(body) == []
