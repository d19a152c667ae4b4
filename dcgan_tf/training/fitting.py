"""Fitting a prepared run: the callbacks that write its directory, `model.fit`
from wherever it stands (an epoch's end, or a step within one), and signals.

A run resumed within an epoch trains the rest of that epoch in a `fit` of its
own (Keras' epochs are all one length), its running metrics put back, then
the epochs after it. Ctrl-C, SIGTERM and SIGHUP stop training after the step
that is running, which is checkpointed (`dcgan_tf.training.interrupt`).
"""

import shutil
import signal
import warnings

import keras

from dcgan_tf import rundir
from dcgan_tf.data import make_dataset
from dcgan_tf.model.distribute import is_chief, shard_by_batch
from dcgan_tf.quality.monitor import quality_monitor
from dcgan_tf.system import files
from dcgan_tf.training.callbacks import Checkpoint, RestoreMetrics, StopAfterEpoch
from dcgan_tf.training.guard import DivergenceGuard
from dcgan_tf.training.interrupt import Interruptions
from dcgan_tf.training.progress import EpochLine, ProgressBar
from dcgan_tf.training.sample_grids import ProgressGif, SampleGrid
from dcgan_tf.training.tracking import MetricsLog


def fit_run(run, callbacks=(), verbose="auto"):
    """Trains a prepared `dcgan_tf.training.run.Run` to its planned epochs,
    stopping cleanly at a signal; returns it with how it ended."""
    config = run.config
    if run.initial_epoch >= config.epochs:
        return run
    _warn_of_another_backend(run)
    epoch, step = run.initial_epoch, run.initial_step
    with Interruptions() as interruptions, interruptions.deferred():
        try:
            if step:
                # Resumed within an epoch: the rest of it alone, then the others.
                _fit_epochs(run, callbacks, verbose, interruptions, epoch, step)
                epoch += 1
            if not (run.interrupted or run.diverged) and epoch < config.epochs:
                _fit_epochs(run, callbacks, verbose, interruptions, epoch)
        finally:
            if not is_chief(run.strategy):
                shutil.rmtree(run.run_dir.path, ignore_errors=True)
    return run


def _warn_of_another_backend(run):
    """Warns when the checkpoint a run resumes from was trained under another
    Keras backend: its numbers differ in the last bits, so the run continues
    but no longer as it would have without the stop (issue #28)."""
    resumed = run.saved
    backend = keras.backend.backend()
    if resumed is not None and resumed.backend not in (None, backend):
        warnings.warn(
            f"{run.run_dir} was trained under {resumed.backend} to "
            f"{resumed.describe()} and continues under {backend}, so not as it "
            f"would have without the stop; --backend {resumed.backend} resumes it "
            "exactly.",
            stacklevel=3,
        )


def _fit_epochs(run, callbacks, verbose, interruptions, epoch, step=0):
    """One `model.fit` from `epoch` epochs and `step` steps: to the planned
    epochs, or, from within an epoch, only to its end."""
    config = run.config
    steps = config.steps_per_epoch
    rest_of_epoch, initial_step = bool(step), step
    log = MetricsLog(
        run.run_dir,
        steps,
        log_every=config.log_every,
        tensorboard=config.tensorboard,
        config=config.to_dict(),
        initial_epoch=epoch,
        initial_step=initial_step,
        initial_metrics=run.initial_metrics if rest_of_epoch else None,
    )
    guard = DivergenceGuard()
    checkpoint = Checkpoint(
        run.run_dir,
        keep_every=config.keep_every,
        every_steps=config.checkpoint_every_steps,
        steps_per_epoch=steps,
        initial_step=initial_step,
        interruptions=interruptions,
        log=log,
        saves=is_chief(run.strategy),
    )
    all_callbacks = [guard, *callbacks]
    if rest_of_epoch:
        all_callbacks.insert(0, RestoreMetrics(run.initial_metrics))
    if config.quality_every:
        all_callbacks.append(
            quality_monitor(config, run.images, run.run_dir, run.features)
        )
    grids = SampleGrid(run.run_dir, run.latents, every=config.sample_every, gif=False)
    all_callbacks += [grids, log]
    # The checkpoint before any line is printed (a print that fails cannot
    # cost the epoch it trained), the GIF after it (a damaged grid in
    # samples/ cannot either).
    all_callbacks += [checkpoint, ProgressGif(run.run_dir)]
    if verbose:
        # The progress line (Keras would add its own last), then the speed and
        # the time to the end.
        all_callbacks += [
            ProgressBar(steps, initial_step),
            EpochLine(config.batch_size, steps - initial_step),
        ]
    if rest_of_epoch:
        all_callbacks.append(StopAfterEpoch())
    dataset = make_dataset(
        run.images,
        config.batch_size,
        config.seed,
        start_batch=epoch * steps + initial_step,
        labels=run.labels,
    )
    dataset = shard_by_batch(dataset, run.strategy)
    run.model.interrupted = False
    try:
        history = run.model.fit(
            dataset,
            epochs=config.epochs,
            steps_per_epoch=steps - initial_step,
            initial_epoch=epoch,
            callbacks=all_callbacks,
            shuffle=False,
            verbose=verbose,
        )
        run.history = run.history or history
    except KeyboardInterrupt:
        # Not through `Interruptions` (a thread other than the main one, a
        # notebook): the generator as it was, and the last checkpoint.
        interruptions.signum = interruptions.signum or signal.SIGINT
        files.save_model(
            run.model.sampling_generator, run.run_dir.file(rundir.INTERRUPTED_GENERATOR)
        )
    finally:
        log.close()
    if checkpoint.saved is not None:
        run.saved = checkpoint.saved
    if checkpoint.interrupted_at is not None or interruptions.requested:
        run.interrupted = interruptions.signum or signal.SIGINT
    run.diverged = run.diverged or guard.stopped
