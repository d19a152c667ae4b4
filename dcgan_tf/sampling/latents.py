"""The latent space of a generator in numpy: drawing z, paths through it, z files.

Radford et al. (2015) §6.1 walk the latent space to show that a DCGAN has
learnt smooth transitions rather than memorised images. For Gaussian latents
the walk should be spherical (slerp; White 2016, "Sampling Generative
Networks"): a straight line between two samples passes through latents of
unusually small norm, which the generator rarely saw in training.

Latents travel with images: `save_latents` / `load_latents` write and read
them as `.npz` in grid order, so that a sample picked by its index in a grid
can be drawn again or walked to. Nothing here needs Keras; `dcgan_tf.sampling.drawing`
runs the generator on these latents.
"""

import math
import zipfile
from pathlib import Path

import numpy as np

from dcgan_tf.config import LATENT_DISTRIBUTIONS
from dcgan_tf.system.files import write_atomically

METHODS = ("slerp", "linear")
_METHOD_ALIASES = {
    "slerp": "slerp",
    "spherical": "slerp",
    "linear": "linear",
    "lerp": "linear",
}
# Below this sine of the angle the two latents are (anti)parallel: slerp's
# 1 / sin(angle) blows up, and the straight line is the same path anyway.
PARALLEL_SINE = 1e-6


def sample_latents(
    count: int, latent_dim: int, seed: int | None = None, distribution="normal"
) -> np.ndarray:
    """Draws `(count, latent_dim)` float32 latents, reproducibly by seed.

    Rows are drawn one after another, so the first k latents of a seed are
    the same whatever `count` is, and the run's seed and `grid_size` give
    the latents of its training sample grids (`latents.npy`).

    Raises:
        ValueError: for a count below 1 or an unknown distribution.
    """
    if count < 1:
        raise ValueError(f"Number of samples must be at least 1, got {count}.")
    rng = np.random.default_rng(seed)
    if distribution == "normal":
        return rng.standard_normal((count, latent_dim)).astype(np.float32)
    if distribution == "uniform":
        return rng.uniform(-1.0, 1.0, (count, latent_dim)).astype(np.float32)
    raise ValueError(
        f"Unknown latent distribution {distribution!r}; use "
        f"{' or '.join(LATENT_DISTRIBUTIONS)}."
    )


def one_hot(labels, num_classes: int) -> np.ndarray:
    """float32 one-hot vectors `(..., num_classes)` of int labels, the class
    input of a conditional generator."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.eye(num_classes, dtype=np.float32)[labels]


def class_grid(latents, num_classes: int, columns: int | None = None):
    """The inputs of the classic conditional grid: one row per class, the
    same latent down each column.

    Args:
        latents: `(n, latent_dim)`; the first `columns` are used.
        num_classes: rows of the grid.
        columns: latents per row (default: the side of a square grid of `n`,
            e.g. 8 of the 64 latents of a run's sample grid).

    Returns:
        `(latents, labels)`: `(num_classes * columns, latent_dim)` latents
        and int64 labels, row-major (row i is class i).
    """
    latents = np.asarray(latents, dtype=np.float32)
    columns = min(columns or max(1, round(math.sqrt(len(latents)))), len(latents))
    labels = np.repeat(np.arange(num_classes), columns)
    return np.tile(latents[:columns], (num_classes, 1)), labels


def lerp(start, end, t) -> np.ndarray:
    """Straight-line interpolation `(1 - t) * start + t * end`."""
    return (1.0 - t) * start + t * end


def slerp(start, end, t) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985) between two latents.

    Moves at constant angular speed along the great circle from `start` to
    `end`; between latents of equal norm every point keeps that norm. Falls
    back to `lerp` where the two are (nearly) parallel or one is zero.

    Args:
        start, end: `(..., latent_dim)` latents (broadcast against each other).
        t: fractions in [0, 1], broadcast as `(..., 1)`.

    Returns:
        float64 latents; exactly `start` at t = 0 and `end` at t = 1.
    """
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    norms = np.linalg.norm(start, axis=-1, keepdims=True) * np.linalg.norm(
        end, axis=-1, keepdims=True
    )
    cosine = np.sum(start * end, axis=-1, keepdims=True) / np.where(
        norms > 0, norms, 1.0
    )
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))
    sine = np.sin(angle)
    spherical = sine > PARALLEL_SINE
    safe_sine = np.where(spherical, sine, 1.0)
    curve = (
        np.sin((1.0 - t) * angle) / safe_sine * start
        + np.sin(t * angle) / safe_sine * end
    )
    return np.where(spherical & (norms > 0), curve, lerp(start, end, t))


