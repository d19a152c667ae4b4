"""The labelled training and test images a probe measures D on, in D's shape.

The classic sets have their own test split; a folder of class sub-folders has
none, so a fixed fifth of each class (the same whatever `--seed`) is held out
as its test split.
"""

import numpy as np

from dcgan_tf.probe.block_features import check_images

FOLDER_TEST_FRACTION = 0.2


def describe(loaded) -> str:
    """One line saying which discriminator is probed."""
    shape = "x".join(map(str, loaded.image_shape))
    position = loaded.describe_position()
    where = f"{position} of " if position else ""
    dataset = f", trained on {loaded.config.dataset}" if loaded.config else ""
    line = f"Discriminator: {where}{loaded.source} ({shape}{dataset})"
    if loaded.conditional:
        line += "; conditional: its image branch is probed, no class input"
    return line


def load_splits(loaded, dataset=None, data_dir=None, train_limit=None, test_limit=None):
    """`(train, test, dataset)`: `(images, labels)` pairs in D's image shape.

    Args:
        loaded: a `LoadedDiscriminator`.
        dataset: the data set (default: the run's).
        data_dir: where its files are (default: the run's, then the usual
            places).
        train_limit, test_limit: keep only the first this many images.

    Raises:
        ValueError: without a data set, or for images of another shape than
            D takes (`DataError` when the data cannot be found).
    """
    from dcgan_tf.data import CLASSIC, load_labeled

    config = loaded.config
    if dataset is None:
        if config is None:
            raise ValueError(
                f"{loaded.source} is not in a run directory; pass --dataset."
            )
        dataset = config.dataset
    if data_dir is None and config is not None and config.dataset == dataset:
        data_dir = config.data_dir
    size = loaded.image_shape[0]
    fit = config.fit if config is not None else "crop"
    if dataset in CLASSIC:
        test = load_labeled(dataset, data_dir, "test", limit=test_limit)[:2]
        check_images(loaded.model, test[0])
        train = load_labeled(dataset, data_dir, "train", limit=train_limit)[:2]
        return train, test, dataset
    images, labels, _ = load_labeled(dataset, data_dir, image_size=size, fit=fit)
    check_images(loaded.model, images)
    held = _held_out(labels)
    train = (images[~held], labels[~held])
    test = (images[held], labels[held])
    if train_limit:
        train = (train[0][:train_limit], train[1][:train_limit])
    if test_limit:
        test = (test[0][:test_limit], test[1][:test_limit])
    return train, test, dataset


def _held_out(labels: np.ndarray) -> np.ndarray:
    """A fixed `FOLDER_TEST_FRACTION` of every class, as a boolean mask."""
    rng = np.random.default_rng(0)
    held = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        held[members[: max(1, round(FOLDER_TEST_FRACTION * len(members)))]] = True
    return held
