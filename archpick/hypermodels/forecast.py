"""Forecasting families over raw (lookback, features) windows: LSTM/GRU or a dilated causal Conv1D stack.

The model takes the raw window and returns `horizon` values in the target's original units:

    raw window -> WindowScale (optional log, minus the window mean, / training scale) -> body
    -> Dense(horizon), initialised at zero -> WindowUnscale (naive forecast + correction, inverse log)

Because the output layer starts at zero, an untrained model is exactly a naive forecast (seasonal when the
data has a season), and training learns a correction to it. The loss is MAE in original units, the
quantity MASE scales.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
from keras import layers

from archpick.hypermodels import heads
from archpick.hypermodels.base import ArchHyperModel
from archpick.hypermodels.layers import WindowScale, WindowUnscale
from archpick.hypermodels.rnn import recurrent_stack, recurrent_trial


class _ForecastHyperModel(ArchHyperModel):
    """Shared scaling, skip connection, zero-initialised head and un-scaling for the forecasters."""

    def _stats(self) -> dict[str, Any]:
        features = int(self.spec.input_spec.shape[-1])
        stats = dict(self.spec.stats)
        stats.setdefault("target_index", 0)
        stats.setdefault("scale", [1.0] * features)
        stats.setdefault("scale_log", [1.0] * features)
        stats.setdefault("log_ok", False)
        stats.setdefault("season", self.spec.input_spec.season)
        return stats

    def _season_fits(self) -> bool:
        season = self._stats()["season"]
        return bool(season) and 1 < int(season) <= int(self.spec.input_spec.shape[0])

    def seasonal_base(self) -> str:
        """The naive forecast a first trial builds on: the last season where one fits the window, else the
        last value."""
        return "seasonal" if self._season_fits() else "last"

    def trial(self, body: dict[str, Any], *, log: bool, base: str, dense_units: int, dropout: float) -> dict[str, Any]:
        """A hand-picked trial: the family's own values (`body`) between the scaling ("log", "base", with the
        linear path on) and the head, at a learning rate of 3e-3."""
        return {
            "log": log,
            "base": base,
            "linear_skip": True,
            **body,
            "dense_units": dense_units,
            "dropout": dropout,
            "learning_rate": 3e-3,
        }

    def scaled_input(self, hp: keras_tuner.HyperParameters):
        """(inputs, normalised window, target column of it). Registers "log", "base" and "linear_skip"."""
        stats = self._stats()
        lookback, features = (int(d) for d in self.spec.input_spec.shape)
        log = hp.Boolean("log", default=bool(stats["log_ok"])) and bool(stats["log_ok"])
        bases = ["seasonal", "last", "mean"] if self._season_fits() else ["last", "mean"]
        hp.Choice("base", bases, default=bases[0])
        hp.Boolean("linear_skip", default=True)
        inputs = keras.Input(shape=(lookback, features), dtype="float32", name="window")
        x = WindowScale(stats["scale_log"] if log else stats["scale"], log=log, name="window_scale")(inputs)
        return inputs, x

    def with_skip(self, hp: keras_tuner.HyperParameters, x, features):
        """Concatenate the flattened normalised window (a linear autoregressive path, as in LSTNet)."""
        if not hp.get("linear_skip"):
            return features
        return layers.Concatenate(name="with_linear_skip")([features, layers.Flatten()(x)])

    def head(self, hp: keras_tuner.HyperParameters, x):
        """Optional dense layer and dropout, then Dense(horizon) starting at zero (the naive forecast)."""
        units = hp.Choice("dense_units", [0, 32, 64, 128], default=0)
        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0)
        if units:
            x = layers.Dense(units, activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        return layers.Dense(self.spec.n_outputs, kernel_initializer="zeros", dtype="float32", name="prediction")(x)

    def unscale(self, hp: keras_tuner.HyperParameters, outputs, inputs):
        """Naive forecast + outputs x the target's scale, in original units (WindowUnscale)."""
        stats = self._stats()
        log = bool(hp.get("log")) and bool(stats["log_ok"])
        scales = stats["scale_log"] if log else stats["scale"]
        index = int(stats["target_index"])
        return WindowUnscale(
            index,
            self.spec.n_outputs,
            float(scales[index]),
            log=log,
            base=hp.get("base"),
            season=stats["season"],
            name="window_unscale",
        )([outputs, inputs])

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """As ArchHyperModel.build, un-scaling the output and with a learning-rate range suited to a few
        hundred windows."""
        inputs, features = self.build_body(hp)
        outputs = self.unscale(hp, self.head(hp, features), inputs)
        model = keras.Model(inputs, outputs, name=self.name.replace("-", "_"))
        lr = hp.Float("learning_rate", 3e-4, 1e-2, sampling="log", default=3e-3)
        return heads.compile_model(model, self.spec.task, lr, loss=self.loss())

    def loss(self) -> str | None:
        return "mae"


class ForecastRNNHyperModel(_ForecastHyperModel):
    """LSTM/GRU over the normalised window (forward only: the window is the past), plus a linear path."""

    family = "rnn"

    def build_body(self, hp: keras_tuner.HyperParameters):
        inputs, x = self.scaled_input(hp)
        features = recurrent_stack(x, hp, bidirectional_allowed=False, max_layers=2)
        return inputs, self.with_skip(hp, x, features)

    def initial_hps(self) -> list[dict[str, Any]]:
        """A small GRU on top of the seasonal-naive forecast in log space (trend and seasonality of monthly
        series such as airline passengers are multiplicative), then an LSTM without the log."""
        first = self.trial(recurrent_trial("gru", 32), log=True, base=self.seasonal_base(), dense_units=0, dropout=0.0)
        second = self.trial(
            recurrent_trial("lstm", 64, rnn_dropout=0.1), log=False, base="last", dense_units=32, dropout=0.1
        )
        return [first, second]


class ForecastCNNHyperModel(_ForecastHyperModel):
    """Dilated causal Conv1D stack (TCN-style) over the normalised window, plus a linear path."""

    family = "cnn"

    def build_body(self, hp: keras_tuner.HyperParameters):
        blocks = hp.Int("blocks", 1, 3, default=2)
        filters = hp.Choice("filters", [16, 32, 64], default=32)
        kernel = hp.Choice("kernel", [2, 3, 5], default=3)
        pooling = hp.Choice("pooling", ["flatten", "last", "avg"], default="flatten")
        inputs, x = self.scaled_input(hp)
        h = x
        for i in range(blocks):
            h = layers.Conv1D(filters, kernel, padding="causal", dilation_rate=2**i, activation="relu")(h)
        if pooling == "flatten":
            features = layers.Flatten()(h)
        elif pooling == "last":
            features = layers.Flatten()(layers.Cropping1D((int(h.shape[1]) - 1, 0))(h))
        else:
            features = layers.GlobalAveragePooling1D()(h)
        return inputs, self.with_skip(hp, x, features)

    def initial_hps(self) -> list[dict[str, Any]]:
        """Two dilated causal blocks of 32 filters, flattened, on the seasonal-naive forecast in log space;
        then three blocks read at the last step (a TCN) without the log."""
        first = self.trial(
            {"blocks": 2, "filters": 32, "kernel": 3, "pooling": "flatten"},
            log=True,
            base=self.seasonal_base(),
            dense_units=0,
            dropout=0.0,
        )
        second = self.trial(
            {"blocks": 3, "filters": 32, "kernel": 3, "pooling": "last"},
            log=False,
            base="last",
            dense_units=32,
            dropout=0.1,
        )
        return [first, second]
