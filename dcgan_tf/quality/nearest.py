"""Generated samples beside their nearest training images: does it copy?

A generator that copies its data makes samples that sit on top of training
images; one that generalises makes samples whose nearest training images
differ in detail (Radford et al. 2015 §6.1 on memorisation). Distances are
root-mean-square pixel differences on a 0..1 scale; `reference_distances`
gives the same distance from training images to their nearest other one, the
scale to judge samples by.
"""

import numpy as np

from dcgan_tf.data import load_images
from dcgan_tf.sampling.images import caption_grid, make_grid
from dcgan_tf.sampling.loading import check_dataset_shape

# Distances are computed against this many bytes of float32 training images
# at a time, so that 60,000 images (or 128x128 colour ones) fit in memory.
CHUNK_BYTES = 64 * 2**20
# White pixels between a sample and its neighbours in `neighbour_grid`.
GAP = 8


def nearest_neighbours(queries, images, k: int = 5, exclude=None):
    """Finds the `k` training images nearest to each query, by L2 in pixels.

    Args:
        queries: uint8 images `(n, h, w, c)`, such as generated samples.
        images: uint8 training images `(m, h, w, c)`; may be memory-mapped.
        k: neighbours per query.
        exclude: optional `(n,)` indices into `images` to skip, one per query
            (a training image's own index when queries are training images).

    Returns:
        `(indices, distances)`, each `(n, k)`, closest first; distances are
        root-mean-square differences with pixels scaled to [0, 1].

    Raises:
        ValueError: for images of different shapes, or k out of 1..m.
    """
    queries, images = np.asarray(queries), np.asarray(images)
    if queries.shape[1:] != images.shape[1:]:
        raise ValueError(
            f"Samples of shape {queries.shape[1:]} cannot be compared with "
            f"training images of shape {images.shape[1:]}."
        )
    available = len(images) - (exclude is not None)
    if not 1 <= k <= available:
        raise ValueError(f"Neighbours must be in 1..{available}, got {k}.")
    flat = queries.reshape(len(queries), -1).astype(np.float32) / 255.0
    flat_norms = np.sum(flat**2, axis=1)
    best_distances = np.full((len(queries), 0), np.inf, np.float32)
    best_indices = np.zeros((len(queries), 0), np.int64)
    # Each chunk costs rows * (pixels + queries) floats: the images, then
    # their distances to every query.
    rows = max(1, CHUNK_BYTES // (4 * (flat.shape[1] + len(queries))))
    for start in range(0, len(images), rows):
        chunk = images[start : start + rows].reshape(-1, flat.shape[1])
        chunk = chunk.astype(np.float32) / 255.0
        # |q - x|^2 = |q|^2 + |x|^2 - 2 q.x, one matrix product per chunk.
        squared = flat_norms[:, None] + np.sum(chunk**2, axis=1) - 2.0 * flat @ chunk.T
        indices = np.broadcast_to(np.arange(start, start + len(chunk)), squared.shape)
        if exclude is not None:
            squared = np.where(indices == np.asarray(exclude)[:, None], np.inf, squared)
        squared = np.concatenate([best_distances, squared], axis=1)
        indices = np.concatenate([best_indices, indices], axis=1)
        keep = np.argsort(squared, axis=1, kind="stable")[:, :k]
        best_distances = np.take_along_axis(squared, keep, axis=1)
        best_indices = np.take_along_axis(indices, keep, axis=1)
    # The expanded form loses precision; measure the winners exactly.
    difference = queries[:, None].astype(np.float64) - images[best_indices]
    distances = np.sqrt(np.mean((difference / 255.0) ** 2, axis=(2, 3, 4)))
    order = np.argsort(distances, axis=1, kind="stable")
    return (
        np.take_along_axis(best_indices, order, axis=1),
        np.take_along_axis(distances, order, axis=1),
    )


def reference_distances(images, count: int, seed: int = 0) -> np.ndarray:
    """Distances of `count` random training images to their nearest other one.

    The scale to judge samples by: a sample much closer to a training image
    than training images are to each other is a copy.
    """
    if len(images) < 2:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    probe = rng.choice(len(images), min(count, len(images)), replace=False)
    _, distances = nearest_neighbours(images[probe], images, 1, exclude=probe)
    return distances[:, 0]


# The captions above the two parts of `neighbour_grid`, longest first: the
# first that fits the width is written.
SAMPLE_CAPTION = ("sample",)
NEIGHBOURS_CAPTION = (
    "nearest training images, closest first ->",
    "nearest training images ->",
    "training images ->",
    "training",
)


def neighbour_grid(queries, images, indices) -> np.ndarray:
    """One row per query: the query, a gap of `GAP` pixels, then its neighbours
    in order, under a band (`dcgan_tf.sampling.images.LABEL_HEIGHT` pixels) that says
    which column is the sample and which are the training images; a uint8
    picture."""
    k = indices.shape[1]
    left = make_grid(queries, columns=1)
    right = make_grid(images[indices.reshape(-1)], columns=k)
    gap = np.full((left.shape[0], GAP, left.shape[2]), 255, np.uint8)
    picture = np.concatenate([left, gap, right], axis=1)
    start = left.shape[1] + GAP
    captions = [
        (0, left.shape[1], SAMPLE_CAPTION),
        (start, picture.shape[1], NEIGHBOURS_CAPTION),
    ]
    return caption_grid(picture, top=captions)


def load_training_images(generator, dataset=None, data_dir=None, limit=None):
    """The images a generator was trained on, at its size, framed as it saw them.

    Args:
        generator: a `dcgan_tf.sampling.drawing.Generator`.
        dataset: the data set (default: its run's).
        data_dir: where the data set's files are (default: its run's).
        limit: keep only the first this many images.

    Returns:
        uint8 images `(n, height, width, channels)` of the generator's shape.

    Raises:
        ValueError: when the data set is unknown (a generator outside a run)
            or its images are not the generator's shape;
            `dcgan_tf.data.DataError` when they cannot be read.
    """
    config = generator.config
    dataset = dataset or generator.dataset
    if dataset is None:
        raise ValueError(
            f"{generator.path} has no config.json beside it; pass --dataset."
        )
    if data_dir is None and config is not None and config.dataset == dataset:
        data_dir = config.data_dir
    fit = config.fit if config is not None else "crop"
    size = generator.image_shape[0]
    images = load_images(
        dataset, data_dir=data_dir, image_size=size, fit=fit, limit=limit
    )
    check_dataset_shape(generator, dataset, images.shape[1:])
    return images
