"""Projection of a user's image into the latent space: the z whose sample
looks most like it, so a walk can start from one's own picture.

As in GAN inversion by optimisation (Zhu et al. 2016, "Generative Visual
Manipulation on the Natural Image Manifold", §3.1): the best of many random
z is refined by Adam on a distance between G(z) and the image, on pixels or
on pixels plus the shipped domain classifier's 128-d features (a perceptual
distance made for these data sets). The gradients are the backend's
(`dcgan_tf.explorer.backend.value_and_grad`).
"""

import io
from dataclasses import dataclass

import keras
import numpy as np
from PIL import Image

from dcgan_tf.explorer import backend
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import to_uint8

DISTANCES = ("pixels", "features")
# An upload is refused beyond these, before its pixels are decoded.
MAX_UPLOAD_BYTES = 8 * 2**20
MAX_SIDE = 8192
CANDIDATES = 64  # random (z, class) pairs whose best few are refined
STARTS = 4
LEARNING_RATE = 0.05
# Keeps Gaussian latents near the shell where N(0, I) puts them.
NORM_PENALTY = 0.01


@dataclass(frozen=True)
class Projection:
    """The latent found, its class (or None), and how far its sample is."""

    latent: np.ndarray
    label: int | None
    target: np.ndarray  # uint8 (h, w, c): the upload as the generator sees it
    pixel_rmse: float  # in grey levels, 0-255
    feature_distance: float | None  # |F(G(z)) - F(x)| / |F(x)|


def read_image(data: bytes, image_shape) -> np.ndarray:
    """An uploaded file as float32 `(h, w, c)` in [-1, 1] of the generator's shape.

    The largest centred square is cut out and resized (Lanczos); colour
    becomes grey for a 1-channel generator and grey becomes colour for a
    3-channel one; transparency is laid on white.

    Raises:
        ValueError: for an empty, enormous or undecodable file.
    """
    if not data:
        raise ValueError("The upload is empty; choose an image file.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"The upload is {len(data) / 2**20:.1f} MiB; images up to "
            f"{MAX_UPLOAD_BYTES // 2**20} MiB are taken."
        )
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if max(width, height) > MAX_SIDE:
            raise ValueError(
                f"The image is {width}x{height} pixels; images up to "
                f"{MAX_SIDE} pixels a side are taken."
            )
        image.load()
    except Image.UnidentifiedImageError:
        # Pillow's own words name its in-memory buffer, nothing of the user's.
        raise ValueError(
            "The upload is not an image Pillow can read; choose a PNG, JPEG, ..."
        ) from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError(
            f"The upload is not an image Pillow can read (PNG, JPEG, ...): {error}"
        ) from None
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    height, width, channels = image_shape
    image = image.convert("L" if channels == 1 else "RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    array = np.asarray(image, np.float32).reshape(height, width, channels)
    return array / 127.5 - 1.0


def features_available(generator) -> bool:
    """Whether the package ships a classifier for this generator's data set
    and image shape (Fashion-MNIST 28x28x1, CIFAR-10 32x32x3)."""
    from dcgan_tf.quality import classifiers

    shape = classifiers.IMAGE_SHAPES.get(generator.dataset or "")
    return shape is not None and tuple(shape) == tuple(generator.image_shape)


def feature_network(generator):
    """The shipped classifier's feature layer for this generator's data set,
    or None when there is none of its image shape."""
    from dcgan_tf.quality import classifiers

    if not features_available(generator):
        return None
    classifier = classifiers.load_classifier(generator.dataset)
    return keras.Model(classifier.input, classifier.get_layer("features").output)


def project(explorer, target, label=None, distance="pixels", steps=200, seed=0):
    """Finds the latent whose sample is nearest to `target`.

    Args:
        explorer: an `Explorer`.
        target: float32 `(h, w, c)` in [-1, 1] (see `read_image`).
        label: a conditional generator's class index, or None to let the
            search choose among the classes.
        distance: `"pixels"` or `"features"` (pixels plus the classifier's
            features; needs `explorer.features`).
        steps: Adam steps.
        seed: seed of the random starts.

    Returns:
        A `Projection`.

    Raises:
        ValueError: for features where the data set has no classifier.
    """
    g = explorer.generator
    features = explorer.features() if distance == "features" else None
    if distance == "features" and features is None:
        raise ValueError(
            "No shipped classifier fits this generator's data set and image "
            "size; use the pixel distance."
        )
    x = np.asarray(target, np.float32)[None]
    target_features = None
    if features is not None:
        target_features = keras.ops.convert_to_numpy(features(x, training=False))
        feature_scale = float(np.mean(target_features**2)) + 1e-6
    rng = np.random.default_rng(seed)
    z = latent_space.sample_latents(
        CANDIDATES, g.latent_dim, seed, g.latent_distribution
    )
    labels = None
    if g.num_classes:
        labels = (
            np.full(CANDIDATES, label)
            if label is not None
            else rng.integers(0, g.num_classes, CANDIDATES)
        )
    classes = explorer.class_vectors(labels, CANDIDATES)
    first = explorer.forward(z, classes)
    best = np.argsort(np.mean((first - x) ** 2, axis=(1, 2, 3)))[:STARTS]
    z = z[best]
    classes = None if classes is None else classes[best]
    normal = g.latent_distribution == "normal"
    # Backend tensors, so that torch never meets a numpy array in the loss.
    x_tensor = keras.ops.convert_to_tensor(x)
    class_tensor = None if classes is None else keras.ops.convert_to_tensor(classes)
    if target_features is not None:
        feature_tensor = keras.ops.convert_to_tensor(target_features)

    def loss(latents):
        inputs = latents if classes is None else [latents, class_tensor]
        images = g.model(inputs, training=False)
        value = keras.ops.mean((images - x_tensor) ** 2, axis=(1, 2, 3))
        if features is not None:
            found = features(images, training=False)
            value += (
                keras.ops.mean((found - feature_tensor) ** 2, axis=1) / feature_scale
            )
        if normal:
            value += NORM_PENALTY * (keras.ops.mean(latents**2, axis=1) - 1.0) ** 2
        return value

    gradient = backend.value_and_grad(loss)
    # Adam (Kingma and Ba 2015) with its default betas, on the latents only.
    m, v = np.zeros_like(z), np.zeros_like(z)
    for step in range(1, steps + 1):
        _, grad = gradient(z)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        z = z - LEARNING_RATE * (m / (1 - 0.9**step)) / (
            np.sqrt(v / (1 - 0.999**step)) + 1e-8
        )
        if not normal:
            z = np.clip(z, -1.0, 1.0)
        z = z.astype(np.float32)
    values, _ = gradient(z)
    winner = int(np.argmin(values))
    image = explorer.forward(
        z[winner : winner + 1],
        None if classes is None else classes[winner : winner + 1],
    )
    rmse = float(np.sqrt(np.mean((image - x) ** 2)) * 127.5)
    feature_distance = None
    if features is not None:
        found = keras.ops.convert_to_numpy(features(image, training=False))
        feature_distance = float(
            np.linalg.norm(found - target_features)
            / (np.linalg.norm(target_features) + 1e-6)
        )
    return Projection(
        z[winner],
        None if labels is None else int(labels[best][winner]),
        to_uint8(target),
        rmse,
        feature_distance,
    )
