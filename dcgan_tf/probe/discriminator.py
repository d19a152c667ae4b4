"""Loading the discriminator a probe measures: from a run directory's newest
complete checkpoint or from a `.keras` file, plus an untrained copy of it.

A conditional D (`[images, classes]` to a logit) is probed through its image
branch only: the convolutional blocks see the image alone, and the class input
only enters the logit, so the features need no label (a test image's label
would leak into its features otherwise).
"""

import dataclasses
from pathlib import Path

import keras

from dcgan_tf import presets, rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.sampling.loading import load_model_file

# Layers whose output is a convolutional block's: networks.py names them
# block{N}_lrelu (after the block's convolution and batch norm).
BLOCK_SUFFIX = "_lrelu"
DISCRIMINATOR_FILE = "discriminator.keras"
# What a refused file is told to pass instead.
HINT = "pass a run directory or a whole discriminator saved as .keras"


@dataclasses.dataclass
class LoadedDiscriminator:
    """A discriminator and where it came from.

    Attributes:
        model: the Keras discriminator, images (and classes) to one logit.
        source: the run directory or file it was loaded from.
        config: the run's configuration, or None for a file outside a run.
        epoch: the epochs the checkpoint completed, or None for a `.keras`
            file.
        step: the steps it trained into the next epoch (0: saved at the end
            of `epoch`).
    """

    model: keras.Model
    source: Path
    config: TrainConfig | None = None
    epoch: int | None = None
    step: int = 0

    def describe_position(self) -> str | None:
        """`epoch 2` (at its end) or `epoch 3, step 144` (144 steps into
        epoch 3); None for a `.keras` file."""
        if self.epoch is None:
            return None
        if not self.step:
            return f"epoch {self.epoch}"
        return f"epoch {self.epoch + 1}, step {self.step}"

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(image_input(self.model).shape[1:])

    @property
    def conditional(self) -> bool:
        return len(self.model.inputs) > 1


def image_input(model: keras.Model):
    """The images input of a discriminator (the first rank-4 input)."""
    for tensor in model.inputs:
        if len(tensor.shape) == 4:
            return tensor
    raise ValueError(f"{model.name} takes no images (inputs {model.inputs}).")


def block_layers(model: keras.Model) -> list[str]:
    """Names of the layers that end each convolutional block, input to output."""
    return [layer.name for layer in model.layers if layer.name.endswith(BLOCK_SUFFIX)]


def load_discriminator(path) -> LoadedDiscriminator:
    """Loads D from a run directory, a `.keras` file, or a shipped preset
    that ships its discriminator (by name; see `dcgan_tf.presets.locate`).

    A run directory is rebuilt from its `config.json` by
    `dcgan_tf.model.build_dcgan` and given the newest complete checkpoint's
    weights (as `--resume` does); a run with no checkpoint yet falls back to a
    `discriminator.keras` in it.

    Args:
        path: a run directory of `dcgan_tf.train`, a discriminator saved
            with `model.save("....keras")`, or a preset's name.

    Returns:
        A `LoadedDiscriminator`.

    Raises:
        FileNotFoundError: when the path does not exist.
        RunDirError: for a run directory that cannot be read or has no
            checkpoint.
        ValueError: for a file that is not a discriminator (a generator, a
            weights file, a damaged archive).
    """
    path = presets.locate(path, member=presets.DISCRIMINATOR)
    if path.is_dir():
        return _load_run(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No such run directory or .keras file: {path}; pass a run "
            "directory of dcgan_tf.train or a discriminator saved as .keras."
        )
    model = load_model_file(path, HINT)
    _check_discriminator(model, path)
    return LoadedDiscriminator(model, path, rundir.config_beside(path))


def _load_run(path: Path) -> LoadedDiscriminator:
    from dcgan_tf.model import build_dcgan

    run = rundir.RunDir(path)
    config = run.read_config()
    checkpoint = run.latest_checkpoint()
    if checkpoint is None:
        if (path / DISCRIMINATOR_FILE).is_file():
            model = load_model_file(path / DISCRIMINATOR_FILE, HINT)
            _check_discriminator(model, path / DISCRIMINATOR_FILE)
            return LoadedDiscriminator(model, path, config)
        raise rundir.RunDirError(
            f"{path} has no complete checkpoint yet (its first epoch has not "
            "ended); train it for an epoch, or pass a discriminator .keras file."
        )
    # Class frequencies only weigh the sampling of fake classes in training.
    model = build_dcgan(config)
    try:
        model.load_weights(checkpoint.weights)
    except (OSError, ValueError, KeyError) as error:
        raise rundir.RunDirError(
            f"Cannot load {checkpoint.weights} into the run's networks "
            f"({type(error).__name__}); restore it from a backup."
        ) from None
    return LoadedDiscriminator(
        model.discriminator, path, config, checkpoint.epoch, checkpoint.step
    )


def _check_discriminator(model: keras.Model, file: Path) -> None:
    """Refuses a model that is not a DCGAN discriminator, saying what it is."""
    output_rank = len(model.outputs[0].shape) if model.outputs else 0
    if output_rank == 4:
        raise ValueError(
            f"{file} is a generator (it outputs images); pass a discriminator: "
            "a run directory, or the D of a run saved as .keras."
        )
    ranks = [len(tensor.shape) for tensor in model.inputs]
    if 4 not in ranks or not block_layers(model):
        raise ValueError(
            f"{file} is not a DCGAN discriminator (no images input or no "
            f"block*{BLOCK_SUFFIX} layers); pass a run directory or the D of a "
            "run saved as .keras."
        )


def untrained_copy(model: keras.Model, seed: int) -> keras.Model:
    """The same architecture with fresh weights from its initialisers.

    Its batch-norm statistics are the initial ones (mean 0, variance 1):
    recompute them on data (`features.recompute_batch_norm`) before use.
    """
    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)
