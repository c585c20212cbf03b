"""RNN family for NaN-padded sequences: stacked GRU, LSTM or SimpleRNN with masking, bidirectional where the
whole sequence is known (classification and regression of whole sequences).

A SimpleRNN is trained with gradient-norm clipping: heads.compile_model clips any model that holds one."""

from __future__ import annotations

from typing import Any

import keras_tuner
from keras import layers

from archpick.blocks import RNN_CELLS, names
from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.layers import standardized_sequence

CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}


def recurrent_stack(x, hp: keras_tuner.HyperParameters, bidirectional_allowed: bool, mask=None, max_layers: int = 3):
    """1-`max_layers` stacked GRU, LSTM or SimpleRNN layers (archpick/blocks.py); the last returns its final state.

    Registers "cell", "rnn_layers", "units", "rnn_dropout", "recurrent_dropout" and, when a backward pass
    is allowed, "bidirectional".

    Args:
        x: (batch, steps, features) tensor (with a Keras mask attached, or `mask`).
        hp: Hyperparameters.
        bidirectional_allowed: The whole sequence is known, so a backward pass may be searched.
        mask: An explicit (batch, steps) bool mask for the first layer.
        max_layers: Largest stack searched.
    """
    cell = CELLS[hp.Choice("cell", names(RNN_CELLS), default="gru")]
    depth = hp.Int("rnn_layers", 1, max_layers, default=1)
    units = hp.Choice("units", [16, 32, 64, 128], default=64)
    dropout = hp.Float("rnn_dropout", 0.0, 0.4, step=0.1, default=0.0)
    recurrent_dropout = hp.Float("recurrent_dropout", 0.0, 0.3, step=0.1, default=0.0)
    bidirectional = bidirectional_allowed and hp.Boolean("bidirectional", default=True)
    for i in range(depth):
        last = i == depth - 1
        rnn = cell(units, return_sequences=not last, dropout=dropout, recurrent_dropout=recurrent_dropout)
        if bidirectional:
            rnn = layers.Bidirectional(rnn)
        x = rnn(x, mask=mask) if (mask is not None and i == 0) else rnn(x)
    return x


def recurrent_trial(
    cell: str,
    units: int,
    *,
    rnn_layers: int = 1,
    bidirectional: bool | None = None,
    rnn_dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
) -> dict[str, Any]:
    """Hand-picked values for what `recurrent_stack` registers ("bidirectional" only when given: a forward-only
    stack never registers it)."""
    values: dict[str, Any] = {"cell": cell, "rnn_layers": rnn_layers, "units": units}
    if bidirectional is not None:
        values["bidirectional"] = bidirectional
    return {**values, "rnn_dropout": rnn_dropout, "recurrent_dropout": recurrent_dropout}


class SequenceRNNHyperModel(ArchHyperModel):
    """GRU, LSTM or SimpleRNN with masking over raw NaN-padded (steps, features) sequences of any length."""

    family = "rnn"

    def build_body(self, hp: keras_tuner.HyperParameters):
        features = int(self.spec.input_spec.shape[-1])
        stats = self.spec.stats
        inputs, x = standardized_sequence(stats, features)
        x = recurrent_stack(x, hp, bidirectional_allowed=True)
        return inputs, x

    def initial_hps(self) -> list[dict[str, Any]]:
        """A single bidirectional GRU of 64 units with a fast learning rate (strong on short multivariate
        series such as JapaneseVowels), then a two-layer LSTM with dropout for longer or noisier ones."""
        first = {
            **recurrent_trial("gru", 64, bidirectional=True),
            "dense_units": 64,
            "dropout": 0.2,
            "learning_rate": 3e-3,
        }
        second = {
            **recurrent_trial("lstm", 64, rnn_layers=2, bidirectional=True, rnn_dropout=0.2),
            "dense_units": 0,
            "dropout": 0.3,
            "learning_rate": 2e-3,
        }
        return [first, second]
