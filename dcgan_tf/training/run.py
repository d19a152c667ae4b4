"""A training run from a `TrainConfig`: data, model, run directory and `fit`.

`prepare` does everything that can fail before training (configuration,
data, networks, the checkpoint to resume) and only then creates the run
directory; `fit` trains it with the run's callbacks; `train` is both.
Resuming (the checks, the restore, `rewrite_generator`) is `resuming`'s.
"""

import dataclasses
from dataclasses import dataclass

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.config.resolving import RunFacts, complete
from dcgan_tf.data.run_data import load_run_data
from dcgan_tf.model import DCGAN, build_dcgan, class_frequencies
from dcgan_tf.model.building import check_networks
from dcgan_tf.model.distribute import is_chief, make_strategy, replicas
from dcgan_tf.quality.monitor import check_quality_features
from dcgan_tf.rundir import checkpoints
from dcgan_tf.sampling.latents import sample_latents
from dcgan_tf.training.execution import Choice, choose_execution
from dcgan_tf.training.fitting import fit_run
from dcgan_tf.training.interrupt import Interruptions
from dcgan_tf.training.resuming import (  # noqa: F401 (rewrite_generator: importable here)
    _check_resumable,
    _recorded_latents,
    _restore,
    _scratch_copy,
    rewrite_generator,
)


@dataclass
class Run:
    """A prepared or finished run: its configuration, directory, data and model.

    Attributes:
        config: the configuration that runs, as `config.json` holds it.
        run_dir: the run directory (created by `prepare` for a chief worker;
            path-like: `run_dir / NAME` is a file in it, `run_dir.path` the
            directory).
        model: the compiled `DCGAN`, restored from the checkpoint when resumed.
        images: the training images, uint8.
        initial_epoch: epochs completed before this `fit`.
        initial_step: steps of the next epoch done too (a checkpoint taken
            within an epoch), with `initial_metrics` its running metrics.
        history: Keras' history once `fit` ran.
        interrupted: the signal (Ctrl-C's SIGINT, SIGTERM, SIGHUP) that
            stopped `fit`, after checkpointing the step it had reached; None
            when it ran to its end.
        diverged: a loss or a weight stopped being finite; the last good
            checkpoint, if any, is kept.
        saved: the last checkpoint saved or resumed from (None when none is).
    """

    config: TrainConfig
    run_dir: rundir.RunDir
    model: DCGAN
    images: np.ndarray
    initial_epoch: int
    latents: np.ndarray
    strategy: object = None
    dry_run: bool = False
    history: keras.callbacks.History | None = None
    interrupted: int | None = None
    diverged: bool = False
    saved: checkpoints.SavedCheckpoint | None = None
    initial_step: int = 0
    initial_metrics: dict | None = None
    labels: np.ndarray | None = None  # the images' classes, when conditional
    # The quality monitor's feature network, when built to check it (so that
    # InceptionV3 is built once); else the monitor builds it.
    features: object = None
    lock: object = None  # this process's claim on the run directory
    execution: Choice | None = None  # how the step runs, and why

    @property
    def run(self) -> rundir.RunDir:
        """`run_dir`, under its name before version 0.2."""
        return self.run_dir

    @property
    def saved_epoch(self) -> int | None:
        """The last epoch checkpointed whole (None when none is)."""
        if self.saved is None:
            return None
        return self.saved.epoch or None


def fixed_latents(config: TrainConfig) -> np.ndarray:
    """The latents of every sample grid of a run, drawn from its seed as
    `dcgan_tf.generate --seed SEED` draws them."""
    return sample_latents(
        config.grid_size, config.latent_dim, config.seed, config.latent_distribution
    )


def prepare(
    config: TrainConfig, resume=None, dry_run=False, root=rundir.RUNS_ROOT
) -> Run:
    """Gets a run ready to `fit` (see `_prepare`), claiming its directory for
    this process until `fit` ends: a second process resuming the same run
    is refused (`dcgan_tf.rundir.RunDirError`).

    `config` is resolved and checked (`TrainConfig.resolve` and `validate`,
    or `dcgan_tf.config.resume_config` for `resume`, a run directory: a path
    or a `RunDir`); `train` does both for a configuration given as is.
    """
    resumed = None if resume is None else rundir.as_run_dir(resume)
    lock = None
    if resumed is not None and resumed.is_run():
        lock = resumed.lock()
    try:
        # A signal before training (loading data, building networks) stops at
        # once: nothing is lost there.
        with Interruptions():
            run = _prepare(config, resumed, dry_run, root)
        if lock is None and is_chief(run.strategy):
            lock = run.run_dir.lock()
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    run.lock = lock
    return run


