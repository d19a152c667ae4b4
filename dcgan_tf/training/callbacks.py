"""Callbacks that turn `model.fit` into a run: sample grids, GIF, checkpoints
that resume exactly, and a guard against divergence (`dcgan_tf.training.tracking`
logs the figures).

They ask `dcgan_tf.rundir` for every path and write through it, so every file
is written atomically. An epoch that diverged (see `DivergenceGuard`) is
neither drawn, logged nor saved: the run keeps its last good state.
"""

import math
import warnings

import keras
import numpy as np
from PIL import Image

from dcgan_tf import rundir
from dcgan_tf.sampling.images import make_grid, save_gif, save_image, to_uint8
from dcgan_tf.sampling.latents import class_grid, one_hot
from dcgan_tf.system import files


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


def gif_label(grid_path) -> str:
    """The label of `progress.gif`'s frame of `samples/epoch_NNNN.png`."""
    epoch = int(grid_path.stem.rpartition("_")[2])
    return f"epoch {epoch}" + (" (untrained)" if epoch == 0 else "")


def write_gif(run: rundir.RunDir) -> None:
    """Rebuilds `progress.gif` from the grids in `samples/`, passing over,
    with one warning, any that cannot be read (cut short, not an image) or is
    not the shape of the newest grid: a damaged frame never costs training."""
    frames, paths, passed_over = [], [], []
    for path in run.grid_paths():
        try:
            with Image.open(path) as image:
                frames.append(np.asarray(image))
            paths.append(path)
        except (
            OSError,
            ValueError,
            SyntaxError,
            EOFError,
            Image.DecompressionBombError,
        ):
            passed_over.append(path)
    shape = frames[-1].shape if frames else None
    kept = [(f, p) for f, p in zip(frames, paths) if f.shape == shape]
    passed_over += [p for f, p in zip(frames, paths) if f.shape != shape]
    if passed_over:
        names = ", ".join(p.name for p in sorted(passed_over)[:3])
        more = f" and {len(passed_over) - 3} more" if len(passed_over) > 3 else ""
        warnings.warn(
            f"{names}{more} in {run.file(rundir.SAMPLES)} cannot be read as one of "
            f"the run's grids; {rundir.GIF} is made without them (move them out "
            "of the folder to silence this).",
            stacklevel=2,
        )
    if kept:
        save_gif(
            [f for f, _ in kept],
            run.file(rundir.GIF),
            labels=[gif_label(p) for _, p in kept],
        )


class SampleGrid(keras.callbacks.Callback):
    """Saves a grid of the generator's images from fixed latents every few
    epochs, and a GIF of all the grids so far.

    Grids are `samples/epoch_NNNN.png` (epoch 0 is the untrained generator);
    the GIF is rebuilt from them, so a resumed run's GIF covers the whole run.
    Images come from the generator in inference mode (batch-norm moving
    statistics), as a user of the saved generator will see them.

    Args:
        run: the `RunDir`.
        latents: the fixed latents of every grid.
        every: epochs between grids.
        gif: rebuild the GIF here; False when a `ProgressGif` placed after
            the checkpoint rebuilds it, so that it can never cost an epoch.
    """

    def __init__(self, run: rundir.RunDir, latents, every=1, gif=True):
        super().__init__()
        self.run = run
        self.latents = np.asarray(latents, dtype="float32")
        self.every = every
        self.gif = gif

    def write_grid(self, epoch):
        inputs, columns = self.latents, None
        if getattr(self.model, "num_classes", None):
            # One row per class, the same latent down each column.
            latents, labels = class_grid(self.latents, self.model.num_classes)
            inputs = [latents, one_hot(labels, self.model.num_classes)]
            columns = len(latents) // self.model.num_classes
        images = self.model.sampling_generator.predict(
            inputs, verbose=0, batch_size=256
        )
        grid = make_grid(to_uint8(images), columns=columns)
        path = save_image(grid, self.run.grid_path(epoch))  # atomically
        if self.gif:
            write_gif(self.run)
        return path

    def on_train_begin(self, logs=None):
        if not self.run.grid_paths():
            self.write_grid(0)

    def on_epoch_end(self, epoch, logs=None):
        if not healthy(self.model, logs):
            return
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or last:
            self.write_grid(epoch + 1)


class ProgressGif(keras.callbacks.Callback):
    """Rebuilds `progress.gif` after the epoch is checkpointed (placed after
    `Checkpoint`), whenever `SampleGrid` drew a grid: nothing wrong with the
    grids in `samples/` can cost the epoch."""

    def __init__(self, run: rundir.RunDir):
        super().__init__()
        self.run = run

    def on_train_begin(self, logs=None):
        if not self.run.file(rundir.GIF).is_file() and self.run.grid_paths():
            write_gif(self.run)

    def on_epoch_end(self, epoch, logs=None):
        if healthy(self.model, logs) and self.run.grid_path(epoch + 1).is_file():
            write_gif(self.run)


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
