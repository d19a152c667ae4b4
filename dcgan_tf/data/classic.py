"""Fashion-MNIST, MNIST and CIFAR-10 with their labels: finding, reading, downloading.

A local copy is read first (the given folder, the project's `data/`, the Keras
and TFDS caches, Debian's `/usr/share/datasets`) in any form the sets are
distributed in (IDX files, Keras' `mnist.npz`, CIFAR-10's python pickles or
their archive, JPEGs in `SPLIT/<class>/` or `cifar10-jpg.tar.gz`, a prepared
TFDS copy); `keras.datasets` downloads only when there is none, and otherwise
the error says in one line which files to put where (see `data/README.md`).
The files are parsed by `dcgan_tf.data.formats`, folders of JPEGs decoded by
`dcgan_tf.data.folder`.
"""

import os
import socket
import threading
from pathlib import Path

import numpy as np

from dcgan_tf.data import folder, formats
from dcgan_tf.data.errors import DataError

CLASSIC = ("fashion_mnist", "mnist", "cifar10")
SPLITS = ("train", "test")
# Folder names each data set may sit in, as Keras, TFDS, Debian and users spell them.
DIR_NAMES = {
    "fashion_mnist": ("fashion-mnist", "fashion_mnist"),
    "mnist": ("mnist",),
    "cifar10": ("cifar10", "cifar-10", "cifar_10"),
}
TITLES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}
SYSTEM_DIR = Path("/usr/share/datasets")
# Hosts the Keras loaders download from; probed first so that a machine with
# no network fails in seconds instead of hanging in urlretrieve.
DOWNLOAD_HOSTS = {
    "fashion_mnist": "storage.googleapis.com",
    "mnist": "storage.googleapis.com",
    "cifar10": "www.cs.toronto.edu",
}
PROBE_TIMEOUT_S = 5.0
DOWNLOAD_TIMEOUT_S = 60.0
LOCAL_FILES = {
    "fashion_mnist": "train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz "
    "(github.com/zalandoresearch/fashion-mnist, or Debian's dataset-fashion-mnist)",
    "mnist": "train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz, or Keras's "
    "mnist.npz",
    "cifar10": "cifar-10-python.tar.gz (www.cs.toronto.edu/~kriz/cifar.html), its "
    "cifar-10-batches-py/ folder, train/<class>/*.jpg and test/<class>/*.jpg, or "
    "their cifar10-jpg.tar.gz",
}


def load(dataset, data_dir, split, size, fit, limit, labelled):
    """Reads one split from the first local copy, or downloads it.

    Args:
        dataset: one of `CLASSIC`.
        data_dir: a folder searched before the usual places, or None.
        split: `"train"` or `"test"`.
        size, fit: how a folder of JPEGs is decoded (see `folder.load_folder`).
        limit: keep at most this many images (the first ones), or None.
        labelled: whether the labels are needed.

    Returns:
        `(images, labels)`: uint8 `(n, height, width, channels)` at the set's
        own size (`size` for JPEGs), int64 `(n,)` indices into
        `CLASS_NAMES[dataset]` (None unless `labelled`).

    Raises:
        DataError: when the data cannot be found, read or downloaded, or the
            copy found has no labels and `labelled` is set.
    """
    source = locate(dataset, data_dir, split)
    if source is not None and source[0] == "folder":
        advice = "add JPEGs or remove it."
        if not labelled:
            return folder.load_folder(source[1], size, fit, limit, advice), None
        images, labels, names = folder.load_class_folders(
            source[1], size, fit, limit, advice
        )
        return images, formats.cifar_labels(names, source[1])[labels]
    images, labels = formats.read_source(source, split) if source else (None, None)
    where = source[1] if images is not None else f"keras.datasets.{dataset}"
    if images is None:
        images, labels = download(dataset, split)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if labelled and labels is None:  # IDX images without their labels file
        labels_file = formats.labels_name(where)
        raise DataError(f"{where} has no labels: put {labels_file} beside it.")
    if labelled and len(labels) != len(images):
        raise DataError(f"{where}: {len(images)} images but {len(labels)} labels.")
    labels = np.array(labels[:limit], np.int64).reshape(-1) if labelled else None
    return np.array(images[:limit], np.uint8), labels


# --- Finding the data sets ---------------------------------------------------


def _keras_datasets_dir() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return Path(home).expanduser() / "datasets"


