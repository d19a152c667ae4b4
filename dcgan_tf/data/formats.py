"""The files Fashion-MNIST, MNIST and CIFAR-10 are distributed as, read with labels.

IDX files, Keras' `mnist.npz`, CIFAR-10's python pickles or their archive,
`cifar10-jpg.tar.gz` and a prepared TFDS copy each become `(images, labels)`;
`dcgan_tf.data.classic` finds them. Bad files raise a `DataError` saying to
download them again.
"""

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from dcgan_tf.data.errors import DataError, warn

# In label order: Xiao et al. 2017 (Fashion-MNIST), the digits, and CIFAR-10's
# alphabetical classes, which is also the order of its python batches' labels.
CLASS_NAMES = {
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat")
    + ("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "mnist": tuple("0123456789"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer")
    + ("dog", "frog", "horse", "ship", "truck"),
}
CIFAR_BATCHES = {
    "train": [f"data_batch_{i}" for i in range(1, 6)],
    "test": ["test_batch"],
}
CIFAR_JPEG_ARCHIVE = "cifar10-jpg.tar.gz"


def read_source(source, split):
    """Reads one copy that `classic.locate` found, other than a folder of images.

    Args:
        source: `(kind, path)` from `locate`.
        split: `"train"` or `"test"`.

    Returns:
        `(images, labels)`: uint8 `(n, height, width)` or `(n, height, width,
        channels)` and integer labels, None for IDX images without their
        labels file; `(None, None)` for a TFDS copy that does not load (with
        a warning).

    Raises:
        DataError: for a file that is unreadable, truncated or of another kind.
    """
    kind, path = source
    if kind == "IDX file":
        labels = path.parent / labels_name(path)
        for candidate in (labels, labels.with_suffix("")):
            if candidate.is_file():
                return _read_idx(path, 3), _read_idx(candidate, 1)
        return _read_idx(path, 3), None
    if kind == "Keras mnist.npz":
        with np.load(path) as arrays:
            return arrays[f"x_{split}"], arrays[f"y_{split}"]
    if kind == "CIFAR-10 python batches":
        parts = [
            _read_cifar_batch((path / name).read_bytes(), path / name)
            for name in CIFAR_BATCHES[split]
        ]
        return tuple(np.concatenate(arrays) for arrays in zip(*parts))
    if kind == "CIFAR-10 python archive":
        return _read_cifar_archive(path, split)
    if kind == "CIFAR-10 JPEG archive":
        return _read_cifar_jpegs(path, split)
    return _read_tfds(path, split)


def labels_name(images: Path) -> str:
    """The labels file beside IDX images: `train-labels-idx1-ubyte.gz` for
    `train-images-idx3-ubyte[.gz]`, `t10k-labels.idx1-ubyte.gz` for
    `t10k-images.idx3-ubyte`; also read without `.gz`."""
    name = images.name.removesuffix(".gz").replace("images", "labels")
    return name.replace("idx3", "idx1") + ".gz"


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parses an IDX file (LeCun's MNIST format) of `ndim`-d bytes, gzipped or not."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path} is unreadable ({error}); download it again.") from None
    # Header: two zero bytes, type 0x08 (unsigned byte), the number of
    # dimensions, then each dimension as a big-endian uint32.
    start = 4 + 4 * ndim
    if len(data) < start or data[:3] != b"\x00\x00\x08" or data[3] != ndim:
        what = "images" if ndim == 3 else "labels"
        raise DataError(f"{path} is not an IDX file of {what}; download it again.")
    dims = struct.unpack(f">{ndim}I", data[4:start])
    count = int(np.prod(dims))
    if len(data) - start < count:
        raise DataError(f"{path} is truncated; download it again.")
    return np.frombuffer(data, np.uint8, count=count, offset=start).reshape(dims)


class _CIFARUnpickler(pickle.Unpickler):
    """Refuses anything but numpy arrays, since a pickle can run code."""

    def find_class(self, module, name):
        allowed = {"_reconstruct", "ndarray", "dtype", "scalar", "_frombuffer"}
        if (module.split(".")[0] == "numpy" and name in allowed) or (
            module == "_codecs" and name == "encode"
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def _read_cifar_batch(data: bytes, name=""):
    """Decodes one pickled batch of the CIFAR-10 python version: NHWC, labels."""
    try:
        batch = _CIFARUnpickler(io.BytesIO(data), encoding="bytes").load()
        rows = np.asarray(batch[b"data"], np.uint8)
        labels = np.asarray(batch[b"labels"], np.int64)
        # Each row holds the 1024 red, then green, then blue values of one image.
        return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
        raise DataError(
            f"{name} is not a CIFAR-10 python batch ({error}); download it again."
        ) from None


def _read_cifar_archive(path: Path, split):
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
    return tuple(np.concatenate(arrays) for arrays in zip(*map(found.get, wanted)))


def _read_cifar_jpegs(path: Path, split):
    """Decodes `SPLIT/<class>/*.jpg` from cifar10-jpg.tar.gz, sorted by name."""
    found = []
    try:
        with tarfile.open(path) as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if not (member.isfile() and len(parts) >= 3 and parts[-3] == split):
                    continue
                if parts[-1].startswith(".") or not parts[-1].endswith(".jpg"):
                    continue
                label = cifar_labels(parts[-2:-1], path)[0]
                found.append((parts, label, _decode_cifar_jpeg(archive, member, path)))
    except (OSError, EOFError, tarfile.TarError) as error:
        raise DataError(f"{path} is unreadable ({error}); download it again.") from None
    if not found:
        raise DataError(f"{path} holds no {split}/<class>/*.jpg; download it again.")
    found.sort(key=lambda item: item[0])  # the order of the extracted folders
    return np.stack([item[2] for item in found]), np.array([item[1] for item in found])


def _decode_cifar_jpeg(archive, member, path) -> np.ndarray:
    """One 32x32 JPEG of the archive as RGB, refusing anything else unread."""
    try:
        with Image.open(io.BytesIO(archive.extractfile(member).read())) as image:
            if image.size != (32, 32):
                raise DataError(f"{path}:{member.name} is not 32x32.")
            return np.asarray(image.convert("RGB"))
    except (OSError, Image.DecompressionBombError):
        raise DataError(f"{path}:{member.name} is not a JPEG.") from None


def cifar_labels(names, where) -> np.ndarray:
    """The CIFAR-10 label of each class name; a `DataError` naming `where` for
    other names."""
    classes = CLASS_NAMES["cifar10"]
    unknown = [name for name in names if name not in classes]
    if unknown:
        raise DataError(
            f"{where}: {', '.join(unknown)} is not a CIFAR-10 class "
            f"({', '.join(classes)})."
        )
    return np.array([classes.index(name) for name in names], np.int64)


def _read_tfds(path: Path, split):
    """Loads a prepared TFDS copy (never downloading); (None, None) if it fails."""
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
        return np.asarray(arrays["image"], np.uint8), np.asarray(arrays["label"])
    except Exception as error:  # a stale or partial TFDS copy is "not found"
        warn(f"Ignored the TFDS copy in {path}: {error}")
        return None, None
