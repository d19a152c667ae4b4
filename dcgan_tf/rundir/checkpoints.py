"""A run's checkpoints: what `--resume` loads, at an epoch's end or within one.

A checkpoint is three files, written in this order, each atomically:
`checkpoint_epoch_NNNN[_step_SSSSSS].weights.h5` (both networks, both
optimisers, the averaged generator and ADA's p), its `.json` sidecar (the
latent seed generator's state, the epoch's running metrics when taken within
an epoch, the Keras backend, and the weights' SHA-256), then `state.json`
naming it. NNNN counts the completed epochs, SSSSSS the steps done since (none
at an epoch's end), so `(epoch, step)` orders every checkpoint of a run.

Everything read back is checked as a flag would be: `state.json` may name only
a checkpoint file inside the run whose epoch and step agree with its name; a
sidecar that is not what this module writes marks its checkpoint damaged, and
the newest complete one before it is used instead.

What else `state.json` records (the epoch `generator.keras` holds) is
`dcgan_tf.rundir.state`'s. Writing a checkpoint and reading it back stay one
module: the reader checks exactly what the writer writes (names, sidecar
fields, the SHA-256), and the two change together.
"""

import dataclasses
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np

from dcgan_tf.rundir.state import (  # noqa: F401 (importable from here too)
    GENERATOR_EPOCH,
    STATE,
    generator_epoch,
    record_generator,
    recorded_epoch,
)
from dcgan_tf.system.files import (
    check_room,
    sha256,
    variables_bytes,
    write_atomically,
    write_json,
)

# Two checkpoints: if the newest is damaged after it was written (a disk
# error, a user's copy cut short), the one before it still resumes the run.
KEPT_CHECKPOINTS = 2
# No run gets near these; a larger number read from disk is damage.
MOST_EPOCHS = 10**7
MOST_STEPS = 10**10
# The Keras backends a sidecar may name (`dcgan_tf.cli.backends.BACKENDS`).
BACKENDS = ("tensorflow", "jax", "torch")

PATTERN = re.compile(r"checkpoint_epoch_(\d{4,})(?:_step_(\d{6,}))?\.weights\.h5$")
SIDECAR = re.compile(r"checkpoint_epoch_(\d{4,})(?:_step_(\d{6,}))?\.json$")


@dataclasses.dataclass(frozen=True)
class SavedCheckpoint:
    """A complete checkpoint of a run, as saved in its directory (the callback
    that saves one is `dcgan_tf.training.callbacks.Checkpoint`).

    Attributes:
        epoch: epochs completed.
        weights: the `.weights.h5` file.
        seed_state: the latent seed generator's state (None: not recorded).
        step: steps done in the epoch after `epoch` (0 at an epoch's end).
        metrics: within an epoch, the running metrics' variables by metric
            name, so that the epoch's figures average all of its steps.
        verified: the weights' SHA-256 matched the one their sidecar
            recorded: the file is as it was written.
        backend: the Keras backend that trained to it (None: not recorded);
            another backend continues the run, but not bit for bit.
    """

    epoch: int
    weights: Path
    seed_state: list | None
    step: int = 0
    metrics: dict | None = None
    verified: bool = False
    backend: str | None = None

    @property
    def position(self) -> tuple[int, int]:
        return (self.epoch, self.step)

    def describe(self) -> str:
        """`epoch 3` or `epoch 3, step 120 of epoch 4`, for messages."""
        if not self.step:
            return f"epoch {self.epoch}"
        return f"epoch {self.epoch}, step {self.step} of epoch {self.epoch + 1}"


# The record's name in version 0.1 (`dcgan_tf.rundir.checkpoints.Checkpoint`), kept
# for code written against it; the callback of that name is
# `dcgan_tf.training.callbacks.Checkpoint`.
Checkpoint = SavedCheckpoint


def checkpoint_name(epoch: int, step: int = 0) -> str:
    suffix = f"_step_{step:06d}" if step else ""
    return f"checkpoint_epoch_{epoch:04d}{suffix}.weights.h5"


