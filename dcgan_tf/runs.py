"""A training run from a `TrainConfig`: its directory, data, model and `fit`.

A run directory holds everything about one run (stylegan2-ada's habit):
`config.json`, `latents.npy` (the fixed latents of every sample grid),
`samples/`, `progress.gif`, `metrics.csv`, `losses.png`, `generator.keras`
and the checkpoint that `--resume` continues from. No run overwrites another.
"""

import contextlib
import dataclasses
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from dcgan_tf.callbacks import (
    Checkpoint,
    MetricsLog,
    SampleGrid,
    StopOnNaN,
    read_state,
    restore,
)
from dcgan_tf.classifier import IMAGE_SHAPES
from dcgan_tf.config import TrainConfig
from dcgan_tf.data import load_images, make_dataset, synthetic_images
from dcgan_tf.distribute import is_chief, make_strategy, replicas, shard_by_batch
from dcgan_tf.gan import DCGAN, default_optimizer
from dcgan_tf.latent_space import sample_latents
from dcgan_tf.monitor import QualityMonitor
from dcgan_tf.networks import (
    build_discriminator,
    build_generator,
    check_image_size,
)

RUNS_ROOT = Path("checkpoints")
CONFIG_NAME = "config.json"
LATENTS_NAME = "latents.npy"
DRY_RUN_STEPS = 2


@dataclass
class Run:
    """What `train` returns: the model, Keras' history and how the run ended."""

    model: DCGAN
    run_dir: Path
    config: TrainConfig
    history: keras.callbacks.History | None
    initial_epoch: int
    interrupted: bool = False
    stopped_on_nan: bool = False


def next_run_dir(dataset: str, root=RUNS_ROOT) -> Path:
    """Returns `root/NNNNN-dataset`, numbered one past the highest run there."""
    root = Path(root)
    numbers = [
        int(match.group(1))
        for path in (root.iterdir() if root.exists() else [])
        if (match := re.match(r"(\d{5})-", path.name))
    ]
    return root / f"{max(numbers, default=-1) + 1:05d}-{dataset}"


def build_model(config: TrainConfig, strategy=None, steps_per_execution=1) -> DCGAN:
    """Builds and compiles the DCGAN that `config` describes.

    Args:
        config: the run's configuration.
        strategy: a `tf.distribute` strategy to build it under (see
            `dcgan_tf.distribute.make_strategy`), or None.
        steps_per_execution: passed to `compile`. It must divide the steps
            of every `fit` epoch, or Keras runs whole executions past the
            epoch's end; `train` passes `steps_per_execution(config, steps)`.
    """
    if keras.backend.backend() == "torch" or strategy is not None:
        # Keras' torch trainer has no multi-step calls, and under tf.distribute
        # they fail (keras-team/keras#19246, even for a plain Sequential).
        steps_per_execution = 1
    with strategy.scope() if strategy else contextlib.nullcontext():
        return _build_model(config, steps_per_execution)


@contextlib.contextmanager
def _dtype_policy(mixed_precision: str):
    """Builds layers under the run's precision, without changing the global
    policy for later models."""
    previous = keras.config.dtype_policy()
    if mixed_precision != "off":
        keras.config.set_dtype_policy(f"mixed_{mixed_precision}")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _optimizer(config: TrainConfig):
    optimizer = default_optimizer(config.learning_rate, config.beta_1)
    if config.mixed_precision == "float16":
        # float16 gradients underflow; a dynamic loss scale keeps them
        # representable and skips the rare step that overflows.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _build_model(config: TrainConfig, steps_per_execution) -> DCGAN:
    with _dtype_policy(config.mixed_precision):
        generator = build_generator(
            config.image_shape, config.latent_dim, config.generator_filters
        )
        discriminator = build_discriminator(
            config.image_shape, config.discriminator_filters
        )
    model = DCGAN(
        generator,
        discriminator,
        latent_distribution=config.latent_distribution,
        label_smoothing=config.label_smoothing,
        seed=config.seed,
    )
    model.compile(
        d_optimizer=_optimizer(config),
        g_optimizer=_optimizer(config),
        steps_per_execution=steps_per_execution,
    )
    return model


def steps_per_execution(config: TrainConfig, steps_per_epoch: int) -> int:
    """The largest number of steps per execution up to the configured one
    that divides an epoch (Keras would otherwise run whole executions past
    the epoch's end); 1 under PyTorch, which has no multi-step execution."""
    if keras.backend.backend() == "torch":
        return 1
    wanted = min(config.steps_per_execution, steps_per_epoch)
    return next(n for n in range(wanted, 0, -1) if steps_per_epoch % n == 0)


def fixed_latents(config: TrainConfig) -> np.ndarray:
    """The latents of every sample grid of a run, drawn from its seed as
    `dcgan_tf.generate --seed SEED` draws them."""
    return sample_latents(
        config.num_samples, config.latent_dim, config.seed, config.latent_distribution
    )


def load_training_images(config: TrainConfig, dry_run=False) -> np.ndarray:
    """The run's images as uint8 NHWC at the configured size."""
    if dry_run:
        count = config.batch_size * DRY_RUN_STEPS
        return synthetic_images(count, config.image_shape, seed=config.seed)
    # The classic sets come at their native size and are resized when asked.
    return load_images(
        config.dataset,
        data_dir=config.data_dir,
        image_size=config.image_size,
        fit=config.fit,
    )


def load_run_config(run_dir, epochs=None) -> TrainConfig:
    """Reads a run's configuration for `--resume`, with a new epoch count."""
    path = Path(run_dir) / CONFIG_NAME
    if not path.exists():
        raise FileNotFoundError(
            f"{run_dir} is not a run directory (no {CONFIG_NAME}); pass the "
            "directory a training run wrote, such as checkpoints/00000-fashion_mnist."
        )
    config = TrainConfig.load(path)
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    return config