def _tfds_dir() -> Path:
    return Path(os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets").expanduser()


def _search_dirs(dataset, data_dir) -> list[Path]:
    """Folders that may hold the data set's files, in the order they are tried."""
    names = DIR_NAMES[dataset]
    dirs = []
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        if not root.is_dir():
            raise DataError(f"--data-dir {root} is not a folder.")
        dirs += [root] + [root / name for name in names]
    for root in folder.project_data_dirs():
        dirs += [root / name for name in names]
    keras_dir = _keras_datasets_dir()
    dirs += [keras_dir / name for name in names]
    if dataset == "mnist":
        dirs.append(keras_dir)  # keras.datasets.mnist caches datasets/mnist.npz
    if dataset == "cifar10":
        # Keras 3 extracts to cifar-10-batches-py-target/, Keras 2 to datasets/.
        dirs += [keras_dir / "cifar-10-batches-py-target", keras_dir]
    dirs += [SYSTEM_DIR / name for name in names]
    unique = []
    for place in dirs:
        if place.is_dir() and place not in unique:
            unique.append(place)
    return unique


def locate(dataset, data_dir, split):
    """Finds the first local copy of one split of a classic data set.

    Args:
        dataset: one of `CLASSIC`.
        data_dir: a folder searched before the usual places, or None.
        split: `"train"` or `"test"`.

    Returns:
        `(kind, path)`, kind saying what was found (`"IDX file"`, `"folder"`
        of JPEGs, ...), or None when there is no local copy.

    Raises:
        DataError: when `data_dir` is not a folder.
    """
    stem = "train" if split == "train" else "t10k"
    for place in _search_dirs(dataset, data_dir):
        if dataset in ("fashion_mnist", "mnist"):
            for name in (f"{stem}-images-idx3-ubyte", f"{stem}-images.idx3-ubyte"):
                for path in (place / f"{name}.gz", place / name):
                    if path.is_file():
                        return "IDX file", path
            if dataset == "mnist" and (place / "mnist.npz").is_file():
                return "Keras mnist.npz", place / "mnist.npz"
            continue
        for batches in (place / "cifar-10-batches-py", place):
            if all((batches / name).is_file() for name in formats.CIFAR_BATCHES[split]):
                return "CIFAR-10 python batches", batches
        if (place / "cifar-10-python.tar.gz").is_file():
            return "CIFAR-10 python archive", place / "cifar-10-python.tar.gz"
        if next(folder.walk_images(place / split), None):
            return "folder", place / split
        if (place / formats.CIFAR_JPEG_ARCHIVE).is_file():
            return "CIFAR-10 JPEG archive", place / formats.CIFAR_JPEG_ARCHIVE
    tfds_root = _tfds_dir()
    if (tfds_root / dataset).is_dir():
        return "TFDS prepared copy", tfds_root / dataset
    return None


# --- Downloading -------------------------------------------------------------


def _reachable(host: str) -> bool:
    """Whether a TCP connection to `host` opens within `PROBE_TIMEOUT_S`."""
    if any(os.environ.get(name) for name in ("https_proxy", "HTTPS_PROXY")):
        return True  # urllib goes through the proxy; a direct probe would fail
    opened = []

    def probe():
        try:
            socket.create_connection((host, 443), timeout=PROBE_TIMEOUT_S).close()
            opened.append(True)
        except OSError:
            pass

    # Name resolution has no timeout of its own, hence the thread.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S)
    return bool(opened)


def _keras_load(dataset, split):
    """Downloads (or reads Keras' cache of) a classic data set: images, labels."""
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # a stalled transfer fails, not hangs
    try:
        train, test = getattr(keras.datasets, dataset).load_data()
    finally:
        socket.setdefaulttimeout(previous)
    return train if split == "train" else test


def download(dataset, split):
    """Downloads a classic data set with `keras.datasets`, or says what to do.

    Args:
        dataset: one of `CLASSIC`.
        split: `"train"` or `"test"`.

    Returns:
        `(images, labels)` as Keras loads them.

    Raises:
        DataError: when the host is unreachable or the download fails, in one
            line that names the files to put in `data/` instead.
    """
    host = DOWNLOAD_HOSTS[dataset]
    if _reachable(host):
        try:
            return _keras_load(dataset, split)
        except Exception as error:  # any failed download ends in the same advice
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    else:
        reason = f"no connection to {host}"
    name = DIR_NAMES[dataset][0]
    raise DataError(
        f"{TITLES[dataset]} is not on this machine and could not be downloaded "
        f"({reason}): put {LOCAL_FILES[dataset]} in data/{name}/, "
        f"{_keras_datasets_dir() / name}/ or a folder given as --data-dir; "
        "see data/README.md."
    )
