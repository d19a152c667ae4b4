"""Where the data sets are on disk, and reading and downloading the classic ones.

Fashion-MNIST, MNIST and CIFAR-10 are read from a local copy first (the
given folder, the project's `data/`, the Keras and TFDS caches, Debian's
`/usr/share/datasets`) in any of the forms they are distributed in (IDX files,
Keras' `mnist.npz`, CIFAR-10's python pickles or their archive, JPEG folders,
a prepared TFDS copy), downloaded through `keras.datasets` only when there is
none, and otherwise fail in one line that says which files to put where (see
`data/README.md`). BIKED and other folders of images are only found here;
`dcgan_tf.folders` decodes them.
"""

import gzip
import io
import os
import pickle
import socket
import struct
import tarfile
import threading
import warnings
from pathlib import Path

import numpy as np

from dcgan_tf.errors import DataError, DataWarning
from dcgan_tf.folders import IMAGE_EXTENSIONS, walk_images

CLASSIC = ("fashion_mnist", "mnist", "cifar10")
FOLDERS = ("biked", "folder")
SPLITS = ("train", "test")

# Folder names each data set may sit in, as Keras, TFDS, Debian and users spell them.
DIR_NAMES = {
    "fashion_mnist": ("fashion-mnist", "fashion_mnist"),
    "mnist": ("mnist",),
    "cifar10": ("cifar10", "cifar-10", "cifar_10"),
}
TITLES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}
REPO_ROOT = Path(__file__).resolve().parent.parent
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
CIFAR_BATCHES = {
    "train": [f"data_batch_{i}" for i in range(1, 6)],
    "test": ["test_batch"],
}
BIKED_ADVICE = (
    "download BIKED (MIT DeCoDE lab, Regenwetter et al. 2021: "
    "decode.mit.edu/projects/biked) and put its images in data/biked/, or pass "
    "--data-dir; see data/README.md."
)


# --- Finding the data sets ---------------------------------------------------


def _project_data_dirs() -> list[Path]:
    return [Path.cwd() / "data", REPO_ROOT / "data"]


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
    for root in _project_data_dirs():
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
    for folder in dirs:
        if folder.is_dir() and folder not in unique:
            unique.append(folder)
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
    for folder in _search_dirs(dataset, data_dir):
        if dataset in ("fashion_mnist", "mnist"):
            for name in (f"{stem}-images-idx3-ubyte", f"{stem}-images.idx3-ubyte"):
                for path in (folder / f"{name}.gz", folder / name):
                    if path.is_file():
                        return "IDX file", path
            if dataset == "mnist" and (folder / "mnist.npz").is_file():
                return "Keras mnist.npz", folder / "mnist.npz"
        else:
            for batches in (folder / "cifar-10-batches-py", folder):
                if all((batches / name).is_file() for name in CIFAR_BATCHES[split]):
                    return "CIFAR-10 python batches", batches
            if (folder / "cifar-10-python.tar.gz").is_file():
                return "CIFAR-10 python archive", folder / "cifar-10-python.tar.gz"
            if next(walk_images(folder / split), None):
                return "folder", folder / split
    tfds_root = _tfds_dir()
    if (tfds_root / dataset).is_dir():
        return "TFDS prepared copy", tfds_root / dataset
    return None


def image_folder(dataset, data_dir) -> Path:
    """Finds the folder of images of `biked` or `folder`.

    Args:
        dataset: `"biked"` or `"folder"`.
        data_dir: the folder itself; `biked` looks in the project's
            `data/biked/` without one.

    Returns:
        The folder (not yet checked for images).

    Raises:
        DataError: when there is no such folder, saying where to get it.
    """
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            advice = BIKED_ADVICE if dataset == "biked" else "pass a folder of images."
            raise DataError(f"Image folder {folder} does not exist; {advice}")
        return folder
    if dataset == "folder":
        raise DataError(
            "The 'folder' data set needs --data-dir: a folder of images "
            f"({', '.join(IMAGE_EXTENSIONS)}), searched recursively."
        )
    for root in _project_data_dirs():
        if (root / "biked").is_dir():
            return root / "biked"
    raise DataError(f"No BIKED folder found: {BIKED_ADVICE}")


# --- Reading the classic data sets -------------------------------------------


