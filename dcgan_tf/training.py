"""A training run from a `TrainConfig`: data, model, run directory and `fit`.

`prepare` does everything that can fail before training (configuration,
data, networks, the checkpoint to resume) and only then creates the run
directory; `fit` trains it with the run's callbacks; `train` is both.
"""

import dataclasses
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from dcgan_tf import files, rundir
from dcgan_tf.callbacks import (
    Checkpoint,
    DivergenceGuard,
    SampleGrid,
    restore,
)
from dcgan_tf.config import TrainConfig
from dcgan_tf.data import (
    CLASS_NAMES,
    load_images,
    load_labeled,
    make_dataset,
    synthetic_images,
)
from dcgan_tf.distribute import is_chief, make_strategy, replicas, shard_by_batch
from dcgan_tf.gan import DCGAN, build_dcgan, class_frequencies
from dcgan_tf.latent_space import sample_latents
from dcgan_tf.networks import check_image_size
from dcgan_tf.tracking import EpochLine, MetricsLog


@dataclass
class Run:
    """A prepared or finished run: its configuration, directory, data and model.

    Attributes:
        config: the configuration that runs, as `config.json` holds it.
        run: the run directory (created by `prepare` for a chief worker).
        model: the compiled `DCGAN`, restored from the checkpoint when resumed.
        images: the training images, uint8.
        initial_epoch: epochs completed before this `fit`.
        history: Keras' history once `fit` ran.
        interrupted: Ctrl-C ended `fit`.
        diverged: a loss or a weight stopped being finite; the last good
            checkpoint, if any, is kept.
        saved_epoch: the last epoch checkpointed (None when none is).
    """

    config: TrainConfig
    run: rundir.RunDir
    model: DCGAN
    images: np.ndarray
    initial_epoch: int
    latents: np.ndarray
    strategy: object = None
    dry_run: bool = False
    history: keras.callbacks.History | None = None
    interrupted: bool = False
    diverged: bool = False
    saved_epoch: int | None = None
    labels: np.ndarray | None = None  # the images' classes, when conditional
    # The quality monitor's feature network, when built to check it (so that
    # InceptionV3 is built once); else the monitor builds it.
    features: object = None
    lock: object = None  # this process's claim on the run directory

    @property
    def run_dir(self) -> Path:
        return self.run.path


def fixed_latents(config: TrainConfig) -> np.ndarray:
    """The latents of every sample grid of a run, drawn from its seed as
    `dcgan_tf.generate --seed SEED` draws them."""
    return sample_latents(
        config.grid_size, config.latent_dim, config.seed, config.latent_distribution
    )


def load_training_data(config: TrainConfig, dry_run=False):
    """`(images, labels, config)`: the labels (None unless conditional) and
    the configuration with the data's `class_names` filled in.

    Raises:
        ValueError: when a resumed run's recorded classes differ from the data's.
    """
    if not config.conditional:
        return load_training_images(config, dry_run), None, config
    if dry_run:
        images = load_training_images(config, dry_run)
        # Synthetic blobs: ten "classes", named as the data set's are.
        names = CLASS_NAMES.get(config.dataset) or [f"class{i}" for i in range(10)]
        labels = np.arange(len(images)) % len(names)
    else:
        images, labels, names = load_labeled(
            config.dataset,
            data_dir=config.data_dir,
            image_size=config.image_size,
            fit=config.fit,
        )
    names = [str(name) for name in names]
    if config.class_names is not None and list(config.class_names) != names:
        raise ValueError(
            f"The run was trained on the classes {', '.join(config.class_names)} "
            f"but the data now has {', '.join(names)}; point --data-dir at its data."
        )
    return images, labels, dataclasses.replace(config, class_names=names)


def load_training_images(config: TrainConfig, dry_run=False) -> np.ndarray:
    """The run's images as uint8 NHWC at the configured size."""
    if dry_run:
        count = config.batch_size * config.steps_per_epoch
        return synthetic_images(count, config.image_shape, seed=config.seed)
    return load_images(
        config.dataset,
        data_dir=config.data_dir,
        image_size=config.image_size,
        fit=config.fit,
    )


def prepare(
    config: TrainConfig, resume=None, dry_run=False, root=rundir.RUNS_ROOT
) -> Run:
    """Gets a run ready to `fit` (see `_prepare`), claiming its directory for
    this process until `fit` ends: a second process resuming the same run
    is refused (`dcgan_tf.rundir.RunDirError`)."""
    lock = None
    if resume is not None and rundir.RunDir(resume).is_run():
        lock = rundir.RunDir(resume).lock()
    try:
        run = _prepare(config, resume, dry_run, root)
        if lock is None and is_chief(run.strategy):
            lock = run.run.lock()
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    run.lock = lock
    return run


