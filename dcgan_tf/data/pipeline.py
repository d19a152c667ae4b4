"""The batches that feed `fit`: an endless, resumable tf.data stream in [-1, 1].

[-1, 1] is the range of the generator's tanh output (Radford et al. §3).
`synthetic_images` is a stand-in data set for `--dry-run`, and `_resize`
brings the classic sets to another size. The only module of `dcgan_tf.data`
that uses TensorFlow.
"""

import numpy as np
import tensorflow as tf

from dcgan_tf.data.errors import DataError


def make_dataset(
    images, batch_size, seed, start_batch=0, labels=None
) -> tf.data.Dataset:
    """An endless, shuffled stream of batches in [-1, 1], resumable at any batch.

    Epoch `e` visits the images in a permutation drawn from `(seed, e)` alone,
    in `len(images) // batch_size` full batches (the remainder of each epoch is
    dropped), so the stream is a pure function of the seed and a run resumed at
    batch `k` sees the very batches an uninterrupted run sees.

    Args:
        images: uint8 array `(n, height, width, channels)`; may be memory-mapped.
        batch_size: images per batch; every batch has exactly this many.
        seed: seed of the order of every epoch.
        start_batch: batches to skip, e.g. `initial_epoch * steps_per_epoch`;
            skipping costs no decoding.
        labels: for a conditional model, the int class of each image; the
            batches then pair each image with its label.

    Returns:
        A `tf.data.Dataset` of float32 `(batch_size, height, width, channels)`
        batches, `x / 127.5 - 1`, prefetched; with `labels`, of `(images,
        labels)` pairs, the labels int32 `(batch_size,)`. The order of the
        images is the same with or without labels.

    Raises:
        DataError: when there are fewer images than one batch.
        ValueError: for a bad array, batch size, start batch or labels.
    """
    if not isinstance(images, np.ndarray):  # keeps np.memmap as it is
        images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 (n, height, width, channels), got {images.dtype} "
            f"{images.shape}."
        )
    if batch_size < 1 or start_batch < 0:
        raise ValueError(
            "Need batch_size >= 1 and start_batch >= 0, "
            f"got {batch_size} and {start_batch}."
        )
    count = len(images)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (count,) or labels.dtype.kind not in "iu":
            raise ValueError(
                f"labels must be {count} integers, one per image, got {labels.dtype} "
                f"{labels.shape}."
            )
        with tf.device("/cpu:0"):
            label_tensor = tf.convert_to_tensor(labels.astype(np.int32))
    steps = count // batch_size
    if steps == 0:
        raise DataError(
            f"Only {count} images, fewer than one batch of {batch_size}; "
            "lower --batch-size or add images."
        )
    # Stateless seeds are two int64 values: (run seed, epoch).
    seed = int(seed) % 2**63
    first_epoch, offset = divmod(int(start_batch), steps)
    gather = _gather_function(images)

    def epoch_batches(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64),
            seed=tf.stack([tf.constant(seed, tf.int64), epoch]),
        )
        batches = tf.reshape(order[: steps * batch_size], (steps, batch_size))
        return tf.data.Dataset.from_tensor_slices(batches)

    def to_float(indices):
        batch = tf.ensure_shape(gather(indices), (batch_size,) + images.shape[1:])
        batch = tf.cast(batch, tf.float32) / 127.5 - 1.0
        if labels is None:
            return batch
        return batch, tf.gather(label_tensor, indices)

    dataset = tf.data.Dataset.counter(first_epoch).flat_map(epoch_batches)
    dataset = dataset.skip(offset)  # index batches only: nothing is gathered
    dataset = dataset.map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _gather_function(images: np.ndarray):
    """Returns `indices -> uint8 batch` for the tf.data map.

    Arrays in memory become one host tensor captured by the map function, which
    tf.data feeds as an input rather than a graph constant (no 2 GB limit) and
    gathers from without Python. Memory-mapped arrays stay on disk and are read
    by numpy; iterators that call Python can hang at interpreter exit
    (seen here about once in six runs), so in-memory data avoids that path.
    """
    if isinstance(images, np.memmap):
        return lambda indices: tf.numpy_function(
            lambda i: images[i], [indices], tf.uint8, stateful=False
        )
    with tf.device("/cpu:0"):  # tf.data runs on the host; keep it off the GPU
        tensor = tf.convert_to_tensor(images)
    return lambda indices: tf.gather(tensor, indices)


def synthetic_images(n, image_shape, seed=0) -> np.ndarray:
    """Smooth random coloured blobs, a stand-in data set for `--dry-run`.

    Args:
        n: number of images.
        image_shape: `(height, width, channels)`.
        seed: seed of the blobs.

    Returns:
        A uint8 array `(n, height, width, channels)`.
    """
    height, width, channels = image_shape
    rng = np.random.default_rng(seed)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    cols = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    out = np.empty((n, height, width, channels), np.uint8)
    blobs = 3
    for start in range(0, n, 256):
        m = min(256, n - start)
        centres = rng.uniform(0.15, 0.85, (m, blobs, 2, 1, 1)).astype(np.float32)
        radii = rng.uniform(0.1, 0.3, (m, blobs, 1, 1)).astype(np.float32)
        colours = rng.uniform(-2.0, 2.0, (m, blobs, channels)).astype(np.float32)
        background = rng.uniform(-1.0, 1.0, (m, 1, 1, channels)).astype(np.float32)
        distance = (rows - centres[:, :, 0]) ** 2 + (cols - centres[:, :, 1]) ** 2
        weights = np.exp(-distance / (2 * radii**2))  # (m, blobs, height, width)
        image = np.tanh(background + np.einsum("mbhw,mbc->mhwc", weights, colours))
        out[start : start + m] = np.rint((image + 1.0) * 127.5).astype(np.uint8)
    return out


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Resizes square uint8 images (classic sets asked at another size)."""
    out = np.empty((len(images), size, size, images.shape[-1]), np.uint8)
    for start in range(0, len(images), 4096):
        chunk = tf.image.resize(
            images[start : start + 4096], (size, size), antialias=True
        ).numpy()
        out[start : start + 4096] = np.clip(np.rint(chunk), 0, 255)
    return out
