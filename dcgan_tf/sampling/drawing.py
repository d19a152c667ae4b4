"""Drawing from a trained generator: sample it, and walk its latent space.

Every sample keeps the latents that made it (`Samples`), so that it can be
drawn again or walked to (Radford et al. 2015 §6.1). The latent maths and
the `.npz` latent files are in `dcgan_tf.sampling.latents`; loading a saved
generator and its class input are `dcgan_tf.sampling.loading`'s, and are
re-exported here, so that `sampling.load_generator` then `sampling.sample`
is the whole of using one.

A conditional generator (Mirza and Osindero 2014) also takes a class: every
function here takes `labels`, a class name, an index, one per sample, or
mixes of one-hot vectors; `interpolate_classes` walks from one class to
another with the latent fixed.
"""

from typing import NamedTuple

import keras
import numpy as np

from dcgan_tf.sampling.latents import (
    interpolate_latents,
    sample_latents,
    walk_latents,
)
from dcgan_tf.sampling.loading import (
    Generator,
    as_generator,
    check_generator,
    class_index,
    load_generator,
    resolve_labels,
)

__all__ = [
    "Generator",
    "Samples",
    "as_generator",
    "check_generator",
    "class_index",
    "generate",
    "interpolate",
    "interpolate_classes",
    "load_generator",
    "resolve_labels",
    "sample",
    "walk",
]

# Latents per forward pass: bounds memory, and does not change the images
# (batch norm runs on its moving averages at inference).
FORWARD_BATCH = 64


class Samples(NamedTuple):
    """Images and the latents that made them, index for index.

    `images` are float32 in [-1, 1], the generator's tanh range (pass them
    to `dcgan_tf.sampling.images.to_uint8` to save them); `latents` are float32.
    Both (and `classes`) share their leading axes: `(n, ...)` for `sample`,
    `(steps, ...)` or `(pairs, steps, ...)` for `interpolate`, `(segments,
    steps, ...)` for `walk`.
    """

    images: np.ndarray
    latents: np.ndarray
    # A conditional generator's class input for each image, `(..., classes)`
    # float32: one-hot, or a mix along a path between classes; else None.
    classes: np.ndarray | None = None