def _method(method: str):
    name = _METHOD_ALIASES.get(str(method).lower())
    if name is None:
        raise ValueError(
            f"Unknown interpolation method {method!r}; use {' or '.join(METHODS)}."
        )
    return slerp if name == "slerp" else lerp


def interpolate_latents(start, end, steps: int = 10, method="slerp") -> np.ndarray:
    """Latents at `steps` evenly spaced points from `start` to `end`.

    Args:
        start, end: `(latent_dim,)` latents, or `(pairs, latent_dim)`.
        steps: number of points, both ends included (at least 2).
        method: `"slerp"` (spherical, for Gaussian latents) or `"linear"`.

    Returns:
        float32 latents `(steps, latent_dim)` or `(pairs, steps, latent_dim)`,
        the first equal to `start` and the last to `end`.

    Raises:
        ValueError: for fewer than 2 steps, an unknown method, or latents of
            different shapes.
    """
    if steps < 2:
        raise ValueError(f"Steps must be at least 2 (both ends), got {steps}.")
    function = _method(method)
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    if start.shape != end.shape or start.ndim not in (1, 2):
        raise ValueError(
            "Start and end must be latents of one shape, (latent_dim,) or "
            f"(pairs, latent_dim); got {start.shape} and {end.shape}."
        )
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    path = function(start[..., None, :], end[..., None, :], t)
    return path.astype(np.float32)


def walk_latents(keyframes, steps: int = 10, method="slerp", loop=False):
    """Latents of a walk through several keyframes, one segment per pair.

    Args:
        keyframes: `(k, latent_dim)` latents, k >= 2, visited in order.
        steps: points per segment, both ends included.
        method: `"slerp"` or `"linear"`.
        loop: also walk from the last keyframe back to the first.

    Returns:
        `(segments, steps, latent_dim)` float32 latents, segments = k - 1
        (k with `loop`); segment i runs from keyframe i to keyframe i + 1.

    Raises:
        ValueError: for fewer than 2 keyframes (see also `interpolate_latents`).
    """
    keyframes = np.asarray(keyframes, dtype=np.float32)
    if keyframes.ndim != 2 or len(keyframes) < 2:
        raise ValueError(
            f"A walk needs at least 2 keyframe latents, got shape {keyframes.shape}."
        )
    ends = np.roll(keyframes, -1, axis=0)
    count = len(keyframes) if loop else len(keyframes) - 1
    return interpolate_latents(keyframes[:count], ends[:count], steps, method)


def join_segments(segments, loop: bool = False) -> np.ndarray:
    """Joins `(segments, steps, ...)` into one continuous sequence of frames.

    Each segment after the first starts where the last one ended, so its
    first frame is dropped; for a loop the final frame, which is the first
    again, is dropped too so that playing it on repeat never stutters.
    """
    segments = np.asarray(segments)
    frames = np.concatenate([segments[0], *(s[1:] for s in segments[1:])])
    return frames[:-1] if loop else frames


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


def pick(latents, indices) -> np.ndarray:
    """Selects latents by their index in the grid they were shown in.

    Args:
        latents: `(n, latent_dim)` latents, row i making grid image i
            (counted row-major from 0).
        indices: the indices to take, in order; repeats allowed.

    Returns:
        `(len(indices), latent_dim)` latents.

    Raises:
        ValueError: for an index outside 0..n-1.
    """
    latents = np.asarray(latents)
    bad = [i for i in indices if not 0 <= i < len(latents)]
    if bad:
        raise ValueError(
            f"Index {bad[0]} is out of range: there are {len(latents)} latents "
            f"(indices 0 to {len(latents) - 1})."
        )
    return latents[list(indices)]
