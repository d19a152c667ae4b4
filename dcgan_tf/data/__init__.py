"""Every data set of the project as uint8 images (with labels when asked), and
the batches that feed `fit`.

This module checks the arguments and picks the source; each concern has one
owner:
- `classic`: Fashion-MNIST, MNIST and CIFAR-10: finding a local copy (see
  `data/README.md`), downloading through `keras.datasets` when there is none;
  `formats` reads the files they come in, with their labels.
- `folder`: folders of images (BIKED, your own): finding, listing, labels from
  class sub-folders; `decode` turns one file into a square within a memory
  bound, `cache` keeps decoded folders on disk.
- `pipeline`: `make_dataset`, the endless, resumable tf.data stream in
  [-1, 1], and `synthetic_images`.
- `errors`: `DataError` and `DataWarning`.
"""

import numpy as np

from dcgan_tf.config import DATASETS, FIT_MODES, PRESETS
from dcgan_tf.data import classic
from dcgan_tf.data.classic import CLASSIC, SPLITS
from dcgan_tf.data.errors import DataError, DataWarning
from dcgan_tf.data.folder import (
    BIKED_ADVICE,
    FOLDERS,
    IMAGE_EXTENSIONS,
    image_folder,
    list_images,
    load_class_folders,
    load_folder,
)
from dcgan_tf.data.formats import CLASS_NAMES

# The tf.data pipeline imports TensorFlow: loaded on first use (PEP 562), so that
# finding and checking the data answers before TensorFlow is imported.
_PIPELINE = ("make_dataset", "synthetic_images")


def __getattr__(name):
    if name not in _PIPELINE:
        raise AttributeError(f"module 'dcgan_tf.data' has no attribute {name!r}")
    from dcgan_tf.data import pipeline

    return getattr(pipeline, name)


__all__ = [
    "CLASSIC",
    "CLASS_NAMES",
    "FOLDERS",
    "IMAGE_EXTENSIONS",
    "SPLITS",
    "DataError",
    "DataWarning",
    "describe",
    "find",
    "load_images",
    "load_labeled",
    "make_dataset",
    "synthetic_images",
]


def load_images(
    dataset, data_dir=None, image_size=None, split="train", fit="crop", limit=None
) -> np.ndarray:
    """Loads a data set as uint8 images, from disk when possible.

    Args:
        dataset: one of `fashion_mnist`, `mnist`, `cifar10`, `biked`, `folder`.
        data_dir: where the files are, searched before the usual places; for
            `folder` (and optionally `biked`) the folder of images itself.
        image_size: side of the square images; defaults to 28 for
            (fashion_)mnist, 32 for cifar10, 128 for biked and 64 for folder.
        split: `"train"` or `"test"` for the classic sets; folders ignore it.
        fit: how folder images reach a square: `"crop"` the centre, or `"pad"`
            with their border colour.
        limit: keep at most this many images (the first ones).

    Returns:
        A uint8 array `(n, size, size, channels)`, 1 channel for (fashion_)mnist
        and 3 otherwise; large decoded folders come back memory-mapped.

    Raises:
        DataError: for a bad argument, or when the data cannot be found, read
            or downloaded.
    """
    return _load(dataset, data_dir, image_size, split, fit, limit, False)[0]


def load_labeled(
    dataset, data_dir=None, split="train", image_size=None, fit="crop", limit=None
):
    """Loads a data set with its class labels, from disk when possible.

    Searches as `load_images` does. The classic sets' labels come from their
    files (IDX labels beside the images, `SPLIT/<class>/*.jpg`,
    `cifar10-jpg.tar.gz`, ...); a folder's from its class sub-folders.

    Args:
        dataset, data_dir, split, image_size, fit, limit: as for `load_images`.

    Returns:
        `(images, labels, class_names)`: uint8 `(n, size, size, channels)`,
        int64 `(n,)` indices into `class_names`, a tuple of strings
        (`CLASS_NAMES[dataset]` for the classic sets, the sorted sub-folder
        names for `biked` and `folder`).

    Raises:
        DataError: as `load_images`, and when the copy found has no labels
            (IDX images without their labels file, a folder without class
            sub-folders).
    """
    return _load(dataset, data_dir, image_size, split, fit, limit, True)


def _load(dataset, data_dir, image_size, split, fit, limit, labelled):
    """`(images, labels, class_names)`; the last two None unless `labelled`."""
    if dataset not in DATASETS:
        raise DataError(
            f"Unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}."
        )
    if split not in SPLITS:
        raise DataError(f"split must be 'train' or 'test', got {split!r}.")
    if fit not in FIT_MODES:
        raise DataError(f"fit must be 'crop' or 'pad', got {fit!r}.")
    if limit is not None and limit < 1:
        raise DataError(f"limit must be at least 1, got {limit}.")
    if image_size is not None and image_size < 1:
        raise DataError(f"image_size must be at least 1, got {image_size}.")
    size = image_size or PRESETS[dataset]["image_size"]
    if dataset in FOLDERS:
        folder = image_folder(dataset, data_dir)
        advice = BIKED_ADVICE if dataset == "biked" else "pass a folder of images."
        if labelled:
            return load_class_folders(folder, size, fit, limit, advice)
        return load_folder(folder, size, fit, limit, advice), None, None
    images, labels = classic.load(dataset, data_dir, split, size, fit, limit, labelled)
    if size != images.shape[1]:
        from dcgan_tf.data.pipeline import _resize

        images = _resize(images, size)
    return images, labels, CLASS_NAMES[dataset] if labelled else None


def describe(dataset, data_dir=None) -> str:
    """Says in one line where `load_images` finds the training images, or
    what is wrong (see `find`)."""
    try:
        return find(dataset, data_dir)
    except DataError as error:
        return f"{dataset}: {error}"


def find(dataset, data_dir=None) -> str:
    """Says in one line where `load_images` finds the training images.

    Reads no image and imports no TensorFlow, so that a command can check its
    data in a second before the minutes of loading.

    Raises:
        DataError: for an image folder that does not exist or holds no images,
            or a `data_dir` that is not a folder.
    """
    if dataset in FOLDERS:
        folder = image_folder(dataset, data_dir)
        count = len(list_images(folder))
        if not count:
            advice = BIKED_ADVICE if dataset == "biked" else "pass a folder of images."
            raise DataError(
                f"No images ({', '.join(IMAGE_EXTENSIONS)}) under {folder}; {advice}"
            )
        return f"{dataset}: {count} image files under {folder}"
    source = classic.locate(dataset, data_dir, "train")
    if source is None:
        return (
            f"{dataset}: no local copy; will download with keras.datasets.{dataset}"
            " (needs the internet)"
        )
    return f"{dataset}: {source[0]} at {source[1]}"
