"""The run directory: the name of every file in it, creating, finding, reading
and writing it, so that nothing a user has trained is ever lost.

A run directory holds one run (stylegan2-ada's habit): its options next to its
results. Its promises, each tested in `tests/test_rundir.py`:

- every file is written atomically (a temporary file beside it, flushed to
  disk, then renamed), so a kill or a full disk leaves the old file whole;
- `state.json` is written after the checkpoint it names, so it only ever
  points at complete files, and a resume without it finds the newest
  complete checkpoint instead of starting over;
- a directory is created only once its run can start, and a folder that is
  not a run is never written into;
- a full disk or a read-only folder is a `dcgan_tf.files.WriteError` naming
  the path, raised before the old file is touched;
- one process at a time trains a run (`RunDir.lock`).
"""

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.files import (
    TEMPORARY_PREFIX,
    Lock,
    WriteError,
    check_room,
    io_advice,
    sha256,
    variables_bytes,
    write_atomically,
    write_json,
)

RUNS_ROOT = Path("checkpoints")

CONFIG = "config.json"
LATENTS = "latents.npy"
STATE = "state.json"
SAMPLES = "samples"
GIF = "progress.gif"
METRICS = "metrics.csv"
STEPS = "steps.csv"
TENSORBOARD = "tensorboard"
PLOT = "losses.png"
GENERATOR = "generator.keras"
BEST_GENERATOR = "generator_best.keras"
INTERRUPTED_GENERATOR = "generator_interrupted.keras"
MONITOR_STATE = "monitor_state.json"
# Held by the process training the run (hidden; it holds that process's id).
LOCK = ".lock"
# Two checkpoints: if the newest is damaged after it was written (a disk
# error, a user's copy cut short), the one before it still resumes the run.
KEPT_CHECKPOINTS = 2

_CHECKPOINT = re.compile(r"checkpoint_epoch_(\d{4,})\.weights\.h5$")


class RunDirError(Exception):
    """A run directory cannot be used; the message says what to do."""


def next_run_dir(dataset: str, root=RUNS_ROOT) -> Path:
    """Returns `root/NNNNN-dataset`, numbered one past the highest run there."""
    root = Path(root)
    numbers = [
        int(match.group(1))
        for path in (root.iterdir() if root.is_dir() else [])
        if (match := re.match(r"(\d{5})-", path.name))
    ]
    return root / f"{max(numbers, default=-1) + 1:05d}-{dataset}"


def generator_file(path) -> Path:
    """The generator that a run directory or a `.keras` path names.

    Raises:
        FileNotFoundError: when the path, or a run directory's
            `generator.keras`, does not exist (naming the `.keras` files found).
    """
    path = Path(path)
    if path.is_dir():
        file = path / GENERATOR
        if not file.is_file():
            found = sorted(p.name for p in path.glob("*.keras"))
            hint = f" (found {', '.join(found)})" if found else ""
            raise FileNotFoundError(
                f"No {GENERATOR} in {path}{hint}; pass a run directory of "
                "dcgan_tf.train or a .keras file."
            )
        return file
    if path.is_file():
        return path
    raise FileNotFoundError(f"No such run directory or .keras file: {path}")


def config_beside(file) -> TrainConfig | None:
    """The configuration of the run a saved file belongs to, or None outside a run.

    Raises:
        RunDirError: for a `config.json` that cannot be read.
    """
    path = Path(file).parent / CONFIG
    return RunDir(path.parent).read_config() if path.is_file() else None


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint of a run: what `--resume` loads."""

    epoch: int
    weights: Path
    seed_state: list | None


class RunDir:
    """One run directory: where each file goes, and the only writer of them.

    Args:
        path: the directory (it need not exist yet).
    """

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"

    def __str__(self):
        return str(self.path)

    # --- Names ---------------------------------------------------------------

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def state_path(self) -> Path:
        return self.path / STATE

    @property
    def generator_path(self) -> Path:
        return self.path / GENERATOR

    def grid_path(self, epoch: int) -> Path:
        """`samples/epoch_NNNN.png`; epoch 0 is the untrained generator."""
        return self.path / SAMPLES / f"epoch_{epoch:04d}.png"

    def grid_paths(self) -> list[Path]:
        return sorted((self.path / SAMPLES).glob("epoch_*.png"))

    def kept_generator_path(self, epoch: int) -> Path:
        return self.path / f"generator_epoch_{epoch:04d}.keras"

    def checkpoint_path(self, epoch: int) -> Path:
        return self.path / f"checkpoint_epoch_{epoch:04d}.weights.h5"

    # --- Creating --------------------------------------------------------------

    def is_run(self) -> bool:
        return self.config_path.is_file()

    def check_new(self) -> None:
        """Refuses a directory that holds a run or anything else.

        Raises:
            RunDirError: naming the directory and what to do.
        """
        if self.is_run():
            raise RunDirError(
                f"{self.path} already holds a run; continue it with --resume "
                f"{self.path} or choose another --run-dir."
            )
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"--run-dir {self.path} is a file, not a folder.")
        if self.path.is_dir() and any(self.path.iterdir()):
            raise RunDirError(
                f"--run-dir {self.path} is a folder with other files in it, not a "
                "run; choose a new or empty folder."
            )

    def create(self, config: TrainConfig, latents) -> None:
        """Makes the directory with its configuration and fixed latents.

        Called only when the run can start (configuration checked, data
        loaded, networks built), so a failed start leaves nothing behind.

        Raises:
            RunDirError: see `check_new`, or when the folder cannot be written
                (then nothing this call made is left).
        """
        self.check_new()
        # Made under a hidden name and renamed into place, so that a kill
        # leaves no half-made run where the user pointed --run-dir.
        staging = self.path.with_name(TEMPORARY_PREFIX + self.path.name)
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            write_atomically(
                staging / LATENTS, lambda tmp: np.save(tmp, np.asarray(latents))
            )
            write_json(staging / CONFIG, config.to_dict())
            os.replace(staging, self.path)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise RunDirError(
                f"Cannot create {self.path}: {io_advice(error)}."
            ) from None
        except (RunDirError, WriteError):
            shutil.rmtree(staging, ignore_errors=True)
            raise

    # --- Reading ---------------------------------------------------------------

    def _read_json(self, path: Path, what: str):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise RunDirError(
                f"Cannot read {path} ({reason}: not valid JSON?); {what}"
            ) from None

    def read_config(self) -> TrainConfig:
        """The run's configuration, as it ran.

        Raises:
            RunDirError: when the directory is no run, or its `config.json` is
                unreadable, naming the file.
        """
        if not self.is_run():
            raise RunDirError(
                f"{self.path} is not a run directory (no {CONFIG}); pass the "
                "directory a training run wrote, such as "
                "checkpoints/00000-fashion_mnist."
            )
        values = self._read_json(
            self.config_path, "restore it from a backup or start a new run."
        )
        try:
            config = TrainConfig.from_dict(values)
            config.validate()
            return config
        except (TypeError, ValueError, KeyError) as error:
            raise RunDirError(
                f"{self.config_path} is not a run's config ({error}); restore it "
                "from a backup or start a new run."
            ) from None

    def write_config(self, config: TrainConfig, at_epoch: int | None = None) -> None:
        """Writes `config.json`; on a resume (`at_epoch`), the fields that
        changed are recorded in its `resume_changes` list."""
        values = config.to_dict()
        changes = []
        if at_epoch is not None and self.is_run():
            old = self._read_json(self.config_path, "")
            changes = list(old.get("resume_changes", []))
            changes += [
                {"epoch": at_epoch, "field": k, "from": old.get(k), "to": v}
                for k, v in values.items()
                if k in old and old[k] != v
            ]
        if changes:
            values["resume_changes"] = changes
        write_json(self.config_path, values)

    def check_nothing_to_lose(self) -> None:
        """Refuses to train a run from scratch when it has saved generators.

        Called when no checkpoint is found. A run killed in its first epoch
        starts again (its first grid and metrics row are drawn again the
        same), but one whose checkpoints are gone keeps its generators.

        Raises:
            RunDirError: naming what would be overwritten.
        """
        made = sorted(p.name for p in self.path.glob("generator*.keras"))
        if made:
            raise RunDirError(
                f"{self.path} has results ({', '.join(made[:3])}) but no "
                "checkpoint to resume from (checkpoint_epoch_*.weights.h5 and "
                f"{STATE} are missing); restore them from a backup, or start a new "
                "run so that nothing here is overwritten."
            )

    def read_latents(self) -> np.ndarray:
        path = self.path / LATENTS
        try:
            return np.load(path)
        except (OSError, ValueError) as error:
            raise RunDirError(
                f"Cannot read {path} ({type(error).__name__}); the run's sample "
                "latents are lost: start a new run, or copy them from a backup."
            ) from None

    def _checkpoint_files(self) -> list[tuple[int, Path]]:
        found = [
            (int(match.group(1)), path)
            for path in (self.path.iterdir() if self.path.is_dir() else [])
            if (match := _CHECKPOINT.match(path.name))
        ]
        return sorted(found, reverse=True)

    def _read_checkpoint(self, epoch: int, weights: Path) -> Checkpoint | None:
        """The checkpoint if its files are complete and, where the sidecar
        recorded one, match their checksum; else None."""
        if not _is_complete_h5(weights):
            return None
        try:
            recorded = json.loads(_sidecar(weights).read_text())
        except (OSError, ValueError):
            recorded = {}
        recorded = recorded if isinstance(recorded, dict) else {}
        # Checkpoints from before checksums have none, and are trusted.
        if "sha256" in recorded and recorded["sha256"] != sha256(weights):
            return None
        try:
            seed_state = [int(value) for value in recorded["seed_state"]]
        except (KeyError, TypeError, ValueError):
            seed_state = None
        return Checkpoint(epoch, weights, seed_state)

    def latest_checkpoint(self) -> Checkpoint | None:
        """The newest complete checkpoint, or None before the first epoch.

        `state.json` names it; without a readable `state.json`, or when the
        file it names is damaged, the newest complete checkpoint file is used.

        Raises:
            RunDirError: when checkpoint files exist but none is complete.
        """
        files = self._checkpoint_files()
        try:
            state = json.loads(self.state_path.read_text())
            named = self.path / state["weights"]
            epoch = int(state["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            state = None
        if state is not None:
            checkpoint = self._read_checkpoint(epoch, named)
            if checkpoint is not None:
                seed_state = checkpoint.seed_state or state.get("seed_state")
                return dataclasses.replace(checkpoint, seed_state=seed_state)
        for epoch, path in files:
            checkpoint = self._read_checkpoint(epoch, path)
            if checkpoint is not None:
                return checkpoint
        if files:
            names = ", ".join(path.name for _, path in files)
            raise RunDirError(
                f"No complete checkpoint in {self.path} ({names} cannot be read); "
                "restore one from a backup, or start a new run."
            )
        return None

    def completed_epochs(self) -> int:
        """Epochs a run has checkpointed (0 before its first)."""
        checkpoint = self.latest_checkpoint()
        return checkpoint.epoch if checkpoint else 0

    # --- Writing ---------------------------------------------------------------

    def save_checkpoint(self, model, epoch: int, seed_state) -> Checkpoint:
        """Saves both networks and optimisers after `epoch`, then `state.json`.

        The weights, then their sidecar (the latent seed generator's state
        and the weights' SHA-256, checked on reading), then `state.json`
        naming them; checkpoints older than the last
        `KEPT_CHECKPOINTS` are removed only after that.

        Raises:
            RunDirError: when the disk is full or the folder read-only; the
                previous checkpoint and `state.json` are then left as they were.
        """
        weights = self.checkpoint_path(epoch)
        check_room(weights, variables_bytes(model.variables))
        write_atomically(weights, model.save_weights)
        seed_state = np.asarray(seed_state).tolist()
        recorded = {"epoch": epoch, "seed_state": seed_state, "sha256": sha256(weights)}
        write_json(_sidecar(weights), recorded)
        write_json(
            self.state_path,
            {"epoch": epoch, "weights": weights.name, "seed_state": seed_state},
        )
        for old_epoch, path in self._checkpoint_files()[KEPT_CHECKPOINTS:]:
            if old_epoch < epoch:
                path.unlink(missing_ok=True)
                _sidecar(path).unlink(missing_ok=True)
        return Checkpoint(epoch, weights, seed_state)

    def lock(self) -> Lock:
        """Claims the run for this process until the returned lock is
        released (or the process ends).

        Raises:
            RunDirError: when another process is training it.
        """
        lock = Lock(self.file(LOCK))
        holder = lock.acquire()
        if holder is not None:
            who = f"process {holder}" if holder else "another process"
            raise RunDirError(
                f"{self.path} is being trained by {who}; wait for it to end "
                "(or stop it) before resuming it."
            )
        return lock

    def remove_temporary_files(self) -> None:
        """Deletes what an interrupted atomic write left (hidden `.tmp-` files)."""
        for folder in (self.path, self.path / SAMPLES):
            for path in folder.glob(TEMPORARY_PREFIX + "*"):
                path.unlink(missing_ok=True)


def _sidecar(weights: Path) -> Path:
    """A checkpoint's `.json` beside its `.weights.h5`."""
    return weights.with_name(weights.name.replace(".weights.h5", ".json"))


def _is_complete_h5(path: Path) -> bool:
    """Whether an HDF5 file opens and lists its contents (not truncated)."""
    import h5py

    try:
        with h5py.File(path, "r") as file:
            file.visit(lambda name: None)
        return True
    except (OSError, ValueError, KeyError, RuntimeError):
        return False
