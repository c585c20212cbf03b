"""Run the archpick CLI in this process and append its peak RSS (MB) to the file named by ARCHPICK_RSS_FILE.

ARCHPICK_BENCH_NO_TRIM=1 turns off the malloc_trim between trials (benchmarks/bench_memory.py compares).
"""

from __future__ import annotations

import atexit
import os
import resource
import sys


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