def _prepare(
    config: TrainConfig, resume=None, dry_run=False, root=rundir.RUNS_ROOT
) -> Run:
    """Gets a run ready to `fit`: everything that can fail, then its directory.

    Args:
        config: the resolved configuration (`TrainConfig.resolve`, or
            `dcgan_tf.resume.resume_config` for a resumed run).
        resume: the run directory to continue, or None for a new run.
        dry_run: train on synthetic images (the configuration says how many
            steps).
        root: where a new run directory is numbered, unless `config.run_dir`.

    Returns:
        A `Run`. A new run's directory exists only once this returns.

    Raises:
        ValueError: for a bad configuration (one line).
        dcgan_tf.data.DataError: when the data cannot be found or read.
        dcgan_tf.rundir.RunDirError: when the run directory cannot be used.
    """
    config.validate()
    check_image_size(config.image_size)
    # Whatever the run directory says against it, before minutes of loading.
    checkpoint = None
    if resume is not None:
        run = rundir.RunDir(resume)
        checkpoint = run.latest_checkpoint()
        if checkpoint is None:
            run.check_nothing_to_lose()
        elif config.epochs <= checkpoint.epoch:
            raise rundir.RunDirError(
                f"{run.path} has completed {checkpoint.epoch} epochs already; pass "
                f"--epochs above {checkpoint.epoch} to train it further."
            )
    elif config.run_dir:
        rundir.RunDir(config.run_dir).check_new()
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
    images, labels, config = load_training_data(config, dry_run=dry_run)
    if len(images) < config.batch_size:
        raise ValueError(
            f"Only {len(images)} images, fewer than one batch of "
            f"{config.batch_size}; lower --batch-size."
        )
    if config.steps_per_epoch is None:
        steps = len(images) // config.batch_size
        config = dataclasses.replace(config, steps_per_epoch=steps)

    keras.utils.set_random_seed(config.seed)
    frequencies = None
    if labels is not None:
        frequencies = class_frequencies(labels, len(config.class_names))
    model = build_dcgan(config, strategy, class_frequencies=frequencies)
    if resume is not None:
        initial_epoch = _restore(model, checkpoint, config)
        latents = fixed_latents(config)
        try:
            recorded = run.read_latents()
        except rundir.RunDirError:
            recorded = None
            warnings.warn(
                f"{run.file(rundir.LATENTS)} cannot be read; the sample grids' "
                "latents are drawn again from the run's seed.",
                stacklevel=2,
            )
        if recorded is not None and recorded.shape == latents.shape:
            latents = recorded  # a run of an older version drew them otherwise
    else:
        name = config.dataset + ("-dry-run" if dry_run else "")
        path = config.run_dir or rundir.next_run_dir(name, root)
        run = rundir.RunDir(path)
        config = dataclasses.replace(config, run_dir=str(run.path))
        latents = fixed_latents(config)
        initial_epoch = 0
    if not is_chief(strategy):
        # The other workers of a cluster run every callback as the chief does
        # (sampling is a distributed computation too), on a scratch copy.
        run = _scratch_copy(resume)
    elif resume is None:
        run.create(config, latents)
    else:
        run.remove_temporary_files()
        run.write_config(config, at_epoch=initial_epoch)
    return Run(
        config,
        run,
        model,
        images,
        initial_epoch,
        latents,
        strategy,
        dry_run,
        labels=labels,
        features=features,
    )


