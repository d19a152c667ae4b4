"""Every data set of the project as uint8 images, and the batches that feed `fit`.

`load_images` reads a local copy first (the given folder, the project's
`data/`, the Keras and TFDS caches, Debian's `/usr/share/datasets`), downloads
only when there is none, and otherwise fails in one line that says which files
to put where (see `data/README.md`). `make_dataset` turns the images into an
endless, resumable stream of batches in [-1, 1], the range of the generator's
tanh output (Radford et al. §3).
"""

import gzip
import hashlib
import io
import json
import os
import pickle
import socket
import struct
import tarfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

from dcgan_tf.config import DATASETS, FIT_MODES, PRESETS

CLASSIC = ("fashion_mnist", "mnist", "cifar10")
FOLDERS = ("biked", "folder")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
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
CACHE_VERSION = 1
# Decoded folders larger than this share of free memory are memory-mapped.
MMAP_FRACTION = 0.25


class DataError(ValueError):
    """A data set is missing or unreadable; the message says what to do."""


class DataWarning(UserWarning):
    """Some files of a data set were skipped."""


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
        folder = _image_folder(dataset, data_dir)
        advice = BIKED_ADVICE if dataset == "biked" else "pass a folder of images."
        return _load_folder(folder, size, fit, limit, advice)
    source = _locate(dataset, data_dir, split)
    if source is not None and source[0] == "folder":
        return _load_folder(source[1], size, fit, limit, "add JPEGs or remove it.")
    images = _read_source(source, split) if source else None
    if images is None:
        images = _download(dataset, split)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    images = images[:limit]
    if size != images.shape[1]:
        images = _resize(images, size)
    return np.array(images, dtype=np.uint8)


def describe(dataset, data_dir=None) -> str:
    """Says in one line where `load_images` finds the training images."""
    if dataset in FOLDERS:
        try:
            folder = _image_folder(dataset, data_dir)
        except DataError as error:
            return f"{dataset}: {error}"
        return f"{dataset}: {len(_list_images(folder))} image files under {folder}"
    try:
        source = _locate(dataset, data_dir, "train")
    except DataError as error:
        return f"{dataset}: {error}"
    if source is None:
        return (
            f"{dataset}: no local copy; will download with keras.datasets.{dataset}"
            " (needs the internet)"
        )
    return f"{dataset}: {source[0]} at {source[1]}"


# --- Finding the classic data sets -------------------------------------------


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


def _locate(dataset, data_dir, split):
    """Returns `(kind, path)` of the first local copy of `split`, or None."""
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
            if next(_walk_images(folder / split), None):
                return "folder", folder / split
    tfds_root = _tfds_dir()
    if (tfds_root / dataset).is_dir():
        return "TFDS prepared copy", tfds_root / dataset
    return None


def _read_source(source, split):
    """Reads one located copy; None when it is a TFDS copy that does not load."""
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


def _download(dataset, split) -> np.ndarray:
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


# --- Folders of images -------------------------------------------------------

BIKED_ADVICE = (
    "download BIKED (MIT DeCoDE lab, Regenwetter et al. 2021: "
    "decode.mit.edu/projects/biked) and put its images in data/biked/, or pass "
    "--data-dir; see data/README.md."
)
# Lanczos keeps fine lines (spokes, frames) sharp when shrinking renders.
RESAMPLE = Image.Resampling.LANCZOS


def _image_folder(dataset, data_dir) -> Path:
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