def generate(
    generator, latents, forward_batch: int = FORWARD_BATCH, labels=None
) -> np.ndarray:
    """Runs the generator in inference mode on latents of any leading shape.

    Args:
        generator: a `Generator` or a Keras generator.
        latents: `(..., latent_dim)` latents.
        forward_batch: latents per forward pass, to bound memory.
        labels: the classes of a conditional generator (see
            `resolve_labels`; default: each class in turn).

    Returns:
        float32 images in [-1, 1] of shape `(..., height, width, channels)`.

    Raises:
        ValueError: when the latents' size is not the generator's, or for
            labels it cannot take.
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
    classes = resolve_labels(generator, labels, latents.shape[:-1])
    flat = latents.reshape(-1, generator.latent_dim)
    if classes is not None:
        classes = classes.reshape(len(flat), -1)

    def inputs(i):
        chunk = flat[i : i + forward_batch]
        return chunk if classes is None else [chunk, classes[i : i + forward_batch]]

    # training=False: batch norm uses its moving averages, so each image
    # depends on its own latent only, not on the rest of the batch.
    chunks = [
        keras.ops.convert_to_numpy(generator.model(inputs(i), training=False))
        for i in range(0, len(flat), forward_batch)
    ]
    images = np.concatenate(chunks).astype(np.float32)
    check_images_finite(images, generator)
    return images.reshape(latents.shape[:-1] + images.shape[1:])


def check_images_finite(images, generator) -> None:
    """Refuses `(n, ...)` images with a NaN or infinite value, which
    `to_uint8` would quietly turn into junk pixels.

    Raises:
        ValueError: naming how many images are not finite and the first one's
            index, so that no command writes them.
    """
    bad = ~np.isfinite(images.reshape(len(images), -1)).all(axis=1)
    if not bad.any():
        return
    where = f" {generator.path}" if generator.path else ""
    raise ValueError(
        f"The generator{where} made {int(bad.sum())} of {len(images)} images "
        f"that are not finite (NaN or inf; the first at index "
        f"{int(np.argmax(bad))}), so nothing was written: its training diverged "
        "(use an earlier generator of the run, such as generator_best.keras) "
        "or the latents are far from those it was trained on."
    )


def _samples(generator, latents, labels, forward_batch=FORWARD_BATCH) -> Samples:
    classes = resolve_labels(generator, labels, np.shape(latents)[:-1])
    images = generate(generator, latents, forward_batch, classes)
    return Samples(images, latents, classes)


def sample(
    generator,
    n: int,
    seed: int | None = None,
    distribution: str | None = None,
    labels=None,
) -> Samples:
    """Draws `n` latents and the images they make.

    Args:
        generator: a `Generator` or a Keras generator.
        n: number of samples.
        seed: seed of the latents; the same seed gives the same samples.
        distribution: `"normal"` or `"uniform"` (default: the generator's).
        labels: for a conditional generator, a class (`"sneaker"` or 7)
            for all, or one per sample (default: each class in turn).

    Returns:
        `Samples(images, latents)` with images `(n, height, width, channels)`
        float32 in [-1, 1] and latents `(n, latent_dim)`.
    """
    generator = as_generator(generator)
    distribution = distribution or generator.latent_distribution
    latents = sample_latents(n, generator.latent_dim, seed, distribution)
    return _samples(generator, latents, labels)


def interpolate(
    generator,
    start,
    end,
    steps: int = 10,
    method="slerp",
    forward_batch: int = FORWARD_BATCH,
    labels=None,
) -> Samples:
    """Images along the path from `start` to `end` in latent space.

    Args:
        generator: a `Generator` or a Keras generator.
        start, end: `(latent_dim,)` latents, or `(pairs, latent_dim)`.
        steps: images per path, both ends included.
        method: `"slerp"` (spherical: the path for Gaussian latents) or
            `"linear"`.
        forward_batch: latents per forward pass.
        labels: for a conditional generator, the class kept along every
            path, or one per pair (default: each pair a class in turn).

    Returns:
        `Samples` of shape `(steps, ...)` or `(pairs, steps, ...)`; the first
        image is the one `start` makes and the last the one `end` makes.

    Raises:
        ValueError: see `latent_space.interpolate_latents` and `generate`.
    """
    latents = interpolate_latents(start, end, steps, method)
    if labels is not None and not isinstance(labels, str | int | np.integer):
        labels = np.repeat(np.asarray(labels)[..., None], steps, axis=-1)
    elif labels is None and latents.ndim == 3 and as_generator(generator).num_classes:
        labels = np.repeat(np.arange(len(latents))[:, None], steps, axis=1)
        labels %= as_generator(generator).num_classes
    return _samples(generator, latents, labels, forward_batch)


def interpolate_classes(
    generator,
    latents,
    start_class,
    end_class,
    steps: int = 10,
    forward_batch: int = FORWARD_BATCH,
) -> Samples:
    """Images from one class to another with the latent fixed.

    The class input moves in a straight line from one one-hot vector to the
    other, so the label embedding moves in a straight line between the two
    classes' embeddings (`LabelEmbedding` is linear).

    Args:
        generator: a conditional `Generator` or Keras generator.
        latents: `(latent_dim,)` or `(rows, latent_dim)`, each kept along
            its path.
        start_class, end_class: the classes at the two ends (names or
            indices).
        steps: images per path, both ends included.
        forward_batch: latents per forward pass.

    Returns:
        `Samples` of shape `(steps, ...)` or `(rows, steps, ...)`; the first
        image of a path is `start_class`'s, the last `end_class`'s.

    Raises:
        ValueError: for an unconditional generator, an unknown class, or
            fewer than 2 steps.
    """
    generator = as_generator(generator)
    if steps < 2:
        raise ValueError(f"Steps must be at least 2 (both ends), got {steps}.")
    first, last = class_index(generator, start_class), class_index(generator, end_class)
    latents = np.asarray(latents, dtype=np.float32)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]  # (steps, 1)
    eye = np.eye(generator.num_classes, dtype=np.float32)
    path = (1.0 - t) * eye[first] + t * eye[last]  # (steps, num_classes)
    latents = np.repeat(latents[..., None, :], steps, axis=-2)
    classes = np.broadcast_to(path, latents.shape[:-1] + path.shape[-1:])
    return _samples(generator, latents, classes, forward_batch)


def walk(
    generator,
    keyframes,
    steps: int = 10,
    method="slerp",
    loop=False,
    forward_batch: int = FORWARD_BATCH,
    labels=None,
) -> Samples:
    """Images of a walk through keyframe latents (see `latent_space.walk_latents`),
    for a conditional generator in one class (`labels`, default: the first).

    Returns:
        `Samples` of shape `(segments, steps, ...)`;
        `latent_space.join_segments` turns them into the frames of one
        continuous animation.
    """
    latents = walk_latents(keyframes, steps, method, loop)
    if labels is None and as_generator(generator).num_classes:
        labels = 0
    return _samples(generator, latents, labels, forward_batch)
