"""Race and budget logic against a mock model whose fit replays canned histories (keras-tuner's
engine/tuner_test.py style): no real training, real keras-tuner oracle and tuner."""

from __future__ import annotations

import time
from pathlib import Path

import keras
import pytest

from archpick.datasets.inputspec import InputSpec
from archpick.errors import OptionError
from archpick.flowchart import Recommendation
from archpick.hypermodels.base import ArchHyperModel, ModelSpec
from archpick.options import parse_duration
from archpick.race import choose_families, noise_margin, pick_winner, split_budget, verdict
from archpick.search import SearchSetup, search_family


class ReplayHyperModel(ArchHyperModel):
    """Builds a one-weight model; fit sleeps and returns a canned history per trial."""

    family = "rnn"
    variant = "LSTM/GRU with masking"

    def __init__(self, scores: list[float], seconds: float = 0.2):
        super().__init__(ModelSpec(InputSpec("sequence", (None, 1), "float32"), "classification", 2))
        self.scores = list(scores)
        self.seconds = seconds
        self.calls = 0

    def build(self, hp):
        hp.Int("units", 1, 64, default=8)
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        time.sleep(self.seconds)
        score = self.scores[self.calls % len(self.scores)]
        self.calls += 1
        return {"val_accuracy": score, "accuracy": score}

    def initial_hps(self):
        return [{"units": 32}]


def test_budget_stops_new_trials(tmp_path: Path) -> None:
    hm = ReplayHyperModel([0.5, 0.7, 0.6], seconds=0.5)
    result = search_family(
        SearchSetup(hm, None, None, directory=tmp_path, budget_seconds=8.0, seed=1, tensorboard=False)
    )
    oracle = result.tuner.oracle
    assert len(result.rows) >= 2
    assert all(r["seconds"] >= 0.5 for r in result.rows)
    # no trial starts once the budget cannot cover one (the median finished trial)
    starts = sorted(oracle.start_offsets.values())
    assert starts[-1] < 8.0
    durations = sorted(oracle.durations.values())
    assert 8.0 - starts[-1] >= min(durations[: len(starts) - 1]) * 0.5
    assert result.rows[0]["hyperparameters"]["units"] == 32  # the hand-picked first trial
    assert result.best_score == max(r["score"] for r in result.rows)


def test_max_trials_is_respected(tmp_path: Path) -> None:
    hm = ReplayHyperModel([0.1, 0.9], seconds=0.0)
    result = search_family(
        SearchSetup(hm, None, None, directory=tmp_path, budget_seconds=30, max_trials=2, seed=0, tensorboard=False)
    )
    assert len(result.rows) == 2 and result.best_score == 0.9 and result.best_trial == result.rows[1]["trial"]


REC = Recommendation(
    family="rnn",
    runner_up="cnn",
    reason="RNN (LSTM/GRU) (ordered, variable length)",
    variant="LSTM/GRU with masking",
    runner_up_variant="1-D CNN",
)


def test_budget_split_gives_two_thirds_to_the_recommendation() -> None:
    legs = split_budget(90.0, choose_families(REC, "sequence", None))
    assert [(leg.family, leg.role, round(leg.budget)) for leg in legs] == [
        ("rnn", "recommended", 60),
        ("cnn", "runner-up", 30),
    ]
    assert [leg.family for leg in split_budget(90.0, choose_families(REC, "sequence", "recommended"))] == ["rnn"]


def test_families_option_is_checked() -> None:
    assert choose_families(REC, "sequence", "cnn,rnn") == [("cnn", "requested"), ("rnn", "recommended")]
    with pytest.raises(OptionError, match="unknown family"):
        choose_families(REC, "sequence", "xgboost")
    with pytest.raises(OptionError, match="does not apply"):
        choose_families(REC, "image", "rnn")


def _results(rnn: list[float], cnn: list[float]):
    return [
        {"family": "rnn", "variant": "LSTM/GRU with masking", "best_score": max(rnn), "scores": rnn},
        {"family": "cnn", "variant": "1-D CNN", "best_score": max(cnn), "scores": cnn},
    ]


def test_verdict_when_the_runner_up_overturns_the_flowchart() -> None:
    results = _results([0.90, 0.93], [0.961, 0.95])
    win = pick_winner(results, "max")
    text = verdict(REC, results, win, "val_accuracy", "max")
    assert win["family"] == "cnn"
    assert text.startswith("Flowchart: RNN (LSTM/GRU) (ordered, variable length).")
    assert "overturned" in text and "beat the best LSTM/GRU with masking by 3.1 points" in text
    assert "in 2 of 2 trials" in text and text.endswith("exported the 1-D CNN.")


def test_verdict_when_the_flowchart_is_confirmed() -> None:
    results = _results([0.97, 0.90], [0.91])
    win = pick_winner(results, "max")
    text = verdict(REC, results, win, "val_accuracy", "max")
    assert win["family"] == "rnn" and "confirmed" in text and "1 of 2 trials" in text
    assert "weak evidence: the 1-D CNN finished only 1 trial" in text


def test_a_lead_within_noise_is_not_separable_and_never_confirmed() -> None:
    results = _results([0.975, 0.96], [0.97, 0.95])  # half a point on 216 samples
    margin = noise_margin("val_accuracy", 0.975, 216)
    win = pick_winner(results, "max", margin, prefer="rnn")
    text = verdict(REC, results, win, "val_accuracy", "max", margin, 216)
    assert "Not separable" in text and "confirmed" not in text and "weak evidence" not in text
    assert "within the noise of 216 validation samples" in text
    tied = _results([0.9, 0.8], [0.9, 0.7])
    tie = verdict(REC, tied, pick_winner(tied, "max"), "val_accuracy", "max")
    assert "Not separable: the LSTM/GRU with masking tied with the 1-D CNN" in tie and "confirmed" not in tie


def test_ties_go_to_the_recommendation_and_loss_is_minimised() -> None:
    assert pick_winner(_results([0.9], [0.9]), "max")["family"] == "rnn"
    losses = [{"family": "rnn", "best_score": 2.0}, {"family": "cnn", "best_score": 1.5}]
    assert pick_winner(losses, "min")["family"] == "cnn"


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("5m", 300), ("1h30m", 5400), ("45", 45), ("1.5m", 90)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["0", "-5m", "soon", "5 parsecs", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(OptionError):
        parse_duration(text)


def test_a_difference_within_noise_keeps_the_flowchart_family() -> None:
    results = _results([0.986], [0.9907])  # the runner-up is ahead by one validation sample in 216
    margin = noise_margin("val_accuracy", 0.986, 216)
    assert 0.004 < margin < 0.01
    win = pick_winner(results, "max", margin, prefer="rnn")
    assert win["family"] == "rnn"
    text = verdict(REC, results, win, "val_accuracy", "max", margin, 216)
    assert "Not separable" in text and "did not overturn" in text and "216 validation samples" in text
    assert text.endswith("exported the LSTM/GRU with masking.")
    big = pick_winner(_results([0.90], [0.96]), "max", noise_margin("val_accuracy", 0.90, 216), prefer="rnn")
    assert big["family"] == "cnn"  # six points on 216 samples is evidence
    assert noise_margin("val_loss", 2.0, 50) == pytest.approx(0.02)