def sidecar(weights: Path) -> Path:
    """A checkpoint's `.json` beside its `.weights.h5`."""
    return weights.with_name(weights.name.replace(".weights.h5", ".json"))


def _position(name: str) -> tuple[int, int] | None:
    match = PATTERN.match(name)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def checkpoint_files(folder: Path) -> list[tuple[tuple[int, int], Path]]:
    """The checkpoint weight files in `folder`, newest first (links are not
    the run's files and are passed over)."""
    found = []
    for path in folder.iterdir() if folder.is_dir() else []:
        position = _position(path.name)
        if position is not None and not path.is_symlink():
            found.append((position, path))
    return sorted(found, reverse=True)


def _int_list(values, most: int) -> list | None:
    """`values` as a list of ints in [0, most], or None when it is not one."""
    if not isinstance(values, list) or not values:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return values if all(0 <= v <= most for v in values) else None


def _metrics(values) -> dict | None:
    """Running metrics as a sidecar holds them: name -> list of finite numbers."""
    if not isinstance(values, dict):
        return None
    for numbers in values.values():
        if not isinstance(numbers, list) or not all(
            isinstance(v, (int, float)) and np.isfinite(v) for v in numbers
        ):
            return None
    return values


def read(weights: Path) -> SavedCheckpoint | None:
    """The checkpoint whose weights are `weights`, if complete and trusted.

    Returns None (with a warning when the sidecar is to blame) for weights
    that are cut short, whose bytes changed since their SHA-256 was recorded,
    or whose sidecar holds what this module never writes.
    """
    position = _position(weights.name)
    if position is None or weights.is_symlink() or not _is_complete_h5(weights):
        return None
    epoch, step = position
    record_path = sidecar(weights)
    try:
        text = record_path.read_text()
        # Checkpoints from before sidecars are trusted, and so are weights
        # whose sidecar is empty: complete HDF5 beats losing the epoch (the
        # resume then says when their random state is not known).
        record = json.loads(text) if text.strip() else {}
    except FileNotFoundError:
        record = {}
    except (OSError, ValueError, UnicodeDecodeError):
        record = None
    if record is not None and not record_path.is_symlink():
        record = _check_record(record, epoch, step)
    else:
        record = None
    if record is None:
        warnings.warn(
            f"{record_path} is damaged; {weights.name} is passed over.", stacklevel=3
        )
        return None
    verified = "sha256" in record
    if verified and record["sha256"] != sha256(weights):
        return None
    return SavedCheckpoint(
        epoch,
        weights,
        record.get("seed_state"),
        step,
        record.get("metrics"),
        verified,
        record.get("backend"),
    )


def _check_record(record, epoch: int, step: int) -> dict | None:
    """The sidecar's values if they are what `save` writes, else None."""
    if not isinstance(record, dict):
        return None
    if record.get("epoch", epoch) != epoch or record.get("step", step) != step:
        return None
    checked = {}
    if "seed_state" in record:
        # Keras' SeedGenerator state: two uint32 words.
        checked["seed_state"] = _int_list(record["seed_state"], 2**32 - 1)
        if checked["seed_state"] is None:
            return None
    if "metrics" in record:
        checked["metrics"] = _metrics(record["metrics"])
        if checked["metrics"] is None:
            return None
    if "sha256" in record:
        if not isinstance(record["sha256"], str):
            return None
        checked["sha256"] = record["sha256"]
    if "backend" in record:
        if record["backend"] not in BACKENDS:
            return None
        checked["backend"] = record["backend"]
    return checked


def _from_state(folder: Path) -> SavedCheckpoint | None:
    """The checkpoint `state.json` names, when that is a trusted file of
    this run whose epoch and step agree with the state's."""
    path = folder / STATE
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError):
        warnings.warn(
            f"{path} cannot be read; using the newest checkpoint.", stacklevel=3
        )
        return None
    name = state.get("weights") if isinstance(state, dict) else None
    position = _position(name) if isinstance(name, str) else None
    # Only a bare name of this run's own checkpoint files: never a path.
    if position is None or Path(name).name != name or path.is_symlink():
        warnings.warn(
            f"{path} names no checkpoint of this run; it is ignored.", stacklevel=3
        )
        return None
    if state.get("epoch") != position[0] or state.get("step", 0) != position[1]:
        warnings.warn(
            f"{path} says epoch {state.get('epoch')} for {name}; it is ignored.",
            stacklevel=3,
        )
        return None
    checkpoint = read(folder / name)
    if checkpoint is not None and checkpoint.seed_state is None:
        seed_state = _int_list(state.get("seed_state"), 2**32 - 1)
        checkpoint = dataclasses.replace(checkpoint, seed_state=seed_state)
    return checkpoint


def latest(folder: Path) -> SavedCheckpoint | None:
    """The newest complete checkpoint in `folder`, or None before the first.

    `state.json` names it; without a usable `state.json`, or when the file it
    names is damaged, the newest complete checkpoint file is used.

    Raises:
        ValueError: when checkpoint files exist but none is complete.
    """
    named = _from_state(folder)
    if named is not None:
        return named
    files = checkpoint_files(folder)
    for _, path in files:
        checkpoint = read(path)
        if checkpoint is not None:
            return checkpoint
    if files:
        names = ", ".join(path.name for _, path in files)
        raise ValueError(
            f"No complete checkpoint in {folder} ({names} cannot be read); "
            "restore one from a backup, or start a new run."
        )
    return None


def save(folder: Path, model, epoch: int, seed_state, step=0, metrics=None):
    """Saves a checkpoint of `model` after `epoch` epochs and `step` steps.

    The weights, then their sidecar, then `state.json` naming them; only then
    are checkpoints older than the last `KEPT_CHECKPOINTS` removed.

    Raises:
        dcgan_tf.system.files.WriteError: when the disk is full or the folder
            read-only; the previous checkpoint and `state.json` stay as they were.
    """
    from keras import backend  # not at import: commands choose it first

    weights = folder / checkpoint_name(epoch, step)
    check_room(weights, variables_bytes(model.variables))
    write_atomically(weights, model.save_weights)
    seed_state = np.asarray(seed_state).tolist()
    record = {"epoch": epoch, "step": step, "seed_state": seed_state}
    if metrics is not None:
        record["metrics"] = metrics
    record["backend"] = backend.backend()
    record["sha256"] = sha256(weights)
    write_json(sidecar(weights), record)
    state = {"epoch": epoch, "step": step, "weights": weights.name}
    state["seed_state"] = seed_state
    written = generator_epoch(folder)
    if written is not None:
        state[GENERATOR_EPOCH] = written  # until the generator is saved again
    write_json(folder / STATE, state)
    for position, path in checkpoint_files(folder)[KEPT_CHECKPOINTS:]:
        if position < (epoch, step):
            path.unlink(missing_ok=True)
            sidecar(path).unlink(missing_ok=True)
    remove_orphan_sidecars(folder, (epoch, step))
    return SavedCheckpoint(
        epoch, weights, seed_state, step, metrics, True, record["backend"]
    )


def remove_orphan_sidecars(folder: Path, before: tuple[int, int]) -> None:
    """Deletes the sidecars older than `before` whose weights are gone (a
    kill between the two deletions leaves one): never a link, never the
    sidecar of weights that exist."""
    for path in folder.iterdir() if folder.is_dir() else []:
        match = SIDECAR.match(path.name)
        if match is None or path.is_symlink() or not path.is_file():
            continue
        position = (int(match.group(1)), int(match.group(2) or 0))
        weights = folder / checkpoint_name(*position)
        if position < before and not os.path.lexists(weights):
            path.unlink(missing_ok=True)


def _is_complete_h5(path: Path) -> bool:
    """Whether an HDF5 file opens and lists its contents (not truncated)."""
    import h5py

    try:
        with h5py.File(path, "r") as file:
            file.visit(lambda name: None)
        return True
    except (OSError, ValueError, KeyError, RuntimeError):
        return False
