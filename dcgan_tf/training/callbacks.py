"""Callbacks that turn `model.fit` into a run: checkpoints that resume exactly
(`Checkpoint`, `restore`), and the sample grids, GIF
(`dcgan_tf.training.sample_grids`) and guard against divergence
(`dcgan_tf.training.guard`), importable from here too;
`dcgan_tf.training.tracking` logs the figures.

They ask `dcgan_tf.rundir` for every path and write through it, so every file
is written atomically. An epoch that diverged (see `DivergenceGuard`) is
neither drawn, logged nor saved: the run keeps its last good state.
"""

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.system import files
from dcgan_tf.training.guard import (  # noqa: F401 (their old home)
    DivergenceGuard,
    _finite,
    healthy,
    model_is_finite,
)
from dcgan_tf.training.sample_grids import (  # noqa: F401 (their old home)
    ProgressGif,
    SampleGrid,
    gif_label,
    write_gif,
)


class Checkpoint(keras.callbacks.Callback):
    """Saves everything a resume needs after each epoch, every few steps, and
    when a signal asks training to stop; and the generator.

    Through `RunDir.save_checkpoint`: both networks and both optimisers, the
    latent seed generator's state (within an epoch, the epoch's running
    metrics too), then `state.json` naming them. After an epoch, then
    `generator.keras` (the latest) and, every `keep_every` epochs,
    `generator_epoch_NNNN.keras`; after a signal, `generator_interrupted.keras`.

    Args:
        run: the `RunDir`.
        keep_every: epochs between kept generators (0: none).
        every_steps: steps between checkpoints within an epoch (0: none).
        steps_per_epoch: the run's steps per epoch.
        initial_step: steps of the first epoch done before this `fit` (a run
            resumed within an epoch trains the rest of it alone).
        interruptions: a `dcgan_tf.training.interrupt.Interruptions`, whose first
            signal stops training after the step that is running.
        log: the `MetricsLog`, whose step rows are written before a
            checkpoint within an epoch (so the logs hold what it holds).
        saves: False on a cluster's workers other than the chief: a signal
            stops them without saving.
    """

    def __init__(
        self,
        run: rundir.RunDir,
        keep_every=0,
        every_steps=0,
        steps_per_epoch=None,
        initial_step=0,
        interruptions=None,
        log=None,
        saves=True,
    ):
        super().__init__()
        self.saves = saves
        self.run = run
        self.keep_every = keep_every
        self.every_steps = every_steps
        self.steps_per_epoch = steps_per_epoch
        self.initial_step = initial_step
        self.interruptions = interruptions
        self.log = log
        self.saved = None  # the last checkpoint saved
        self.interrupted_at = None  # (epoch, step) where a signal stopped it

    @property
    def saved_epoch(self):
        return self.saved.epoch if self.saved and not self.saved.step else None

    def on_train_begin(self, logs=None):
        self.first_epoch = True

    def on_epoch_begin(self, epoch, logs=None):
        self.offset = self.initial_step if self.first_epoch else 0
        self.first_epoch = False
        self.epoch = epoch
        self.previous = self.offset  # steps done at the last batch's end

    def on_train_batch_end(self, batch, logs=None):
        step = self.offset + batch + 1  # steps done in this epoch
        previous, self.previous = self.previous, step
        if self.steps_per_epoch is not None and step >= self.steps_per_epoch:
            return  # the epoch's end saves it
        signalled = self.interruptions is not None and self.interruptions.requested
        if signalled and not self.saves:
            # A cluster's other workers stop with the chief, which saves.
            self.model.interrupted = True
            self.model.stop_training = True
            return
        every = self.every_steps
        # Crossing a multiple: executions of several steps may step over it.
        due = bool(every) and step // every > previous // every
        if not (signalled or due) or getattr(self.model, "diverged", False):
            return
        if not _finite(logs):
            return
        if self.log is not None:
            self.log.write_steps()
        metrics = {
            m.name: [float(np.asarray(v.value)) for v in m.variables]
            for m in self.model.metrics
        }
        seed_state = self.model.seed_generator.state
        self.saved = self.run.save_checkpoint(
            self.model, self.epoch, seed_state, step=step, metrics=metrics
        )
        if signalled:
            files.save_model(
                self.model.sampling_generator,
                self.run.file(rundir.INTERRUPTED_GENERATOR),
            )
            self.interrupted_at = (self.epoch, step)
            self.model.interrupted = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if not healthy(self.model, logs):
            return
        done = epoch + 1
        self.saved = self.run.save_checkpoint(
            self.model, done, self.model.seed_generator.state
        )
        files.save_model(self.model.sampling_generator, self.run.generator_path)
        self.run.record_generator(done)  # after it: a kill leaves it known stale
        if self.keep_every and done % self.keep_every == 0:
            files.save_model(
                self.model.sampling_generator, self.run.kept_generator_path(done)
            )
        if self.interruptions is not None and self.interruptions.requested:
            files.save_model(
                self.model.sampling_generator,
                self.run.file(rundir.INTERRUPTED_GENERATOR),
            )
            self.interrupted_at = (done, 0)
            self.model.stop_training = True


class StopAfterEpoch(keras.callbacks.Callback):
    """Ends `fit` after its first epoch: a run resumed within an epoch trains
    the rest of it in a `fit` of its own, whose epochs are that short."""

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


class RestoreMetrics(keras.callbacks.Callback):
    """Puts back, at the start of a run resumed within an epoch, the running
    metrics its checkpoint held, so that the epoch's figures average all of
    its steps as if it had never stopped."""

    def __init__(self, metrics: dict | None):
        super().__init__()
        self.metrics = metrics

    def on_epoch_begin(self, epoch, logs=None):
        if not self.metrics:
            return
        for metric in self.model.metrics:
            values = self.metrics.get(metric.name)
            if values is not None and len(values) == len(metric.variables):
                for variable, value in zip(metric.variables, values):
                    variable.assign(np.asarray(value, dtype=variable.dtype))
        self.metrics = None


def restore(model, checkpoint: rundir.SavedCheckpoint | None) -> int:
    """Loads a checkpoint into a compiled `DCGAN`.

    Returns:
        The number of completed epochs, to pass to `fit` as `initial_epoch`.
    """
    if checkpoint is None:
        return 0
    model.load_weights(checkpoint.weights)
    if checkpoint.seed_state is not None:
        seed_state = model.seed_generator.state
        seed_state.assign(np.asarray(checkpoint.seed_state, seed_state.dtype))
    return checkpoint.epoch
