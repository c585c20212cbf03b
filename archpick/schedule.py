"""The small-data training schedule: learning rate halved on a training-loss plateau, a stop when the training
loss has converged, and the weights of the lowest training loss kept (Fawaz et al. 2019's recipe)."""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from archpick.regime import plateau_patience

LR_FACTOR = 0.5
MIN_LR = 1e-4  # dl-4-tsc's floor
MIN_DELTA = 1e-3  # relative improvement of the training loss that counts
WARMUP_EPOCHS = 5  # epochs whose loss is never "the best": a linear head on cached features often has its
# lowest loss (cross-entropy + L2) at epoch 1, before its weights grow, and takes ~100 epochs to beat it


class TrainingLossSchedule(keras.callbacks.Callback):
    """ReduceLROnPlateau and convergence on the *training* loss, with patience sized to the trial's time.

    After the first epoch the callback knows how many epochs the trial can afford in `trial_seconds` and sets
    its patience from that (`regime.plateau_patience`); after the second it sets it again, from an epoch
    without the first one's tracing (which can be most of it when an epoch is cheap, as on cached features).
    At the end of training the weights of the lowest training loss are restored, so the checkpoint never
    depends on a handful of validation samples.

    Args:
        min_epochs: Epochs before convergence may stop training.
        trial_seconds: Seconds this trial may train (sizes the patience).
        max_epochs: Epochs the trial may run at most: patience is sized to the fewer of these and of the
            epochs its time affords, so a trial bounded by epochs trains the same on a fast and a slow machine.
    """

    def __init__(self, min_epochs: int, trial_seconds: float, max_epochs: int | None = None):
        super().__init__()
        self.min_epochs = min_epochs
        self.trial_seconds = trial_seconds
        self.max_epochs = max_epochs
        self.converged = False
        self.best_epoch = 0
        self.lr_patience = 0
        self.stop_patience = 0
        self.lr_reductions = 0
        self._best = math.inf
        self._wait = 0
        self._lr_wait = 0
        self._weights: list[np.ndarray] | None = None
        self._started = 0.0

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("loss", math.nan))
        if epoch <= 1:
            per_epoch = max(time.perf_counter() - self._started, 1e-3)
            affordable = self.trial_seconds / per_epoch
            if self.max_epochs:
                affordable = min(affordable, self.max_epochs)
            self.lr_patience, self.stop_patience = plateau_patience(affordable)
        if epoch < WARMUP_EPOCHS:
            return
        if math.isfinite(loss) and loss < self._best - MIN_DELTA * abs(self._best if math.isfinite(self._best) else 0):
            self._best, self.best_epoch = loss, epoch
            self._wait = self._lr_wait = 0
            self._weights = self.model.get_weights()
            return
        self._wait += 1
        self._lr_wait += 1
        if self._lr_wait >= self.lr_patience:
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            if lr > MIN_LR:
                self.model.optimizer.learning_rate = max(lr * LR_FACTOR, MIN_LR)
                self.lr_reductions += 1
            self._lr_wait = 0
        if epoch + 1 >= self.min_epochs and self._wait >= self.stop_patience:
            self.converged = True
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._weights is not None:
            self.model.set_weights(self._weights)
