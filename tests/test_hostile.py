"""Bad input, faults and data safety: hostile cases pinned as data (tests/cases/hostile/*.json).

Each case file declares
    about   what the case is and what a user should get,
    root    the name of the folder the inputs are built in (default "data"; {in} in args),
    build   steps that tests/hostile_builders.py turns into files (all bytes are generated here),
    args    the command line ({in}: the built folder, {tmp}: the test's tmp_path),
    expect  one of
              {"exit": 2, "contains": [...]}  one non-empty output line holding every string (the file or
                                              column it names, and the hint), none of "absent": [...],
                                              no traceback, no warning;
              {"exit": 0, ...}                 the run goes on; `inspect --json` is checked for
                                              "skipped_at_least": N, "skipped_names": [file names],
                                              "notes_contain": "text", "profile": {"dotted.key": value},
                                              and the plain output for "rendered_contains": [...];
    xfail   (optional) the exact cause and the suggested fix, for bugs in modules this test does not own;
    needs   (optional) "non-root": run where permissions stop the user; as root (CI) the CLI then runs in a
            child process without the capabilities that override file modes (setpriv), and the case is
            skipped only where neither works.
A case with expect.exit 0 is also run without --json, so the rich tables are rendered once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archpick.cli import main
from archpick.errors import ArchpickError

from conftest import DATA, copy_class_subset
from hostile_builders import build, make_image, restore_permissions

CASES = Path(__file__).parent / "cases" / "hostile"
CASE_FILES = sorted(CASES.glob("*.json"))


def _load(file: Path) -> dict[str, Any]:
    return json.loads(file.read_text(encoding="utf-8"))


def _params() -> list:
    params = []
    for file in CASE_FILES:
        case = _load(file)
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
        params.append(pytest.param(file, id=file.stem, marks=marks))
    return params


def _fill(arg: str, root: Path, tmp: Path) -> str:
    return arg.replace("{in}", str(root)).replace("{tmp}", str(tmp))


def _permissions_bite(root: Path) -> bool:
    """False when the current user (root, or a filesystem ignoring modes) can still read a chmod-000 file."""
    probe = root.parent / ".perm-probe"
    probe.write_text("x")
    os.chmod(probe, 0)
    try:
        probe.read_text()
    except PermissionError:
        return True
    finally:
        os.chmod(probe, 0o644)
        probe.unlink()
    return False


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        data = data[key]
    return data


def _profiles(payload: dict[str, Any]) -> list[dict[str, Any]]:
    if "datasets" in payload:
        return [d["profile"] for d in payload["datasets"]]
    return [payload["profile"]]


DROP_OVERRIDE = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
]


@dataclass
class Outcome:
    """What a user sees from one CLI run: exit code, all output, stdout alone."""

    exit_code: int
    output: str
    stdout: str
    exception: BaseException | None = None


def _override_dropped(root: Path) -> bool:
    """Whether a child process run through setpriv is stopped by a chmod-000 file."""
    if shutil.which("setpriv") is None:
        return False
    probe = root.parent / ".perm-probe-child"
    probe.write_text("x")
    os.chmod(probe, 0)
    try:
        proc = subprocess.run([*DROP_OVERRIDE, "cat", str(probe)], capture_output=True, timeout=30)
        return proc.returncode != 0
    finally:
        os.chmod(probe, 0o644)
        probe.unlink()


def _invoke(args: list[str], unprivileged: bool = False) -> tuple[Outcome, list[str]]:
    if unprivileged:
        proc = subprocess.run(
            [*DROP_OVERRIDE, sys.executable, "-m", "archpick", *args], capture_output=True, text=True, timeout=300
        )
        return Outcome(proc.returncode, proc.stdout + proc.stderr, proc.stdout), []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, args)
    shown = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    return Outcome(result.exit_code, result.output, result.stdout, result.exception), shown


def test_there_are_at_least_40_cases() -> None:
    assert len(CASE_FILES) >= 40


@pytest.mark.parametrize("case_file", _params())
def test_hostile_case(case_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _load(case_file)
    root = tmp_path / case.get("root", "data")
    monkeypatch.chdir(tmp_path)
    try:
        build(root, case.get("build", []))
        unprivileged = False
        if case.get("needs") == "non-root" and not _permissions_bite(root):
            unprivileged = _override_dropped(root)
            if not unprivileged:
                pytest.skip("chmod 000 does not stop reads here, even without root's override (no setpriv)")
        args = [_fill(a, root, tmp_path) for a in case["args"]]
        expect = case["expect"]
        if expect["exit"] == 0:
            _check_usable(args, expect, unprivileged)
        else:
            _check_refused(args, expect, root, tmp_path, unprivileged)
    finally:
        restore_permissions(tmp_path)


def _check_refused(args: list[str], expect: dict[str, Any], root: Path, tmp: Path, unprivileged: bool = False) -> None:
    result, shown = _invoke(args, unprivileged)
    output = result.output
    assert "Traceback" not in output, output
    assert result.exit_code == expect["exit"], f"exit {result.exit_code}: {output}\n{result.exception!r}"
    lines = [line for line in output.splitlines() if line.strip()] + shown
    assert len(lines) == 1, "expected one line, got:\n" + "\n".join(lines)
    for needle in expect["contains"]:
        assert _fill(needle, root, tmp) in lines[0], f"{needle!r} not in {lines[0]!r}"
    for needle in expect.get("absent", []):
        assert _fill(needle, root, tmp) not in lines[0], f"{needle!r} should not be in {lines[0]!r}"


def _check_usable(args: list[str], expect: dict[str, Any], unprivileged: bool = False) -> None:
    as_json = args if "--json" in args else args + ["--json"]
    result, shown = _invoke(as_json, unprivileged)
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    assert not shown, f"warnings a user would see on stderr: {shown}"
    payload = json.loads(result.stdout)
    profiles = _profiles(payload)
    skipped = [s for p in profiles for s in p["skipped"]] + payload.get("skipped", [])
    if "skipped_at_least" in expect:
        assert len(skipped) >= expect["skipped_at_least"], skipped
        assert all(p["n_skipped"] == len(p["skipped"]) for p in profiles)
    for name in expect.get("skipped_names", []):
        assert any(Path(s["file"]).name == name or name in s["file"] for s in skipped), (name, skipped)
    if "notes_contain" in expect:
        notes = [n for p in profiles for n in p["notes"]]
        assert any(expect["notes_contain"] in n for n in notes), notes
    for key, value in expect.get("profile", {}).items():
        assert _lookup(profiles[0], key) == value, (key, _lookup(profiles[0], key))
    plain = [a for a in as_json if a != "--json"]
    rendered, _ = _invoke(plain, unprivileged)
    assert rendered.exit_code == 0, rendered.output
    assert "Traceback" not in rendered.output
    for needle in expect.get("rendered_contains", []):
        assert needle in rendered.output, f"{needle!r} not in the inspect output:\n{rendered.output}"


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    """-v re-raises: CliRunner sees the ArchpickError, and the real CLI prints a traceback on stderr."""
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["-v", "inspect", str(tmp_path / "empty")])
    assert result.exit_code != 0 and isinstance(result.exception, ArchpickError)
    assert "the folder is empty" in str(result.exception)
    quiet = CliRunner().invoke(main, ["inspect", str(tmp_path / "empty")])
    assert quiet.exit_code == 2 and "Traceback" not in quiet.output
    proc = subprocess.run(
        [sys.executable, "-m", "archpick", "inspect", str(tmp_path / "empty"), "-v"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "DataError" in proc.stderr


def _tree_digest(root: Path) -> dict[str, tuple[str, int, int]]:
    """Relative path -> (sha256 or link target, mode, mtime_ns) for everything under root, links unfollowed."""
    digest: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            if p.is_symlink():
                content = "link:" + os.readlink(p)
            elif p.is_dir():
                content = "dir"
            else:
                content = hashlib.sha256(p.read_bytes()).hexdigest()
            digest[str(p.relative_to(root))] = (content, st.st_mode, st.st_mtime_ns)
    return digest


def _messy_image_tree(root: Path) -> Path:
    for c, cls in enumerate(("cats", "dogs", "birds")):
        for i in range(5):
            make_image(root / cls / f"{i}.png", (12, 10), ("L", "RGB", "RGBA")[i % 3], 10 * c + i)
    (root / "cats" / "empty.png").write_bytes(b"")
    (root / "dogs" / "notes.jpg").write_text("not an image")
    (root / "birds" / ".DS_Store").write_bytes(b"\0\1\2")
    (root / "Thumbs.db").write_bytes(b"\0")
    return root


def test_inspect_never_writes_into_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _messy_image_tree(tmp_path / "photos")
    monkeypatch.chdir(tmp_path)
    before = _tree_digest(root)
    for args in (["inspect", str(root)], ["inspect", str(root), "--json"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    assert _tree_digest(root) == before


@pytest.mark.slow
def test_fit_never_writes_into_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_class_subset(DATA / "digits", tmp_path / "digits", 20)
    shutil.copy2(root / "3" / sorted(os.listdir(root / "3"))[0], root / "3" / "copy.png")
    (root / "7" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.chdir(tmp_path)
    before = _tree_digest(root)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        ["fit", str(root), "--time", "20s", "--max-trials", "1", "--families", "recommended", "--out", str(out), "-q"],
    )
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert (out / "report.json").exists()
    assert _tree_digest(root) == before
    assert not (tmp_path / "runs").exists()
