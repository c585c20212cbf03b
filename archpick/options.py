"""The options of a fit (FitOptions, their round trip to a worker's argv, the search budget) and parsing of
user-facing option values (budgets)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archpick.datasets.base import DataOptions
from archpick.errors import OptionError
from archpick.hardware import PRECISIONS, precision_mode
from archpick.race import RECOMMENDED_SHARE

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
        if re.fullmatch(r"-?\d+(\.\d+)?(e[-+]?\d+)?", raw):  # a float's repr (worker argv) may have an exponent
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


DEFAULT_BUDGET = 300.0  # seconds for one dataset
_DATA_KEYS = ("kind", "target", "horizon", "lookback", "frames", "size")  # DataOptions a worker reads with
_PRECISION_WORDS = {mode: word for word, mode in PRECISIONS.items()}  # plan()'s mixed_precision -> --precision


@dataclass
class FitOptions:
    """Options of `archpick fit` (see the CLI for their meaning)."""

    time_budget: float | None = None
    max_trials: int | None = None
    max_epochs: int | None = None
    seed: int = 0
    out: str | Path | None = None
    runs_root: str | Path = "runs"
    families: str | None = None
    overwrite: bool = False
    resume: str | Path | None = None
    device: str = "auto"
    mixed_precision: str = "auto"
    batch_size: int | None = None
    share: float = RECOMMENDED_SHARE
    tensorboard: bool = True
    verbose: bool = False
    chief_port: int | None = None
    workers: int = 0
    data: DataOptions = field(default_factory=DataOptions)
    backbone: str | None = None  # --backbone: a keras.applications name or an archpick image run (backbone.py)
    backbone_weights: str | None = None  # --backbone-weights FILE

    @property
    def budget(self) -> float:
        """The wall-clock budget in seconds (DEFAULT_BUDGET when none was given)."""
        return self.time_budget or DEFAULT_BUDGET

    def to_worker_argv(self) -> list[str]:
        """The `archpick worker` options that rebuild this fit's data, split, families and plan on a worker.

        `from_worker_options` reads them back; tests/test_options.py pins the round trip.
        """
        values: dict[str, Any] = {
            "time": None if self.time_budget is None else repr(float(self.time_budget)),
            "seed": self.seed,
            "families": self.families,
            "max-trials": self.max_trials or None,
            "max-epochs": self.max_epochs or None,  # 0 means no limit
            "device": self.device,
            "precision": _PRECISION_WORDS[self.mixed_precision],
            "batch-size": self.batch_size,
            "share": repr(float(self.share)),
            "backbone": self.backbone,
            "backbone-weights": self.backbone_weights,
            **{key: getattr(self.data, key) for key in _DATA_KEYS},
        }
        # --flag=value: a value that starts with "-" (a seed, a column name) is not read as an option.
        return [f"--{flag}={value}" for flag, value in values.items() if value is not None]

    @classmethod
    def from_worker_options(cls, params: Mapping[str, Any]) -> FitOptions:
        """The chief's FitOptions from the parsed options of `archpick worker` (click's params).

        Args:
            params: The worker command's parameters, by name; those a worker does not need are ignored.

        Returns:
            FitOptions equal to the chief's in every field a worker uses.
        """

        def given(key: str, default: Any) -> Any:  # an option not on the command line is None in click's params
            return default if params.get(key) is None else params[key]

        time_budget = params.get("time_budget")
        weights = params.get("backbone_weights")
        return cls(
            time_budget=parse_duration(time_budget) if time_budget else None,
            seed=given("seed", 0),
            families=params.get("families"),
            max_trials=params.get("max_trials"),
            max_epochs=params.get("max_epochs"),
            device=given("device", "auto"),
            mixed_precision=precision_mode(given("precision", "auto")),
            batch_size=params.get("batch_size"),
            share=given("share", RECOMMENDED_SHARE),
            verbose=bool(params.get("verbose")),
            backbone=params.get("backbone"),
            backbone_weights=None if weights is None else str(weights),
            data=DataOptions(**{key: params[key] for key in _DATA_KEYS if params.get(key) is not None}),
        )


def reserve_seconds(budget: float, kind: str = "") -> float:
    """Time kept back from the search for restoring, testing, baselines, exporting and reporting.

    Video pays more after the search (clips are decoded for the test split and the baseline, and the
    SavedModel export traces a larger graph).
    """
    if kind == "video":
        return min(max(30.0, 0.2 * budget), 90.0)
    return min(max(15.0, 0.1 * budget), 60.0)


def search_budget(opts: FitOptions, kind: str, elapsed: float = 0.0) -> float:
    """Seconds for the families' search: the budget less the reserve and the seconds already spent.

    The chief and its workers both plan with this. A worker cannot know the chief's start-up seconds and
    passes none, so its legs (which only size its trials; the chief's oracle ends the search) are that much
    longer.

    Args:
        opts: The fit options.
        kind: The input kind (video keeps a larger reserve).
        elapsed: Seconds of the budget spent before the search (inspecting, loading).

    Returns:
        Seconds, at least 1.
    """
    return max(opts.budget - elapsed - reserve_seconds(opts.budget, kind), 1.0)
