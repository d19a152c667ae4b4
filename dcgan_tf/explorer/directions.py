"""Directions in latent space to put sliders on.

GANSpace (Härkönen et al. 2020, §2 "Principal components and principal
feature directions"): principal components of the generator's early
activations over many random z, carried back to z by linear regression of z
on the components' coordinates; each regression column is a direction in z.
For this DCGAN the early activations are those of the first block
(`project_relu`: projection, batch norm, ReLU), the first non-linear
features of z. A user's own direction is the difference of the average
latents of two groups of picks, as in the paper's §6.3.
"""

from dataclasses import dataclass

import keras
import numpy as np

from dcgan_tf.sampling import latents as latent_space

# GANSpace's sample count is 10^6 for StyleGAN; a few thousand z settle the
# first components of a small generator in a second or two on a CPU.
SAMPLES = 2048
COMPONENTS = 8
SEED = 0
FIRST_LAYER = "project_relu"


@dataclass(frozen=True)
class Directions:
    """Unit directions in z `(k, latent_dim)` and the share of the early
    activations' variance each principal component explains."""

    vectors: np.ndarray
    explained: np.ndarray
    layer: str


def early_features(model: keras.Model):
    """A model from the generator's inputs to its first block's activations,
    flattened; `(model, layer name)`."""
    names = [layer.name for layer in model.layers]
    name = FIRST_LAYER if FIRST_LAYER in names else names[0]
    layer = model.get_layer(name)
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, layer.output), name


def _top_components(centred, components: int, seed: int):
    """The principal coordinates `(samples, components)` of centred rows and
    the share of the variance each explains, by randomised SVD (Halko et al.
    2011, Algorithm 4.4: two power iterations), which costs a few products
    with the data rather than a full decomposition of it."""
    rng = np.random.default_rng(seed)
    sketch = centred @ rng.standard_normal((centred.shape[1], components + 10))
    for _ in range(2):
        basis, _ = np.linalg.qr(sketch)
        basis, _ = np.linalg.qr(centred.T @ basis)
        sketch = centred @ basis
    basis, _ = np.linalg.qr(sketch)
    left, singular, _ = np.linalg.svd(basis.T @ centred, full_matrices=False)
    coordinates = (basis @ left[:, :components]) * singular[:components]
    explained = singular[:components] ** 2 / max(float(np.sum(centred**2)), 1e-12)
    return coordinates, explained


def principal_directions(
    explorer, samples: int = SAMPLES, components: int = COMPONENTS, seed: int = SEED
) -> Directions:
    """GANSpace's principal directions of a generator, mapped back to z.

    Args:
        explorer: an `Explorer` (its generator, latent distribution, classes).
        samples: random latents the activations are collected over.
        components: directions to keep (at most the latent size).
        seed: seed of the latents (and of the classes of a conditional one).

    Returns:
        `Directions`, unit-norm in z so that a slider at 1 moves a sample by
        one standard deviation of N(0, I) along it.
    """
    generator = explorer.generator
    components = min(components, generator.latent_dim, samples - 1)
    z = latent_space.sample_latents(
        samples, generator.latent_dim, seed, generator.latent_distribution
    )
    features, name = early_features(generator.model)
    classes = None
    if generator.num_classes:
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, generator.num_classes, samples)
        classes = explorer.class_vectors(labels, samples)
    rows = []
    for i in range(0, samples, 256):
        inputs = (
            z[i : i + 256]
            if classes is None
            else [z[i : i + 256], classes[i : i + 256]]
        )
        out = features(inputs, training=False)
        rows.append(keras.ops.convert_to_numpy(out).reshape(len(z[i : i + 256]), -1))
    activations = np.concatenate(rows).astype(np.float64)
    centred = activations - activations.mean(axis=0)
    coordinates, explained = _top_components(centred, components, seed)
    # Regression of z on the coordinates: z ~ coordinates @ U, U (k, d).
    u, *_ = np.linalg.lstsq(coordinates, z - z.mean(axis=0), rcond=None)
    norms = np.linalg.norm(u, axis=1, keepdims=True)
    unit = u / np.where(norms > 0, norms, 1.0)
    return Directions(unit.astype(np.float32), explained.astype(np.float32), name)


def direction_between(positive, negative) -> np.ndarray:
    """The user's direction: mean of one group of latents minus the other's.

    A slider at 1 adds exactly this difference, so a sample of the second
    group moves to the first group's average.

    Raises:
        ValueError: when the two averages are the same latent.
    """
    vector = np.mean(positive, axis=0) - np.mean(negative, axis=0)
    if not np.linalg.norm(vector) > 1e-6:
        raise ValueError("The two groups have the same average; pick other samples.")
    return vector.astype(np.float32)