def _restore(model, checkpoint, config) -> int:
    try:
        epoch = restore(model, checkpoint)
    except (OSError, ValueError, KeyError) as error:
        raise rundir.RunDirError(
            f"Cannot load {checkpoint.weights} into the run's networks "
            f"({type(error).__name__}); restore it from a backup or start a new run."
        ) from None
    # The checkpoint holds the optimisers' learning rates; a resume may change
    # them (the advice after a divergence).
    rates = config.learning_rates
    for optimizer, rate in zip((model.d_optimizer, model.g_optimizer), rates):
        optimizer.learning_rate = rate
    return epoch


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
        dcgan_tf.files.WriteError: when a file of the run cannot be written
            (full disk, read-only folder); the last complete checkpoint stays.
    """
    try:
        return _fit(run, callbacks, verbose)
    finally:
        if run.lock is not None:
            run.lock.release()
            run.lock = None


def _fit(run: Run, callbacks, verbose) -> Run:
    config = run.config
    if run.initial_epoch >= config.epochs:
        return run
    guard = DivergenceGuard()
    checkpoint = Checkpoint(run.run, keep_every=config.keep_every)
    all_callbacks = [guard, *callbacks]
    if config.quality_every:
        all_callbacks.append(quality_monitor(config, run.images, run.run, run.features))
    steps = config.steps_per_epoch
    log = MetricsLog(
        run.run,
        steps,
        log_every=config.log_every,
        tensorboard=config.tensorboard,
        config=config.to_dict(),
        initial_epoch=run.initial_epoch,
    )
    all_callbacks += [SampleGrid(run.run, run.latents, every=config.sample_every), log]
    if verbose:
        # Keras' own progress line first (it would otherwise come last), then
        # the speed and the time to the end.
        all_callbacks += [
            keras.callbacks.ProgbarLogger(),
            EpochLine(config.batch_size, steps),
        ]
    all_callbacks.append(checkpoint)
    dataset = make_dataset(
        run.images,
        config.batch_size,
        config.seed,
        start_batch=run.initial_epoch * steps,
        labels=run.labels,
    )
    dataset = shard_by_batch(dataset, run.strategy)
    try:
        run.history = run.model.fit(
            dataset,
            epochs=config.epochs,
            steps_per_epoch=steps,
            initial_epoch=run.initial_epoch,
            callbacks=all_callbacks,
            shuffle=False,
            verbose=verbose,
        )
    except KeyboardInterrupt:
        run.interrupted = True
        files.save_model(
            run.model.sampling_generator, run.run.file(rundir.INTERRUPTED_GENERATOR)
        )
    finally:
        log.close()
        run.saved_epoch = checkpoint.saved_epoch or run.initial_epoch or None
        if not is_chief(run.strategy):
            shutil.rmtree(run.run.path, ignore_errors=True)
    run.diverged = guard.stopped
    return run


def train(
    config: TrainConfig,
    resume=None,
    dry_run=False,
    root=rundir.RUNS_ROOT,
    callbacks=(),
    verbose="auto",
) -> Run:
    """`prepare` then `fit`: see both. Returns the `Run`.

    `config` is resolved here when it is not yet (its presets filled in).
    """
    if resume is None:
        config = config.resolve(dry_run=dry_run)
    run = prepare(config, resume=resume, dry_run=dry_run, root=root)
    return fit(run, callbacks=callbacks, verbose=verbose)


def check_quality_features(config: TrainConfig):
    """Checks, before any data is loaded, that `--quality-every` can measure.

    Returns:
        InceptionV3's feature network when the data set has no shipped
        classifier (built to check its weights), else None.

    Raises:
        ValueError: in one line, when the shipped classifier does not see
            this image shape, or InceptionV3's weights cannot be had.
    """
    from dcgan_tf.quality.classifiers import IMAGE_SHAPES
    from dcgan_tf.quality.features import feature_extractor

    native = IMAGE_SHAPES.get(config.dataset)
    if native is not None and tuple(native) != tuple(config.image_shape):
        raise ValueError(
            f"--quality-every measures with the shipped {config.dataset} classifier, "
            f"which sees {tuple(native)} images, not {config.image_shape}; use its "
            "native --image-size or --quality-every 0."
        )
    if native is None:
        try:
            return feature_extractor("inception")
        except Exception as error:  # the weights' download fails many ways
            raise ValueError(
                f"--quality-every needs InceptionV3's ImageNet weights for "
                f"{config.dataset} (no classifier ships for it), and they cannot be "
                f"had ({type(error).__name__}); use --quality-every 0."
            ) from None
    return None


def quality_monitor(config: TrainConfig, images, run: rundir.RunDir, features=None):
    """The run's quality monitor: KID (or FID) against its training images,
    on the shipped classifier's features where there is one, else InceptionV3
    (`features`, when already built)."""
    from dcgan_tf.quality.classifiers import IMAGE_SHAPES
    from dcgan_tf.quality.monitor import QualityMonitor

    return QualityMonitor(
        images,
        run.path,
        features=features
        or ("classifier" if config.dataset in IMAGE_SHAPES else "inception"),
        dataset=config.dataset,
        every=config.quality_every,
        num_samples=config.quality_samples,
        metrics=tuple(config.quality_metrics.split(",")),
        seed=config.seed,
    )


def _scratch_copy(resume) -> rundir.RunDir:
    """A new scratch directory: empty, or a copy of the run being resumed."""
    scratch = Path(tempfile.mkdtemp(prefix="dcgan-worker-"))
    if resume is not None:
        shutil.copytree(resume, scratch, dirs_exist_ok=True)
    return rundir.RunDir(scratch)
