"""The memorisation check: are samples closer to the training images than
unseen real images are?

A generator trained on a few thousand images can learn to copy them. A copy
sits nearer its training image than any other real image does; a generator
that generalises makes samples no nearer the training set than new photos of
the same kind. So the check compares two sets of nearest-neighbour distances
to the training images: the samples', and those of held-out real images that
the generator never saw (the test of Radford et al. 2015 §6.1 made a number;
the same comparison of generated and held-out distances to the training set
is the basis of Meehan, Chaudhuri and Dasgupta 2020, "A Non-Parametric Test
to Detect Data-Copying in Generative Models", and of the authenticity check
of Alaa et al. 2022, "How Faithful is your Synthetic Data?").

The distance is that of the `neighbours` command
(`dcgan_tf.quality.nearest.nearest_neighbours`): root-mean-square
difference of the pixels on a 0..1 scale, so a sample beside its nearest
training image in `neighbour_grid` shows what the figure measured.

- `ratio`: median distance of the samples to their nearest training image
  over the same median of the held-out images. About 1 or above: samples are
  no nearer the training set than new real images (no copying); well below 1
  (under 0.3 for near-copies): the generator reproduces training images.
- `copy_share`: the share of samples nearer a training image than
  `PERCENTILE` = 5% of the held-out images are (the lower tail, where a real
  image rarely falls by chance: about 5% of unseen real images would score
  so; far more samples there means copies).
"""

import numpy as np

from dcgan_tf.quality.nearest import nearest_neighbours

# Its name among the metrics of `evaluate` and the result tables.
NAME = "memorisation"
# The held-out distances' percentile under which a sample counts as a copy.
PERCENTILE = 5.0


def nearest_distances(queries, train) -> np.ndarray:
    """Each query's distance to its nearest training image, by
    `nearest_neighbours` (RMS pixel difference, 0..1 scale).

    Args:
        queries: uint8 images `(n, h, w, c)`.
        train: uint8 training images `(m, h, w, c)`; may be memory-mapped.
    """
    _, distances = nearest_neighbours(queries, train, k=1)
    return distances[:, 0]


def memorisation_from_distances(
    sample_distances, heldout_distances, percentile: float = PERCENTILE
) -> dict:
    """The check's figures from the two sets of nearest-training distances.

    Returns:
        `{"ratio", "copy_share", "sample_median", "heldout_median",
        "threshold"}`: the medians' ratio, the share of samples under
        `threshold` (the held-out distances' `percentile`), and those values.

    Raises:
        ValueError: for an empty set, or held-out distances all 0 (held-out
            images that are training images).
    """
    samples = np.asarray(sample_distances, np.float64).reshape(-1)
    heldout = np.asarray(heldout_distances, np.float64).reshape(-1)
    if not len(samples) or not len(heldout):
        raise ValueError("The memorisation check needs samples and held-out images.")
    heldout_median = float(np.median(heldout))
    if heldout_median <= 0:
        raise ValueError(
            "The held-out images are copies of training images (median distance "
            "0); hold out images that are not in the training set."
        )
    threshold = float(np.percentile(heldout, percentile))
    sample_median = float(np.median(samples))
    return {
        "ratio": sample_median / heldout_median,
        "copy_share": float(np.mean(samples < threshold)),
        "sample_median": sample_median,
        "heldout_median": heldout_median,
        "threshold": threshold,
    }


def memorisation(samples, train, heldout, percentile: float = PERCENTILE) -> dict:
    """The memorisation check of generated `samples` against the `train`
    images, with `heldout` real images (not in `train`) as the reference.

    Args:
        samples: uint8 generated images `(n, h, w, c)`.
        train: uint8 training images `(m, h, w, c)`, the generator's own.
        heldout: uint8 real images `(l, h, w, c)` of the same kind, not in
            `train` (e.g. a test split, or a part of a folder kept out of
            training).
        percentile: see `PERCENTILE`.

    Returns:
        See `memorisation_from_distances`.

    Raises:
        ValueError: for images of different shapes or empty sets.
    """
    return memorisation_from_distances(
        nearest_distances(samples, train),
        nearest_distances(heldout, train),
        percentile,
    )
