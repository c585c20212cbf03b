"""Parsing of user-facing option values (budgets, family lists)."""

from __future__ import annotations

import re

from archpick.errors import OptionError

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}


def parse_duration(text: str | int | float) -> float:
    """Parse a wall-clock budget such as "90s", "5m", "1h30m" or a number of seconds.

    Args:
        text: The budget as typed.

    Returns:
        Seconds, strictly positive.

    Raises:
        OptionError: For zero, negative or unparseable budgets.
    """
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        raw = text.strip().lower()
        if re.fullmatch(r"-?\d+(\.\d+)?", raw):
            seconds = float(raw)
        else:
            parts = re.findall(r"(-?\d+(?:\.\d+)?)\s*([a-z]+)", raw)
            if not parts or "".join(a + b for a, b in parts) != raw.replace(" ", ""):
                raise OptionError(f"cannot read the budget {text!r}; use e.g. 90s, 5m or 1h")
            seconds = 0.0
            for number, unit in parts:
                if unit not in _UNITS:
                    raise OptionError(f"unknown time unit {unit!r} in {text!r}; use s, m or h")
                seconds += float(number) * _UNITS[unit]
    if seconds <= 0:
        raise OptionError(f"the budget must be positive, got {text!r}; use e.g. --time 3m")
    return seconds
