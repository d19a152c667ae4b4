"""Making a new run directory: staged under a hidden name of this process's
own, then renamed into place, so that a kill leaves no half-made run and runs
started together each get their own number."""

import dataclasses
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.rundir.names import CONFIG, LATENTS, RUNS_ROOT, RunDirError
from dcgan_tf.system.files import (
    TEMPORARY_PREFIX,
    WriteError,
    io_advice,
    write_atomically,
    write_json,
)


def next_run_dir(dataset: str, root=RUNS_ROOT) -> Path:
    """Returns `root/NNNNN-dataset`, numbered one past the highest run there."""
    root = Path(root)
    numbers = [
        int(match.group(1))
        for path in (root.iterdir() if root.is_dir() else [])
        if (match := re.match(r"(\d{5})-", path.name))
    ]
    return root / f"{max(numbers, default=-1) + 1:05d}-{dataset}"


def create_numbered(config: TrainConfig, latents, name: str, root=RUNS_ROOT):
    """Makes `root/NNNNN-name` for a new run, numbered one past the highest.

    Runs started together each get their own number: the run is made under a
    hidden name of its own, then renamed to its number, which fails when
    another run took it first; then the next number is tried.

    Returns:
        `(path, config)`, the configuration naming the directory.

    Raises:
        RunDirError: when `root` cannot be written.
    """
    root = Path(root)
    for _ in range(1000):
        path = next_run_dir(name, root)
        config = dataclasses.replace(config, run_dir=str(path))
        staging = stage(root, config, latents, path)
        try:
            os.rename(staging, path)
            return path, config
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise RunDirError(
                    f"Cannot create {path}: {io_advice(error)}."
                ) from None
    raise RunDirError(f"Cannot number a new run in {root}; use --run-dir.")


def stage(parent: Path, config: TrainConfig, latents, path: Path) -> Path:
    """A hidden folder of this process's own in `parent`, holding a new run's
    configuration and latents, to be renamed into place: a kill leaves no
    half-made run where the user pointed."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX, dir=parent))
    except OSError as error:
        raise RunDirError(f"Cannot create {path}: {io_advice(error)}.") from None
    try:
        write_atomically(
            staging / LATENTS, lambda tmp: np.save(tmp, np.asarray(latents))
        )
        write_json(staging / CONFIG, config.to_dict())
    except WriteError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging
