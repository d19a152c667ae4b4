"""A discriminator's features the way Radford et al. (2015, §5.1) measured
them: each convolutional block's output max-pooled to a 4x4 grid, flattened,
and concatenated; and its batch-norm statistics recomputed on the data.

Everything here runs in batches through Keras ops and model calls, so on every
backend.
"""

import math

import keras
import numpy as np
from keras import ops

from dcgan_tf.probe.discriminator import block_layers, image_input

# Radford et al. §5.1: "max-pooling each layers representation to produce a
# 4 x 4 spatial grid".
GRID = 4
BATCH_SIZE = 256


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images to D's input range [-1, 1] (as the training pipeline does)."""
    return images.astype(np.float32) / 127.5 - 1.0


def pool_to_grid(maps, grid: int = GRID):
    """Max-pools `(batch, h, w, c)` maps to `(batch, grid, grid, c)`.

    Adaptive pooling: cell i spans rows floor(i h / grid) to ceil((i + 1) h /
    grid), so sizes that `grid` does not divide (7x7 maps) are covered whole;
    maps smaller than the grid repeat their rows and columns.
    """
    height, width = maps.shape[1], maps.shape[2]

    def spans(size):
        return [
            (math.floor(i * size / grid), max(math.ceil((i + 1) * size / grid), 1))
            for i in range(grid)
        ]

    rows = []
    for top, bottom in spans(height):
        cells = [
            ops.max(maps[:, top:bottom, left:right, :], axis=(1, 2))
            for left, right in spans(width)
        ]
        rows.append(ops.stack(cells, axis=1))  # (batch, grid, c)
    return ops.stack(rows, axis=1)  # (batch, grid, grid, c)


def feature_model(model: keras.Model, layers=None) -> keras.Model:
    """A model from D's images to the outputs of `layers` (default: every
    block). A conditional D's class input is not needed: the blocks see the
    image alone."""
    names = list(layers) if layers else block_layers(model)
    known = {layer.name for layer in model.layers}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"{model.name} has no layer {', '.join(unknown)}; its blocks are "
            f"{', '.join(block_layers(model))}."
        )
    outputs = [model.get_layer(name).output for name in names]
    return keras.Model(image_input(model), outputs, name=f"{model.name}_features")


def feature_spans(model: keras.Model, layers=None, grid: int = GRID) -> dict:
    """Each layer's `(start, stop)` columns in `extract_features`' output."""
    spans, start = {}, 0
    for name in list(layers) if layers else block_layers(model):
        width = grid * grid * model.get_layer(name).output.shape[-1]
        spans[name] = (start, start + width)
        start += width
    return spans


def check_images(model: keras.Model, images: np.ndarray) -> None:
    """Refuses images of another shape than D takes, saying both shapes."""
    expected = tuple(image_input(model).shape[1:])
    if tuple(images.shape[1:]) != expected:
        raise ValueError(
            f"The images are {'x'.join(map(str, images.shape[1:]))} but this "
            f"discriminator takes {'x'.join(map(str, expected))}; use a data "
            "set of its image shape, such as the one it was trained on."
        )


def extract_features(
    model: keras.Model,
    images: np.ndarray,
    layers=None,
    grid: int = GRID,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """D's features of uint8 images, the paper's way.

    Args:
        model: a discriminator (see `load_discriminator`).
        images: uint8 `(n, size, size, channels)` of the shape D takes.
        layers: names of the block outputs to use (default: all, in order).
        grid: side of the max-pooled grid (the paper's 4).
        batch_size: images per forward pass.

    Returns:
        float32 `(n, sum over layers of grid * grid * channels)`: for the
        28x28 D of 64 filters, 16 * (64 + 128) = 3,072; for the 32x32 one,
        16 * (64 + 128 + 256) = 7,168. `feature_spans` gives each layer's
        columns.

    Raises:
        ValueError: for images of another shape, or an unknown layer.
    """
    check_images(model, images)
    extractor = feature_model(model, layers)
    width = sum(
        stop - start for start, stop in feature_spans(model, layers, grid).values()
    )
    out = np.empty((len(images), width), np.float32)
    for start in range(0, len(images), batch_size):
        batch = to_float(np.asarray(images[start : start + batch_size]))
        maps = extractor(batch, training=False)
        maps = maps if isinstance(maps, (list, tuple)) else [maps]
        pooled = [ops.reshape(pool_to_grid(m, grid), (len(batch), -1)) for m in maps]
        out[start : start + len(batch)] = ops.convert_to_numpy(
            ops.concatenate(pooled, axis=1)
        )
    return out


def recompute_batch_norm(
    model: keras.Model, images: np.ndarray, batch_size: int = BATCH_SIZE
) -> None:
    """Sets every batch norm's moving statistics to those of `images`.

    The statistics of each layer's input over all the images (not a running
    average), layer by layer so that each sees the ones before it already
    set; then they stay frozen. The paper's SVHN code does this for its
    trained D; an untrained D needs it to be measured at all.

    Args:
        model: the discriminator, changed in place.
        images: uint8 training images (labels are not used).
        batch_size: images per forward pass.
    """
    check_images(model, images)
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    for norm in norms:
        inputs = keras.Model(image_input(model), norm.input)
        total = total_squares = 0.0
        for start in range(0, len(images), batch_size):
            batch = to_float(np.asarray(images[start : start + batch_size]))
            x = ops.convert_to_numpy(inputs(batch, training=False)).astype(np.float64)
            total = total + x.sum(axis=(0, 1, 2))
            total_squares = total_squares + (x * x).sum(axis=(0, 1, 2))
        count = len(images) * x.shape[1] * x.shape[2]
        mean = total / count
        variance = np.maximum(total_squares / count - mean * mean, 0.0)
        norm.moving_mean.assign(mean.astype(norm.moving_mean.dtype))
        norm.moving_variance.assign(variance.astype(norm.moving_variance.dtype))
