"""Checks of what a page sends: every field read with its type and bounds,
so that a bad request is a `RequestError` with one clear sentence and
changes nothing.

Nothing the page sends is trusted: JSON allows NaN and huge numbers, lists
of any length and nesting, and a page open in another tab may come from an
older session of the server.
"""

import math

import numpy as np

# Latents per request: a grid of 16 x 16 samples. More is a mistake or abuse.
MAX_LATENTS = 256
# Frames of one walk or GIF (e.g. 8 keyframes x 64 steps).
MAX_FRAMES = 512
MAX_STEPS = 128
# Latents farther out than this are no sample of N(0, 1) or U(-1, 1).
MAX_ABS_LATENT = 100.0
MAX_SEED = 2**32 - 1


class RequestError(ValueError):
    """A request the explorer refuses; the message is shown on the page."""


def field(body: dict, name: str, default=None, required: bool = False):
    """A field of a JSON object, or `default` when absent."""
    if not isinstance(body, dict):
        raise RequestError("The request must be a JSON object.")
    if name not in body or body[name] is None:
        if required:
            raise RequestError(f"The request needs the field {name!r}.")
        return default
    return body[name]


def integer(body, name, low, high, default=None) -> int:
    """An int field within [low, high]."""
    value = field(body, name, default, required=default is None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(f"{name} must be a whole number, got {value!r}.")
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        raise RequestError(f"{name} must be a whole number, got {value!r}.")
    value = int(value)
    if not low <= value <= high:
        raise RequestError(f"{name} must be between {low} and {high}, got {value}.")
    return value


def number(body, name, low, high, default=None) -> float:
    """A finite float field within [low, high]."""
    value = field(body, name, default, required=default is None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(f"{name} must be a number, got {value!r}.")
    if not math.isfinite(value) or not low <= value <= high:
        raise RequestError(f"{name} must be between {low} and {high}, got {value!r}.")
    return float(value)


def choice(body, name, options, default=None) -> str:
    """A string field, one of `options`."""
    value = field(body, name, default, required=default is None)
    if value not in options:
        raise RequestError(
            f"{name} must be one of {', '.join(options)}, got {value!r}."
        )
    return value


def flag(body, name, default=False) -> bool:
    value = field(body, name, default)
    if not isinstance(value, bool):
        raise RequestError(f"{name} must be true or false, got {value!r}.")
    return value


def _array(value, name: str) -> np.ndarray:
    """A nested list of numbers as float64, refusing strings, bools and ragged lists."""
    try:
        array = np.array(value, dtype=object)
    except ValueError:
        raise RequestError(f"{name} must be a list of lists of numbers.") from None
    flat = array.reshape(-1) if array.dtype == object else []
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in flat):
        raise RequestError(f"{name} must be a list of lists of numbers of one length.")
    return array.astype(np.float64)


def latents(body, name, latent_dim, low=1, high=MAX_LATENTS) -> np.ndarray:
    """A `(n, latent_dim)` float32 array field with low <= n <= high.

    Raises:
        RequestError: for anything else, NaN or huge values included.
    """
    value = field(body, name, required=True)
    if not isinstance(value, list):
        raise RequestError(f"{name} must be a list of latents.")
    if not low <= len(value) <= high:
        raise RequestError(
            f"{name} must hold between {low} and {high} latents, got {len(value)}."
        )
    array = _array(value, name)
    if array.ndim != 2 or array.shape[1] != latent_dim:
        raise RequestError(
            f"{name} must be latents of size {latent_dim} (the generator's), "
            f"got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        raise RequestError(f"{name} holds NaN or infinite values.")
    if np.abs(array).max() > MAX_ABS_LATENT:
        raise RequestError(
            f"{name} holds values beyond ±{MAX_ABS_LATENT:g}; latents are drawn "
            "near 0 (normal or uniform)."
        )
    return array.astype(np.float32)


def classes(body, name, count, num_classes) -> np.ndarray | None:
    """One class index per latent for a conditional generator (default: 0 each);
    None for an unconditional one, which must not be sent any."""
    value = field(body, name)
    if not num_classes:
        if value is not None and (
            not isinstance(value, list) or any(v is not None for v in value)
        ):
            raise RequestError("This generator is unconditional: it takes no classes.")
        return None
    if value is None:
        return np.zeros(count, np.int64)
    if not isinstance(value, list) or len(value) != count:
        raise RequestError(f"{name} must hold one class per latent ({count}).")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < num_classes:
            raise RequestError(
                f"{name} must be class indices from 0 to {num_classes - 1}, got {v!r}."
            )
    return np.asarray(value, np.int64)
