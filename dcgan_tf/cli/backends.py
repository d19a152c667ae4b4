"""Choosing the Keras backend of a command (`--backend`, `KERAS_BACKEND`,
`keras.json`), before Keras is imported, and saying in one line how to install
one that is missing."""

import argparse
import os
import sys

BACKENDS = ("tensorflow", "jax", "torch")


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    """Adds `--backend`, the Keras backend a command runs on."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend to run on (default: KERAS_BACKEND if set, else "
        "tensorflow).",
    )


def use_backend(backend: str | None) -> None:
    """Sets `KERAS_BACKEND` to `backend` before Keras is first imported.

    Call it right after parsing, before `quiet_tensorflow()` and any import of
    Keras: a backend is fixed at the first `import keras`. None keeps the
    environment's choice.

    Raises:
        ValueError: when Keras is already imported with another backend, or
            the backend is not installed (see `check_backend`).
    """
    if backend is not None and "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise ValueError(
                f"Keras is already running on {current}; --backend {backend} must "
                "be chosen before Keras is imported."
            )
        return
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
    check_backend()


# How to install each backend (setup.cfg's extras; TensorFlow is a requirement).
BACKEND_INSTALL = {
    "tensorflow": "pip install -e .",
    "jax": 'pip install -e ".[jax]"',
    "torch": 'pip install -e ".[torch]"',
}


# Backends Keras 3 has beyond those dcgan_tf trains on.
OTHER_KERAS_BACKENDS = ("numpy", "openvino")


def chosen_backend() -> str:
    """The backend Keras will start on: `KERAS_BACKEND`, else the `backend` of
    Keras' own `keras.json` (in `KERAS_HOME` or `~/.keras`), else tensorflow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    import json

    # Where Keras looks (keras/src/backend/config.py): KERAS_HOME, else
    # ~/.keras, else /tmp/.keras when the home folder is not writable.
    home = os.environ.get("KERAS_HOME")
    if "KERAS_HOME" not in os.environ:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as file:
            backend = json.load(file).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    return backend if isinstance(backend, str) and backend else "tensorflow"


def check_backend() -> None:
    """Refuses, before Keras is imported, a backend that is not installed.

    Keras imports its backend's package on `import keras`, and a missing one
    ends in a traceback there; this says which package to install instead.

    Raises:
        ValueError: naming the backend and the `pip install` that adds it.
    """
    if "keras" in sys.modules:
        return  # Keras started: its backend is importable
    backend = chosen_backend()
    if backend not in BACKEND_INSTALL:
        # Keras' numpy and openvino backends cannot train, and the steps and
        # the explorer are written for the three others only.
        what = (
            f"Keras' {backend} backend is not one dcgan_tf runs on"
            if backend in OTHER_KERAS_BACKENDS
            else f"Unknown Keras backend {backend!r}"
        )
        raise ValueError(
            f"{what} (KERAS_BACKEND or keras.json); use {', '.join(BACKENDS)}."
        )
    import importlib
    import importlib.util

    try:
        if backend == "tensorflow":
            # Only found, not imported: `quiet_tensorflow` imports it quietly.
            if importlib.util.find_spec(backend) is None:
                raise ImportError(f"No module named {backend!r}")
        else:
            importlib.import_module(backend)
    except ImportError as error:
        raise ValueError(
            f"Keras' {backend} backend needs {backend}, which is not installed "
            f"({error}); install it with {BACKEND_INSTALL[backend]}, or choose "
            "another backend (KERAS_BACKEND, or --backend where a command has it)."
        ) from None