def _walk_images(folder: Path):
    """Yields the image files under `folder`, recursively; hidden ones (such as
    macOS' `._name.jpg` companions) are left out."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in names:
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                yield Path(root, name)


def _list_images(folder: Path) -> list[Path]:
    return sorted(_walk_images(folder))


def _to_rgb(image: Image.Image) -> Image.Image:
    """Converts any Pillow mode to RGB; transparency becomes white."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit grey: Pillow's own convert would clip at 255 (all white).
        values = np.asarray(image, dtype=np.float32) / 257.0
        image = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
    if image.mode in ("P", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    return image.convert("RGB")


def _fit_square(image: Image.Image, size: int, fit: str) -> Image.Image:
    """Resizes keeping the aspect, then crops the centre or pads the sides."""
    width, height = image.size
    if fit == "crop":
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
        return image.resize((size, size), RESAMPLE, box=box, reducing_gap=3.0)
    scale = size / max(width, height)
    inner = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(inner, RESAMPLE, reducing_gap=3.0)
    # Pad with the border's own colour (white for BIKED's renders), so the
    # padding does not draw a frame the generator would learn.
    pixels = np.asarray(resized)
    edges = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    colour = tuple(int(value) for value in np.median(edges, axis=0))
    canvas = Image.new("RGB", (size, size), colour)
    canvas.paste(resized, ((size - inner[0]) // 2, (size - inner[1]) // 2))
    return canvas


def _decode(path: Path, size: int, fit: str):
    """One file as a uint8 (size, size, 3) array, or None if it is unreadable."""
    try:
        with Image.open(path) as image:
            # JPEGs decode at 1/2, 1/4 or 1/8 scale when that still covers size.
            image.draft(image.mode, (size, size))
            image = _to_rgb(ImageOps.exif_transpose(image))
        return np.asarray(_fit_square(image, size, fit))
    except Exception:  # truncated, not an image, decompression bomb, ...
        return None


def _cache_dir():
    value = os.environ.get("DCGAN_TF_CACHE")
    if value is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        return Path(base).expanduser() / "dcgan_tf"
    if value.strip().lower() in ("", "0", "off", "false", "no", "none"):
        return None
    return Path(value).expanduser()


def _cache_stem(folder: Path, files, size, fit) -> str:
    """Names the decoded array after everything that changes it."""
    digest = hashlib.sha256(f"v{CACHE_VERSION} {size} {fit}\n".encode())
    for path in files:
        stat = path.stat()
        relative = path.relative_to(folder).as_posix()
        digest.update(f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    slug = "".join(c if c.isalnum() else "_" for c in folder.resolve().name)[:40]
    return f"{slug}-{size}-{fit}-{digest.hexdigest()[:20]}"


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def _warn_skipped(folder, skipped, total):
    if skipped:
        names = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        warnings.warn(
            f"Skipped {len(skipped)} unreadable image file(s) of {total} in "
            f"{folder}: {names}",
            DataWarning,
            stacklevel=4,
        )


def _load_folder(folder: Path, size: int, fit: str, limit, advice) -> np.ndarray:
    """Decodes a folder of images in parallel, through a cache on disk."""
    files = _list_images(folder)[:limit]
    if not files:
        raise DataError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) under {folder}; {advice}"
        )
    shape = (len(files), size, size, 3)
    mmap = np.prod(shape, dtype=np.int64) > MMAP_FRACTION * _available_memory()
    cache = _cache_dir()
    stem = _cache_stem(folder, files, size, fit) if cache else None
    if cache:
        cached = _read_cache(cache / stem, folder, shape, mmap)
        if cached is not None:
            return cached
    temporary = None
    try:
        if cache and mmap:
            cache.mkdir(parents=True, exist_ok=True)
            temporary = cache / f"{stem}.{os.getpid()}.tmp.npy"
            out = np.lib.format.open_memmap(temporary, "w+", np.uint8, shape)
        else:
            out = np.empty(shape, np.uint8)
    except OSError:
        temporary, out = None, np.empty(shape, np.uint8)

    count, skipped = 0, []
    workers = min(16, 2 * (os.cpu_count() or 1))  # Pillow releases the GIL
    with ThreadPoolExecutor(workers) as pool:
        decoded = pool.map(_decode, files, [size] * len(files), [fit] * len(files))
        for path, image in zip(files, decoded, strict=True):
            if image is None:
                skipped.append(path.relative_to(folder).as_posix())
            else:
                out[count] = image
                count += 1
    if count == 0:
        if temporary is not None:
            del out
            temporary.unlink(missing_ok=True)
        raise DataError(
            f"None of the {len(files)} image files under {folder} is readable."
        )
    _warn_skipped(folder, skipped, len(files))
    if cache:
        return _write_cache(cache / stem, out, temporary, folder, count, skipped)
    return out[:count]


def _read_cache(stem: Path, folder, shape, mmap):
    try:
        meta = json.loads(stem.with_suffix(".json").read_text())
        array = np.load(stem.with_suffix(".npy"), mmap_mode="r" if mmap else None)
        if array.shape != shape or array.dtype != np.uint8:
            return None
        count, skipped = meta["count"], meta["skipped"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _warn_skipped(folder, skipped, shape[0])
    return array[:count]


def _write_cache(stem: Path, out, temporary, folder, count, skipped):
    """Keeps the decoded array (rows past `count` unused) for the next run."""
    npy = stem.with_suffix(".npy")
    meta = {"folder": str(folder), "count": count, "skipped": skipped}
    try:
        if temporary is not None:
            out.flush()
            os.replace(temporary, npy)  # the open memory map follows the file
        else:
            stem.parent.mkdir(parents=True, exist_ok=True)
            partial = stem.parent / f"{stem.name}.{os.getpid()}.tmp.npy"
            np.save(partial, out)
            os.replace(partial, npy)
        # Written last: a .npy without its .json is never read.
        stem.with_suffix(".json").write_text(json.dumps(meta))
    except OSError as error:
        warnings.warn(f"Could not cache images in {npy}: {error}", DataWarning, 2)
    return out[:count]


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Resizes square uint8 images (classic sets asked at another size)."""
    out = np.empty((len(images), size, size, images.shape[-1]), np.uint8)
    for start in range(0, len(images), 4096):
        chunk = tf.image.resize(
            images[start : start + 4096], (size, size), antialias=True
        ).numpy()
        out[start : start + 4096] = np.clip(np.rint(chunk), 0, 255)
    return out


# --- Batches -----------------------------------------------------------------


def make_dataset(images, batch_size, seed, start_batch=0) -> tf.data.Dataset:
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

    Returns:
        A `tf.data.Dataset` of float32 `(batch_size, height, width, channels)`
        batches, `x / 127.5 - 1`, prefetched.

    Raises:
        DataError: when there are fewer images than one batch.
        ValueError: for a bad array, batch size or start batch.
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
        return tf.cast(batch, tf.float32) / 127.5 - 1.0

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