def read_source(source, split):
    """Reads one copy that `locate` found, other than a folder of images.

    Args:
        source: `(kind, path)` from `locate`.
        split: `"train"` or `"test"`.

    Returns:
        uint8 images `(n, height, width)` or `(n, height, width, channels)`,
        or None when it is a TFDS copy that does not load (with a warning).

    Raises:
        DataError: for a file that is unreadable, truncated or of another kind.
    """
    kind, path = source
    if kind == "IDX file":
        return _read_idx(path)
    if kind == "Keras mnist.npz":
        with np.load(path) as arrays:
            return arrays["x_train" if split == "train" else "x_test"]
    if kind == "CIFAR-10 python batches":
        return np.concatenate(
            [
                _read_cifar_batch((path / name).read_bytes(), path / name)
                for name in CIFAR_BATCHES[split]
            ]
        )
    if kind == "CIFAR-10 python archive":
        return _read_cifar_archive(path, split)
    return _read_tfds(path, split)


def _read_idx(path: Path) -> np.ndarray:
    """Parses an IDX file of images (LeCun's MNIST format), gzipped or not."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path} is unreadable ({error}); download it again.") from None
    # Header: two zero bytes, type 0x08 (unsigned byte), the number of
    # dimensions, then each dimension as a big-endian uint32.
    if len(data) < 16 or data[:3] != b"\x00\x00\x08" or data[3] != 3:
        raise DataError(f"{path} is not an IDX file of images; download it again.")
    dims = struct.unpack(">3I", data[4:16])
    count = dims[0] * dims[1] * dims[2]
    if len(data) - 16 < count:
        raise DataError(f"{path} is truncated; download it again.")
    return np.frombuffer(data, np.uint8, count=count, offset=16).reshape(dims)


class _CIFARUnpickler(pickle.Unpickler):
    """Refuses anything but numpy arrays, since a pickle can run code."""

    def find_class(self, module, name):
        allowed = {"_reconstruct", "ndarray", "dtype", "scalar", "_frombuffer"}
        if (module.split(".")[0] == "numpy" and name in allowed) or (
            module == "_codecs" and name == "encode"
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def _read_cifar_batch(data: bytes, name="") -> np.ndarray:
    """Decodes one pickled batch of the CIFAR-10 python version to NHWC."""
    try:
        batch = _CIFARUnpickler(io.BytesIO(data), encoding="bytes").load()
        rows = np.asarray(batch[b"data"], np.uint8)
        # Each row holds the 1024 red, then green, then blue values of one image.
        return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
        raise DataError(
            f"{name} is not a CIFAR-10 python batch ({error}); download it again."
        ) from None


def _read_cifar_archive(path: Path, split) -> np.ndarray:
    """Reads the batches straight from cifar-10-python.tar.gz, in one pass."""
    wanted = CIFAR_BATCHES[split]
    found = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in wanted:
                    blob = archive.extractfile(member).read()
                    found[name] = _read_cifar_batch(blob, f"{path}:{member.name}")
    except (OSError, EOFError, tarfile.TarError) as error:
        raise DataError(f"{path} is unreadable ({error}); download it again.") from None
    if len(found) < len(wanted):
        raise DataError(f"{path} lacks {', '.join(sorted(set(wanted) - set(found)))}.")
    return np.concatenate([found[name] for name in wanted])


def _read_tfds(path: Path, split):
    """Loads a prepared TFDS copy (never downloading); None if it does not load."""
    try:
        import tensorflow_datasets as tfds

        arrays = tfds.as_numpy(
            tfds.load(
                path.name,
                split=split,
                data_dir=str(path.parent),
                download=False,
                batch_size=-1,
            )
        )
        return np.asarray(arrays["image"], np.uint8)
    except Exception as error:  # a stale or partial TFDS copy is "not found"
        warnings.warn(f"Ignored the TFDS copy in {path}: {error}", DataWarning, 2)
        return None


# --- Downloading -------------------------------------------------------------

LOCAL_FILES = {
    "fashion_mnist": "train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz "
    "(github.com/zalandoresearch/fashion-mnist, or Debian's dataset-fashion-mnist)",
    "mnist": "train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz, or Keras's "
    "mnist.npz",
    "cifar10": "cifar-10-python.tar.gz (www.cs.toronto.edu/~kriz/cifar.html), its "
    "cifar-10-batches-py/ folder, or train/<class>/*.jpg and test/<class>/*.jpg",
}


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


def _keras_load(dataset, split) -> np.ndarray:
    """Downloads (or reads Keras' cache of) a classic data set."""
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # a stalled transfer fails, not hangs
    try:
        (x_train, _), (x_test, _) = getattr(keras.datasets, dataset).load_data()
    finally:
        socket.setdefaulttimeout(previous)
    return x_train if split == "train" else x_test


def download(dataset, split) -> np.ndarray:
    """Downloads a classic data set with `keras.datasets`, or says what to do.

    Args:
        dataset: one of `CLASSIC`.
        split: `"train"` or `"test"`.

    Returns:
        uint8 images as Keras loads them.

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
