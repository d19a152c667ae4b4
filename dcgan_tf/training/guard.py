"""Whether an epoch ended whole: finite losses and model, no signal.

`DivergenceGuard` stops training when the losses or the networks stop being
finite, and `healthy` is the test every callback after it applies before it
draws, logs or saves an epoch, so that a run keeps its last good state.
"""

import math

import keras
import numpy as np


def _finite(logs) -> bool:
    return all(
        math.isfinite(float(v)) for v in (logs or {}).values() if np.ndim(v) == 0
    )


def healthy(model, logs) -> bool:
    """Whether an epoch ended whole: not cut short by a signal, with finite
    logs and a model `DivergenceGuard` found finite."""
    if getattr(model, "interrupted", False):
        return False
    return _finite(logs) and not getattr(model, "diverged", False)


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training when the losses or the model stop being finite.

    Losses are checked after every batch; the weights and batch-norm moving
    statistics of both networks after every epoch (a huge learning rate can
    make a variance infinite while the losses still read finite). A diverged
    epoch sets `model.diverged`, so the callbacks after this one neither draw,
    log nor save it, and the run keeps its last good checkpoint.
    """

    def __init__(self):
        super().__init__()
        self.stopped = False

    def on_train_begin(self, logs=None):
        self.model.diverged = False

    def _stop(self):
        self.stopped = True
        self.model.diverged = True
        self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        losses = {k: logs[k] for k in ("d_loss", "g_loss") if k in (logs or {})}
        if not _finite(losses):
            self._stop()

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs) or not model_is_finite(self.model):
            self._stop()


def model_is_finite(model) -> bool:
    """Whether every variable of both networks (weights and batch-norm
    statistics) is finite."""
    networks = (model.generator, model.discriminator)
    return all(
        np.isfinite(keras.ops.convert_to_numpy(v.value)).all()
        for network in networks
        for v in network.variables
    )
