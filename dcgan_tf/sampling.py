"""Using a trained generator: load it, sample it, and walk its latent space.

A saved generator is a plain `.keras` file, usually the `generator.keras` of
a run directory next to its `config.json`, which tells how its latents were
drawn. `load_generator` is the one loader every command uses. Every sample
keeps the latents that made it (`Samples`), so that it can be drawn again or
walked to (Radford et al. 2015 §6.1). The latent maths and the `.npz` latent
files are in `dcgan_tf.latent_space`.
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.latent_space import (
    interpolate_latents,
    sample_latents,
    walk_latents,
)

__all__ = [
    "Generator",
    "Samples",
    "as_generator",
    "check_generator",
    "generate",
    "interpolate",
    "load_generator",
    "sample",
    "walk",
]

# Latents per forward pass: bounds memory, and does not change the images
# (batch norm runs on its moving averages at inference).
FORWARD_BATCH = 64


@dataclass(frozen=True, eq=False)
class Generator:
    """A loaded generator and what is needed to sample it like in training.

    Attributes:
        model: the Keras model from `(batch, latent_dim)` to images in [-1, 1].
        latent_dim: size of z.
        image_shape: `(height, width, channels)` of the images it makes.
        latent_distribution: `"normal"` or `"uniform"`, from the run's
            `config.json` (`"normal"` when there is none).
        dataset: the data set it was trained on, or `None` if unknown.
        seed: the run's seed, or `None` if unknown.
        path: the `.keras` file it was loaded from, or `None`.
        config: the run's configuration, or `None` outside a run directory.
    """

    model: keras.Model
    latent_dim: int
    image_shape: tuple[int, int, int]
    latent_distribution: str = "normal"
    dataset: str | None = None
    seed: int | None = None
    path: Path | None = None
    config: TrainConfig | None = None


class Samples(NamedTuple):
    """Images and the latents that made them, index for index.

    `images` are float32 in [-1, 1], the generator's tanh range (pass them
    to `dcgan_tf.images.to_uint8` to save them); `latents` are float32.
    Both share their leading axes: `(n, ...)` for `sample`, `(steps, ...)`
    or `(pairs, steps, ...)` for `interpolate`, `(segments, steps, ...)`
    for `walk`.
    """

    images: np.ndarray
    latents: np.ndarray


def check_generator(model: keras.Model, name: str = "model") -> tuple[int, tuple]:
    """Checks that a Keras model is a generator and returns its geometry.

    Args:
        model: the model to check.
        name: what to call it in error messages (such as its file name).

    Returns:
        `(latent_dim, (height, width, channels))`.

    Raises:
        ValueError: for anything but one `(None, latent_dim)` input and one
            `(None, height, width, 1 or 3)` output, naming what it found.
    """
    # Subclassed models may have no symbolic inputs at all.
    inputs = getattr(model, "inputs", None) or []
    outputs = getattr(model, "outputs", None) or []
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(
            f"{name} is not a generator: it has {len(inputs)} inputs and "
            f"{len(outputs)} outputs, a generator has one of each."
        )
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    found = f"{in_shape} -> {out_shape}"
    if len(in_shape) == 4 and len(out_shape) == 2:
        raise ValueError(
            f"{name} is a discriminator ({found}), not a generator; pass the "
            f"run's {rundir.GENERATOR}."
        )
    if (
        len(in_shape) != 2
        or in_shape[1] is None
        or len(out_shape) != 4
        or None in out_shape[1:]
        or out_shape[3] not in (1, 3)
    ):
        raise ValueError(
            f"{name} is not a generator: it maps {found}, a generator maps "
            "(None, latent_dim) -> (None, height, width, 1 or 3)."
        )
    return int(in_shape[1]), tuple(int(d) for d in out_shape[1:])


def _load_model(file: Path) -> keras.Model:
    """The whole Keras model in `file`, or a one-line ValueError saying why not."""
    if file.name.endswith(".weights.h5"):
        raise ValueError(
            f"{file} holds weights only; pass a whole model saved as .keras."
        )
    if file.suffix != ".keras":
        raise ValueError(f"{file} is not a .keras file or a run directory.")
    # Keras reports a truncated or foreign file as "File not found"; say what
    # is wrong instead.
    if not zipfile.is_zipfile(file):
        raise ValueError(
            f"{file} is not a Keras model file (not a zip archive; truncated?)."
        )
    try:
        # safe_mode stays on: a .keras file from elsewhere must not run code
        # (a Lambda layer's pickled function) just by being loaded.
        return keras.models.load_model(file, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for broken archives.
        lines = str(error).strip().splitlines()
        raise ValueError(
            f"Cannot load {file} as a Keras model: {type(error).__name__}: "
            f"{lines[0] if lines else ''}"
        ) from None


def load_generator(path: str | Path) -> Generator:
    """Loads a generator from a run directory or a `.keras` file.

    A run directory holds `generator.keras` (the latest epoch) and a
    `config.json` whose `latent_distribution`, `dataset` and `seed` are kept;
    a `.keras` file picks up the `config.json` beside it, if any.

    Args:
        path: a run directory of `dcgan_tf.train`, or a `.keras` file.

    Returns:
        A `Generator`.

    Raises:
        FileNotFoundError: when the path, or a run directory's
            `generator.keras`, does not exist.
        ValueError: for a file that is not a whole Keras model (weights only,
            truncated, not a zip), or a model that is not a generator (such as
            the discriminator).
        dcgan_tf.rundir.RunDirError: for a `config.json` beside it that
            cannot be read.
    """
    file = rundir.generator_file(path)
    model = _load_model(file)
    latent_dim, image_shape = check_generator(model, name=str(file))
    config = rundir.config_beside(file)
    if config is None:
        return Generator(model, latent_dim, image_shape, path=file)
    return Generator(
        model=model,
        latent_dim=latent_dim,
        image_shape=image_shape,
        latent_distribution=config.latent_distribution,
        dataset=config.dataset,
        seed=config.seed,
        path=file,
        config=config,
    )


def as_generator(generator) -> Generator:
    """Wraps a bare Keras generator (N(0, 1) latents); passes a `Generator` on."""
    if isinstance(generator, Generator):
        return generator
    latent_dim, image_shape = check_generator(generator, name=generator.name)
    return Generator(generator, latent_dim, image_shape)


def generate(generator, latents, forward_batch: int = FORWARD_BATCH) -> np.ndarray:
    """Runs the generator in inference mode on latents of any leading shape.

    Args:
        generator: a `Generator` or a Keras generator.
        latents: `(..., latent_dim)` latents.
        forward_batch: latents per forward pass, to bound memory.

    Returns:
        float32 images in [-1, 1] of shape `(..., height, width, channels)`.

    Raises:
        ValueError: when the latents' size is not the generator's.
    """
    generator = as_generator(generator)
    latents = np.asarray(latents, dtype=np.float32)
    if latents.ndim < 1 or latents.shape[-1] != generator.latent_dim:
        raise ValueError(
            f"The generator takes {generator.latent_dim}-dimensional latents, "
            f"got shape {latents.shape}."
        )
    if forward_batch < 1:
        raise ValueError(f"forward_batch must be at least 1, got {forward_batch}.")
    flat = latents.reshape(-1, generator.latent_dim)
    # training=False: batch norm uses its moving averages, so each image
    # depends on its own latent only, not on the rest of the batch.
    chunks = [
        keras.ops.convert_to_numpy(
            generator.model(flat[i : i + forward_batch], training=False)
        )
        for i in range(0, len(flat), forward_batch)
    ]
    images = np.concatenate(chunks).astype(np.float32)
    return images.reshape(latents.shape[:-1] + images.shape[1:])


def sample(
    generator, n: int, seed: int | None = None, distribution: str | None = None
) -> Samples:
    """Draws `n` latents and the images they make.

    Args:
        generator: a `Generator` or a Keras generator.
        n: number of samples.
        seed: seed of the latents; the same seed gives the same samples.
        distribution: `"normal"` or `"uniform"` (default: the generator's).

    Returns:
        `Samples(images, latents)` with images `(n, height, width, channels)`
        float32 in [-1, 1] and latents `(n, latent_dim)`.
    """
    generator = as_generator(generator)
    distribution = distribution or generator.latent_distribution
    latents = sample_latents(n, generator.latent_dim, seed, distribution)
    return Samples(generate(generator, latents), latents)


def interpolate(
    generator,
    start,
    end,
    steps: int = 10,
    method="slerp",
    forward_batch: int = FORWARD_BATCH,
) -> Samples:
    """Images along the path from `start` to `end` in latent space.

    Args:
        generator: a `Generator` or a Keras generator.
        start, end: `(latent_dim,)` latents, or `(pairs, latent_dim)`.
        steps: images per path, both ends included.
        method: `"slerp"` (spherical: the path for Gaussian latents) or
            `"linear"`.
        forward_batch: latents per forward pass.

    Returns:
        `Samples` of shape `(steps, ...)` or `(pairs, steps, ...)`; the first
        image is the one `start` makes and the last the one `end` makes.

    Raises:
        ValueError: see `latent_space.interpolate_latents` and `generate`.
    """
    latents = interpolate_latents(start, end, steps, method)
    return Samples(generate(generator, latents, forward_batch), latents)


def walk(
    generator,
    keyframes,
    steps: int = 10,
    method="slerp",
    loop=False,
    forward_batch: int = FORWARD_BATCH,
) -> Samples:
    """Images of a walk through keyframe latents (see `latent_space.walk_latents`).

    Returns:
        `Samples` of shape `(segments, steps, ...)`;
        `latent_space.join_segments` turns them into the frames of one
        continuous animation.
    """
    latents = walk_latents(keyframes, steps, method, loop)
    return Samples(generate(generator, latents, forward_batch), latents)
