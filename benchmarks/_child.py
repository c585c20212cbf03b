"""Run the archpick CLI in this process and append its peak RSS (MB) to the file named by ARCHPICK_RSS_FILE.

ARCHPICK_BENCH_NO_TRIM=1 turns off the malloc_trim between trials (benchmarks/bench_memory.py compares).
The benchmarks start it with `run_child`.
"""

from __future__ import annotations

import atexit
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_child(args: list[str], env: dict[str, str] | None = None, quiet: bool = True) -> tuple[float, float]:
    """Run `archpick ARGS` through this script in a child process (cwd: the repository).

    Args:
        args: The archpick command line, without "archpick".
        env: Environment variables to add (ARCHPICK_BENCH_NO_TRIM...).
        quiet: Drop the child's standard output.

    Returns:
        (wall seconds, the child's peak RSS in MB).
    """
    with tempfile.TemporaryDirectory(prefix="archpick-rss-") as tmp:
        rss_file = Path(tmp) / "peak.rss"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, *args],
            check=True,
            env={**os.environ, **(env or {}), "ARCHPICK_RSS_FILE": str(rss_file)},
            cwd=REPO,
            stdout=subprocess.DEVNULL if quiet else None,
        )
        return time.perf_counter() - start, float(rss_file.read_text())


def _record() -> None:
    path = os.environ.get("ARCHPICK_RSS_FILE")
    if path:
        with open(path, "w") as fh:
            fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    atexit.register(_record)
    if os.environ.get("ARCHPICK_BENCH_NO_TRIM") == "1":
        from archpick.hardware import import_tensorflow, quiet_tensorflow

        quiet_tensorflow(False)
        import_tensorflow()
        import archpick.search

        archpick.search.release_memory = lambda: None  # search.py's own name for it
    from archpick.cli import main

    sys.argv = ["archpick", *sys.argv[1:]]
    main()