def train(
    config: TrainConfig,
    resume=None,
    dry_run=False,
    root=RUNS_ROOT,
    callbacks=(),
    verbose="auto",
) -> Run:
    """Trains a DCGAN as `config` says, in a new run directory or a resumed one.

    Args:
        config: the run's configuration; `None` fields take the data set's
            presets. Ignored when resuming, except for `epochs`.
        resume: a run directory to continue from its last checkpoint.
        dry_run: two steps on synthetic images, writing every artifact.
        root: where new run directories are made (unless `config.run_dir`).
        callbacks: more Keras callbacks, run before the ones writing the log.
        verbose: passed to `fit`.

    Returns:
        A `Run`. Ctrl-C ends it cleanly: the last completed epoch stays
        checkpointed, and the generator as it was is saved beside it as
        `generator_interrupted.keras`. Under `--strategy multiworker`, the
        workers other than the chief train alike but write to a scratch
        directory, deleted before this returns.

    Raises:
        ValueError: for a bad configuration (one-line message).
        dcgan_tf.data.DataError: when the data cannot be found or read.
        FileNotFoundError: when `resume` is not a run directory.
    """
    if resume is not None:
        run_dir = Path(resume)
        config = load_run_config(run_dir, epochs=config.epochs)
    else:
        config = config.resolve()
        if dry_run:
            config = dataclasses.replace(config, epochs=1, steps_per_epoch=None)
    config.validate()
    check_image_size(config.image_size)  # before minutes of data loading
    # Before any TensorFlow op: a multi-worker strategy must come first.
    strategy = make_strategy(config.strategy)
    if config.batch_size % replicas(strategy):
        raise ValueError(
            f"--batch-size {config.batch_size} does not split evenly between "
            f"{replicas(strategy)} replicas; use a multiple of {replicas(strategy)}."
        )
    chief = is_chief(strategy)
    images = load_training_images(config, dry_run=dry_run)
    steps = config.steps_per_epoch or len(images) // config.batch_size
    if steps < 1:
        raise ValueError(
            f"Only {len(images)} images, fewer than one batch of {config.batch_size}; "
            "lower --batch-size."
        )
    if dry_run:
        steps = DRY_RUN_STEPS
    config = dataclasses.replace(config, steps_per_epoch=steps)

    if not chief:
        # The other workers of a cluster run every callback as the chief does
        # (sampling is a distributed computation too), on a scratch copy.
        run_dir = _scratch_copy(resume)
    elif resume is None:
        name = config.dataset + ("-dry-run" if dry_run else "")
        run_dir = Path(config.run_dir) if config.run_dir else next_run_dir(name, root)
        if (run_dir / CONFIG_NAME).exists():
            raise ValueError(
                f"{run_dir} already holds a run; continue it with --resume {run_dir} "
                "or choose another --run-dir."
            )
        run_dir.mkdir(parents=True, exist_ok=True)
    if resume is None:
        config = dataclasses.replace(config, run_dir=str(run_dir))
        latents = fixed_latents(config)
        np.save(run_dir / LATENTS_NAME, latents)
    else:
        latents = np.load(run_dir / LATENTS_NAME)
    config.save(run_dir / CONFIG_NAME)

    keras.utils.set_random_seed(config.seed)
    model = build_model(config, strategy, steps_per_execution(config, steps))
    initial_epoch = restore(model, run_dir)
    run = Run(model, run_dir, config, None, initial_epoch)
    if initial_epoch >= config.epochs:
        return run

    stop_on_nan = StopOnNaN()
    all_callbacks = [stop_on_nan, *callbacks]
    if config.quality_every:
        all_callbacks.append(quality_monitor(config, images, run_dir))
    all_callbacks += [
        SampleGrid(run_dir, latents, every=config.sample_every),
        MetricsLog(run_dir),
        Checkpoint(run_dir, keep_every=config.keep_every),
    ]
    dataset = make_dataset(
        images, config.batch_size, config.seed, start_batch=initial_epoch * steps
    )
    dataset = shard_by_batch(dataset, strategy)
    try:
        run.history = model.fit(
            dataset,
            epochs=config.epochs,
            steps_per_epoch=steps,
            initial_epoch=initial_epoch,
            callbacks=all_callbacks,
            shuffle=False,
            verbose=verbose,
        )
    except KeyboardInterrupt:
        run.interrupted = True
        model.generator.save(run_dir / "generator_interrupted.keras")
    finally:
        if not chief:
            shutil.rmtree(run_dir, ignore_errors=True)
    run.stopped_on_nan = stop_on_nan.stopped
    return run


def quality_monitor(config: TrainConfig, images, run_dir) -> QualityMonitor:
    """The run's `QualityMonitor`: KID (or FID) against its training images,
    on the shipped classifier's features where there is one, else InceptionV3."""
    return QualityMonitor(
        images,
        run_dir,
        features="classifier" if config.dataset in IMAGE_SHAPES else "inception",
        dataset=config.dataset,
        every=config.quality_every,
        num_samples=config.quality_samples,
        metrics=tuple(config.quality_metrics.split(",")),
        seed=config.seed,
    )


def _scratch_copy(resume) -> Path:
    """A new scratch directory: empty, or a copy of the run being resumed."""
    scratch = Path(tempfile.mkdtemp(prefix="dcgan-worker-"))
    if resume is not None:
        shutil.copytree(resume, scratch, dirs_exist_ok=True)
    return scratch


def completed_epochs(run_dir) -> int:
    """Epochs a run has checkpointed (0 before its first)."""
    state = read_state(run_dir)
    return int(state["epoch"]) if state else 0
