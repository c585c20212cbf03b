"""Named fault points for the fault-matrix tests: a fit stops itself at a chosen stage, as a crash would.

`ARCHPICK_FAULT=<point>` makes the process send itself SIGKILL (or SIGINT with `ARCHPICK_FAULT_SIGNAL=INT`)
the first time it reaches that point. Unset (always, outside tests), a point costs one dictionary lookup.
Points: "load" (data loaded), "trial" (inside a trial, after an epoch), "family" (a family's search done, the
next not started), "export" (model written to its temporary folder, not yet renamed), "report" (report.json
written, Markdown and HTML not yet).
"""

from __future__ import annotations

import os
import signal

ENV = "ARCHPICK_FAULT"
SIGNAL_ENV = "ARCHPICK_FAULT_SIGNAL"
POINTS = ("load", "trial", "family", "export", "report")


def point(name: str) -> None:
    """Stop here when the environment names this point (see the module docstring)."""
    if os.environ.get(ENV) != name:
        return
    os.environ.pop(ENV)  # once: a SIGINT handled by the CLI must not fire again on the way out
    sig = signal.SIGINT if os.environ.get(SIGNAL_ENV, "KILL").upper() == "INT" else signal.SIGKILL
    os.kill(os.getpid(), sig)
