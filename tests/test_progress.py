"""Live progress during a real fit (scikit-learn's wine table written to CSV): on a terminal a bar of the whole
budget with the family, trial, epoch and best score; in a log, plain lines and no bar; from Python, no Keras
warnings."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from rich.console import Console

import archpick
from archpick.cli import RichProgress

pytestmark = pytest.mark.slow


class Recording(RichProgress):
    """RichProgress that also keeps the epoch events it was sent and every bar description it showed."""

    def __init__(self, console: Console):
        super().__init__(console, quiet=False)
        self.epochs: list[tuple[str, str, int]] = []
        self.shown: list[str] = []

    def epoch_ended(self, family, trial_id, epoch, logs):
        self.epochs.append((family, trial_id, epoch))
        super().epoch_ended(family, trial_id, epoch, logs)

    def _advance(self, description: str) -> None:
        if self._bar is not None:
            self.shown.append(description)
        super()._advance(description)


@pytest.fixture(scope="module")
def wine(tmp_path_factory) -> Path:
    from sklearn.datasets import load_wine

    path = tmp_path_factory.mktemp("wine") / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    return path


def _fit(wine: Path, out: Path, terminal: bool, budget: str) -> tuple[Recording, str, list[warnings.WarningMessage]]:
    buffer = io.StringIO()
    progress = Recording(Console(file=buffer, force_terminal=terminal, width=140))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        archpick.fit(wine, budget, families="recommended", max_trials=1, max_epochs=12, out=out, progress=progress)
    progress.finish()
    return progress, buffer.getvalue(), caught


def test_a_terminal_shows_a_live_budget_bar_with_trial_and_epoch(wine: Path, tmp_path: Path) -> None:
    progress, text, caught = _fit(wine, tmp_path / "run", terminal=True, budget="45s")
    assert progress.live and len(progress.epochs) >= 12  # every epoch of the trial reached the display
    assert any(", epoch 12" in shown for shown in progress.shown)
    assert any(shown.startswith("dense: trial") and shown.endswith("done") for shown in progress.shown)
    assert "of 45s" in text and "━" in text  # the bar, its budget
    keras_warnings = [w for w in caught if "keras" in (w.filename or "") and issubclass(w.category, UserWarning)]
    assert not keras_warnings, [str(w.message) for w in keras_warnings]


def test_a_log_gets_plain_lines_and_no_bar(wine: Path, tmp_path: Path) -> None:
    progress, text, _ = _fit(wine, tmp_path / "run", terminal=False, budget="20s")
    assert not progress.live and progress.epochs and not progress.shown
    assert "━" not in text and "\x1b[" not in text
    assert "· loading data" in text and "trial dense-0" in text
