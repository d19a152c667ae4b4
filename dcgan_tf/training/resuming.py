"""Resuming a run: whether its directory can go on, its checkpoint restored
into the networks, the sample grids' recorded latents, `generator.keras`
written again from the last checkpoint, and a cluster worker's scratch copy.

`run.prepare` calls these; `run` imports them, so that they stay importable
from `dcgan_tf.training.run`.
"""

import shutil
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.model import build_dcgan
from dcgan_tf.rundir import checkpoints
from dcgan_tf.system import files
from dcgan_tf.training.callbacks import restore


def _check_resumable(run_dir: rundir.RunDir, config: TrainConfig):
    """The checkpoint to resume `run_dir` from (None: from its start), once
    its directory says nothing against it."""
    checkpoint = run_dir.latest_checkpoint()
    if checkpoint is None:
        run_dir.check_nothing_to_lose()
    elif config.epochs <= checkpoint.epoch:
        raise rundir.RunDirError(
            f"{run_dir.path} has completed {checkpoint.epoch} epochs already; pass "
            f"--epochs above {checkpoint.epoch} to train it further."
        )
    elif checkpoint.step and checkpoint.step >= (config.steps_per_epoch or 0):
        raise rundir.RunDirError(
            f"{run_dir.config_path} says {config.steps_per_epoch} steps per epoch, "
            f"but {checkpoint.weights.name} {_intact(checkpoint)}is at step "
            f"{checkpoint.step} of one: {run_dir.config_path} was changed or "
            "damaged; restore it from a backup or start a new run."
        )
    run_dir.check_folders()
    if checkpoint is not None and checkpoint.seed_state is None:
        warnings.warn(
            f"{checkpoint.weights.name} has no record of the latent random "
            "state (its .json sidecar and state.json do not hold it); the run "
            "resumes from its weights, but not exactly as an uninterrupted "
            "run would have gone on.",
            stacklevel=3,
        )
    return checkpoint


def _recorded_latents(run_dir: rundir.RunDir, latents: np.ndarray) -> np.ndarray:
    """The sample grids' latents a resumed run recorded (a run of an older
    version drew them otherwise), else `latents`, drawn from its seed."""
    try:
        recorded = run_dir.read_latents()
    except rundir.RunDirError:
        warnings.warn(
            f"{run_dir.file(rundir.LATENTS)} cannot be read; the sample grids' "
            "latents are drawn again from the run's seed.",
            stacklevel=3,
        )
        return latents
    if recorded is not None and recorded.shape == latents.shape:
        return recorded
    return latents


def _intact(checkpoint) -> str:
    return "(intact: its SHA-256 matches) " if checkpoint.verified else ""


def _restore(model, checkpoint, config) -> int:
    try:
        epoch = restore(model, checkpoint)
    except (OSError, ValueError, KeyError) as error:
        config_path = Path(checkpoint.weights).parent / rundir.CONFIG
        if checkpoint.verified:
            # The weights are as written: the networks config.json describes
            # are not the ones trained.
            raise rundir.RunDirError(
                f"{checkpoint.weights.name} (intact: its SHA-256 matches) does not "
                f"fit the networks {config_path} describes ({type(error).__name__}"
                f"): {config_path} was changed or damaged; restore it from a "
                "backup or start a new run."
            ) from None
        raise rundir.RunDirError(
            f"Cannot load {checkpoint.weights} into the networks {config_path} "
            f"describes ({type(error).__name__}); one of the two was changed or "
            "damaged: restore it from a backup or start a new run."
        ) from None
    # The checkpoint holds the optimisers' learning rates; a resume may change
    # them (the advice after a divergence).
    model.d_optimizer.learning_rate = config.d_learning_rate
    model.g_optimizer.learning_rate = config.g_learning_rate
    return epoch


def rewrite_generator(
    run_dir: rundir.RunDir, config: TrainConfig
) -> checkpoints.SavedCheckpoint:
    """Writes a finished run's `generator.keras` again from its last
    checkpoint (after a kill while it was written, it is missing, damaged or
    an epoch old; see `RunDir.generator_behind`), holding the run's lock.

    Returns:
        The checkpoint it was written from.

    Raises:
        dcgan_tf.rundir.RunDirError: when the run is in use or its checkpoint
            cannot be loaded.
        dcgan_tf.system.files.WriteError: when the file cannot be written.
    """
    run = rundir.as_run_dir(run_dir)
    lock = run.lock()
    try:
        checkpoint = run.latest_checkpoint()
        if checkpoint is None or checkpoint.step:
            raise rundir.RunDirError(
                f"{run.path} has no checkpoint at an epoch's end to write "
                f"{rundir.GENERATOR} from; resume it with more --epochs."
            )
        keras.utils.set_random_seed(config.seed)
        model = build_dcgan(config)
        _restore(model, checkpoint, config)
        files.save_model(model.sampling_generator, run.generator_path)
        run.record_generator(checkpoint.epoch)
        return checkpoint
    finally:
        lock.release()


def _scratch_copy(resume) -> rundir.RunDir:
    """A new scratch directory: empty, or a copy of the run being resumed."""
    scratch = Path(tempfile.mkdtemp(prefix="dcgan-worker-"))
    if resume is not None:
        shutil.copytree(resume, scratch, dirs_exist_ok=True)
    return rundir.RunDir(scratch)
