"""The latent space of a generator in numpy: drawing z and paths through it.

Radford et al. (2015) §6.1 walk the latent space to show that a DCGAN has
learnt smooth transitions rather than memorised images. For Gaussian latents
the walk should be spherical (slerp; White 2016, "Sampling Generative
Networks"): a straight line between two samples passes through latents of
unusually small norm, which the generator rarely saw in training.

Latents travel with images: `save_latents` / `load_latents` write and read
them as `.npz` in grid order (in `dcgan_tf.sampling.latent_files`, whose names
are importable from here too), so that a sample picked by its index in a grid
can be drawn again or walked to. Nothing here needs Keras;
`dcgan_tf.sampling.drawing` runs the generator on these latents.
"""

import math

import numpy as np

from dcgan_tf.config import LATENT_DISTRIBUTIONS
from dcgan_tf.sampling.latent_files import (  # noqa: F401 (their old home)
    NOT_LATENTS,
    NPY_MAGIC,
    ZIP_MAGIC,
    latents_record,
    load_labels,
    load_latents,
    save_grid_and_latents,
    save_latents,
    write_latents,
)

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