def _prepare(
    config: TrainConfig,
    resumed: rundir.RunDir | None = None,
    dry_run=False,
    root=rundir.RUNS_ROOT,
) -> Run:
    """Gets a run ready to `fit`: everything that can fail, then its directory.

    Args:
        config: the resolved and checked configuration (see `prepare`).
        resumed: the run directory to continue, or None for a new run.
        dry_run: train on synthetic images (the configuration says how many
            steps).
        root: where a new run directory is numbered, unless `config.run_dir`.

    Returns:
        A `Run`. A new run's directory exists only once this returns.

    Raises:
        ValueError: for a configuration this data or machine cannot run.
        dcgan_tf.data.DataError: when the data cannot be found or read.
        dcgan_tf.rundir.RunDirError: when the run directory cannot be used.
    """
    check_networks(config)
    # Whatever the run directory says against it, before minutes of loading.
    if resumed is not None:
        run_dir = resumed
        checkpoint = _check_resumable(run_dir, config)
    else:
        run_dir = rundir.RunDir(config.run_dir) if config.run_dir else None
        checkpoint = None
        if run_dir is not None:
            run_dir.check_new()
    # Before any TensorFlow op: a multi-worker strategy must come first.
    strategy = make_strategy(config.strategy)
    if config.batch_size % replicas(strategy):
        raise ValueError(
            f"--batch-size {config.batch_size} does not split evenly between "
            f"{replicas(strategy)} replicas; use a multiple of {replicas(strategy)}."
        )
    features = None
    if config.quality_every:
        features = check_quality_features(config)
    images, labels, class_names = load_run_data(config, dry_run=dry_run)
    if len(images) < config.batch_size:
        raise ValueError(
            f"Only {len(images)} images, fewer than one batch of "
            f"{config.batch_size}; lower --batch-size."
        )
    steps = config.steps_per_epoch
    if steps is None:
        steps = len(images) // config.batch_size
    choice = _choose_execution(
        config, steps, class_names, images, labels, strategy, resumed
    )
    # The one change to the configuration: what only this run knows.
    config = complete(
        config,
        RunFacts(
            steps_per_epoch=steps,
            class_names=class_names,
            run_dir=None if run_dir is None or resumed else str(run_dir.path),
            **choice.recorded(),
        ),
    )
    keras.utils.set_random_seed(config.seed)
    frequencies = None
    if labels is not None:
        frequencies = class_frequencies(labels, len(config.class_names))
    model = build_dcgan(config, strategy, class_frequencies=frequencies)
    latents = fixed_latents(config)
    initial_epoch = 0
    if resumed is not None:
        initial_epoch = _restore(model, checkpoint, config)
        latents = _recorded_latents(resumed, latents)
    if not is_chief(strategy):
        # The other workers of a cluster run every callback as the chief does
        # (sampling is a distributed computation too), on a scratch copy.
        run_dir = _scratch_copy(resumed)
    elif resumed is not None:
        run_dir.remove_temporary_files()
        run_dir.write_config(config, at_epoch=initial_epoch)
    elif run_dir is not None:
        run_dir.create(config, latents)
    else:
        # A numbered run is named as it is made: its config.json says where.
        name = config.dataset + ("-dry-run" if dry_run else "")
        run_dir, config = rundir.create_numbered(config, latents, name, root)
    return Run(
        config=config,
        run_dir=run_dir,
        model=model,
        images=images,
        initial_epoch=initial_epoch,
        latents=latents,
        strategy=strategy,
        dry_run=dry_run,
        labels=labels,
        features=features,
        saved=checkpoint,
        initial_step=checkpoint.step if checkpoint else 0,
        initial_metrics=checkpoint.metrics if checkpoint else None,
        execution=choice,
    )


def _choose_execution(config, steps, class_names, images, labels, strategy, resumed):
    """How the train step runs (`choose_execution`), asked of the
    configuration as it will run, with its steps and classes.

    A resumed run keeps, for each flag left at `auto`, the choice it was
    trained with: another computes in another order, so the run would no
    longer go on bit for bit (a first half too short to be probed ran
    uncompiled; the resume, longer, might probe and compile). Whether the
    step was compiled is kept under TensorFlow without a strategy, where
    `auto` chooses it.
    """
    recorded = config
    config = complete(config, RunFacts(steps_per_epoch=steps, class_names=class_names))
    if resumed is None:
        return choose_execution(config, images, labels, strategy)
    kept = {}
    if (
        config.jit_compile == "auto"
        and recorded.jit_compiled is not None
        and keras.backend.backend() == "tensorflow"
        and strategy is None
    ):
        kept["jit_compile"] = "on" if recorded.jit_compiled else "off"
    formulation = recorded.g_upsample_formulation
    if config.g_formulation == "auto" and formulation is not None:
        kept["g_formulation"] = formulation
    config = dataclasses.replace(config, **kept)
    choice = choose_execution(config, images, labels, strategy)
    if kept and choice.probe is None:
        return dataclasses.replace(
            choice,
            reason="as the run was trained, so that it goes on exactly",
            probe=recorded.execution_probe,
        )
    return choice


def fit(run: Run, callbacks=(), verbose="auto") -> Run:
    """Trains a prepared run to its configured epochs.

    Ctrl-C ends it cleanly: the last completed epoch stays checkpointed, and
    the generator as it was is saved as `generator_interrupted.keras`.

    Args:
        run: from `prepare`.
        callbacks: more Keras callbacks, run before the ones writing the run.
        verbose: passed to `fit`.

    Returns:
        `run`, with its history and how it ended.

    Raises:
        dcgan_tf.system.files.WriteError: when a file of the run cannot be written
            (full disk, read-only folder); the last complete checkpoint stays.
    """
    try:
        return fit_run(run, callbacks, verbose)
    finally:
        if run.lock is not None:
            run.lock.release()
            run.lock = None


def train(
    config: TrainConfig,
    resume=None,
    dry_run=False,
    root=rundir.RUNS_ROOT,
    callbacks=(),
    verbose="auto",
) -> Run:
    """`prepare` then `fit`: see both. Returns the `Run`.

    The edge for Python callers: a new run's `config` is resolved here (its
    presets filled in; resolving a resolved one changes nothing but a dry
    run's length), then checked (`TrainConfig.validate`), once.
    """
    if resume is None:
        config = config.resolve(dry_run=dry_run)
    config.validate()
    run = prepare(config, resume=resume, dry_run=dry_run, root=root)
    return fit(run, callbacks=callbacks, verbose=verbose)
