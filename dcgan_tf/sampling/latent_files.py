"""Latents files: writing the `.npz` beside a grid and reading it (or a run's
`latents.npy`) back, checked.

Latents travel with images: `save_latents` / `load_latents` write and read
them as `.npz` in grid order, so that a sample picked by its index in a grid
can be drawn again or walked to. A file's header is checked against its size
before numpy reads it, so a damaged file is one line rather than a request
for any amount of memory. The maths of the latent space is in
`dcgan_tf.sampling.latents`, which re-exports these names.
"""

import math
import zipfile
from pathlib import Path

import numpy as np

from dcgan_tf.system.files import write_atomically


def save_latents(
    path: str | Path,
    latents,
    seed: int | None = None,
    distribution: str = "normal",
    columns: int | None = None,
    labels=None,
    classes=None,
) -> Path:
    """Writes latents as `.npz`: `latents` `(n, latent_dim)` plus provenance.

    Args:
        path: the `.npz` file to write.
        latents, seed, distribution, columns, labels, classes: see
            `latents_record`.

    Returns:
        The path written, exactly `path` (no `.npz` is added).

    Raises:
        ValueError: see `latents_record`; nothing is written then.
        dcgan_tf.system.files.WriteError: when it cannot be written (a read-only
            folder, a full disk, a folder of that name); an earlier file at
            `path` is then left whole.
    """
    record = latents_record(latents, seed, distribution, columns, labels, classes)
    return write_latents(path, record)


def latents_record(
    latents,
    seed: int | None = None,
    distribution: str = "normal",
    columns: int | None = None,
    labels=None,
    classes=None,
) -> dict:
    """The arrays of a latents `.npz`, made (and checked) before anything is
    written, so that a command writes its grid only when its latents can follow.

    Args:
        latents: `(..., latent_dim)` latents, flattened row-major to `(n,
            latent_dim)` so that row i is the image at index i of the grid.
        seed: the seed they were drawn with (stored as -1 when unknown).
        distribution: the distribution they were drawn from.
        columns: columns of the grid they were shown in, if any.
        labels: for a conditional generator, the class index of each image,
            `(n,)` in the same order (stored as `labels`).
        classes: for a conditional generator, the class input of each image,
            `(..., num_classes)` (mixes along a path between classes), stored
            as `classes` `(n, num_classes)`.

    Raises:
        ValueError: for a seed the file cannot store (below 0 or 2**63 and up).
    """
    if seed is not None and not 0 <= seed < 2**63:
        raise ValueError(f"Cannot store seed {seed}: a seed is 0 to 2**63 - 1.")
    latents = np.asarray(latents, dtype=np.float32)
    arrays = {
        "latents": latents.reshape(-1, latents.shape[-1]),
        "seed": np.int64(-1 if seed is None else seed),
        "latent_distribution": np.str_(distribution),
        "columns": np.int64(columns or 0),
    }
    if labels is not None:
        arrays["labels"] = np.asarray(labels, np.int64).reshape(-1)
    if classes is not None:
        classes = np.asarray(classes, np.float32)
        arrays["classes"] = classes.reshape(-1, classes.shape[-1])
    return arrays


def write_latents(path: str | Path, record: dict) -> Path:
    """Writes the arrays of `latents_record` as `.npz` at exactly `path`,
    atomically (see `save_latents`)."""

    def write(temporary):
        # Through a file object: np.savez would append .npz to a bare name.
        with open(temporary, "wb") as file:
            np.savez(file, **record)

    return write_atomically(path, write)


def save_grid_and_latents(grid: Path, write_grid, record: dict) -> Path:
    """Writes a grid (through `write_grid()`) and then its latents beside it
    (`grid` with `.npz`), so that no grid is left without its latents: when
    the latents cannot be written, the grid just written is removed.

    Returns:
        The `.npz` written.

    Raises:
        dcgan_tf.system.files.WriteError: see `write_latents`.
    """
    write_grid()
    try:
        return write_latents(Path(grid).with_suffix(".npz"), record)
    except BaseException:
        Path(grid).unlink(missing_ok=True)
        raise


class _LatentsFileError(ValueError):
    """A latents file refused by its header or first bytes (one line, which
    names the file, passed on as it is)."""


# How a latents file begins: `.npz` is a zip archive, `.npy` numpy's format.
ZIP_MAGIC = b"PK\x03\x04"
NPY_MAGIC = b"\x93NUMPY"
NOT_LATENTS = (
    "is not a latents file: pass the .npz that generate, interpolate or "
    "neighbours wrote beside their grid, or a run's latents.npy"
)


def _array_header(file, size: int, name: str, path: Path):
    """The `(shape, dtype)` an `.npy` stream at `file` claims, checked against
    the `size` bytes it has, before numpy allocates for it.

    Raises:
        ValueError: in one line, for a damaged header, an array of Python
            objects or other non-numbers, or a shape the bytes cannot hold
            (a damaged file would otherwise ask for any amount of memory).
    """
    try:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(file)
        else:  # 3.0 differs from 2.0 by UTF-8 field names only
            shape, _, dtype = np.lib.format.read_array_header_2_0(file)
        offset = file.tell()
    except (OSError, ValueError, EOFError, SyntaxError, TypeError) as error:
        raise _LatentsFileError(
            f"{path} {NOT_LATENTS} (its {name} has a damaged header: {error})."
        ) from None
    if dtype.hasobject or dtype.kind not in "fiu":
        raise _LatentsFileError(
            f"{path} {NOT_LATENTS} (its {name} holds {dtype}, not numbers)."
        )
    needed = math.prod(shape) * dtype.itemsize
    if needed > size - offset:
        raise _LatentsFileError(
            f"{path} is damaged: its {name} claims shape {shape} "
            f"({needed:,} bytes) but holds {max(size - offset, 0):,} bytes; "
            "it is truncated or damaged; write it again."
        )
    return shape, dtype


def _check_member(path: Path, name: str) -> bool:
    """Checks the header of array `name` of the `.npz` at `path`; False when
    the archive has no such array."""
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo(f"{name}.npy")
        except KeyError:
            return False
        with archive.open(info) as file:
            _array_header(file, info.file_size, f"'{name}' array", path)
    return True


def _file_kind(path: Path) -> str:
    """`"npz"` or `"npy"`, from the file's first bytes (not its name).

    Raises:
        ValueError: for a file that is neither, such as text.
    """
    with open(path, "rb") as file:
        start = file.read(len(NPY_MAGIC))
    if start.startswith(ZIP_MAGIC):
        return "npz"
    if start == NPY_MAGIC:
        return "npy"
    raise _LatentsFileError(f"{path} {NOT_LATENTS}.")


def load_latents(path: str | Path, latent_dim: int | None = None) -> np.ndarray:
    """Reads the `(n, latent_dim)` latents of `save_latents` or of a run.

    The file's header is checked against its size before the array is read,
    so a damaged file is one line rather than a request for any amount of
    memory.

    Args:
        path: an `.npz` file with a `latents` array, or a `.npy` array such
            as the `latents.npy` of a run's training sample grids.
        latent_dim: when given, the size the latents must have.

    Returns:
        float32 latents `(n, latent_dim)`.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: for a file that is not such an array, or latents of
            another size than `latent_dim`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such latents file: {path}")
    try:
        kind = _file_kind(path)
        if kind == "npy":
            with open(path, "rb") as file:
                _array_header(file, path.stat().st_size, "array", path)
        elif not _check_member(path, "latents"):
            raise _LatentsFileError(f"{path} has no 'latents' array.")
        with open(path, "rb") as file:
            data = np.load(file, allow_pickle=False)
            if kind == "npy":
                latents = data.astype(np.float32)
            else:
                with data:
                    latents = np.array(data["latents"], dtype=np.float32)
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"Cannot read latents from {path}: {error}") from None
    except _LatentsFileError:
        raise  # already one line naming the file
    except ValueError as error:
        raise ValueError(f"Cannot read latents from {path}: {error}") from None
    if latents.ndim != 2 or len(latents) == 0:
        raise ValueError(
            f"{path} should hold latents of shape (n, latent_dim), got {latents.shape}."
        )
    if not np.isfinite(latents).all():
        raise ValueError(f"{path} holds latents that are NaN or infinite.")
    if latent_dim is not None and latents.shape[1] != latent_dim:
        raise ValueError(
            f"{path} holds {latents.shape[1]}-dimensional latents but the "
            f"generator takes {latent_dim}."
        )
    return latents


def load_labels(path: str | Path) -> np.ndarray | None:
    """The class of each latent in a `save_latents` file, or None when it
    holds none (an unconditional generator's, or a run's `latents.npy`)."""
    path = Path(path)
    if path.suffix != ".npz":
        return None
    try:
        if not _check_member(path, "labels"):
            return None
        with np.load(path, allow_pickle=False) as data:
            return np.array(data["labels"])
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"Cannot read labels from {path}: {error}") from None
    except _LatentsFileError:
        raise
    except ValueError as error:
        raise ValueError(f"Cannot read labels from {path}: {error}") from None
