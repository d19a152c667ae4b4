"""`RunDir`: one run directory, where each of its files goes, and the only
writer of them: reading and writing its configuration, its checkpoints
(through `dcgan_tf.rundir.checkpoints`), its lock, and keeping it closed to links.

One module because `RunDir` is one class, the one owner of a run's files:
its methods are short and hand the work to `checkpoints`, `state` (which
epoch `generator.keras` holds), `making` and `dcgan_tf.system.files`;
splitting the class would leave no single place that says what a run holds.
"""

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np

from dcgan_tf.config import TrainConfig
from dcgan_tf.rundir import checkpoints, making, state
from dcgan_tf.rundir.names import (
    CONFIG,
    GENERATOR,
    LATENTS,
    LOCK,
    OWN_FILE,
    SAMPLES,
    STATE,
    TENSORBOARD,
    RunDirError,
)
from dcgan_tf.system.files import (
    TEMPORARY_PREFIX,
    LinkError,
    Lock,
    LockError,
    io_advice,
    write_json,
)


class RunDir:
    """One run directory: where each file goes, and the only writer of them.

    The library's one type for a run directory: built once from a path where
    the run is named (`as_run_dir`), then passed down. It is path-like
    (`os.fspath`, `Path(run_dir)`, `run_dir / NAME`), so code that took the
    run directory as a path keeps working; `path` is the `Path`.

    Args:
        path: the directory (it need not exist yet).
    """

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"

    def __str__(self):
        return str(self.path)

    def __fspath__(self):
        return str(self.path)

    def __truediv__(self, name) -> Path:
        return self.path / name

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

    def checkpoint_path(self, epoch: int, step: int = 0) -> Path:
        return self.path / checkpoints.checkpoint_name(epoch, step)

    # --- Creating --------------------------------------------------------------

    def is_run(self) -> bool:
        return self.config_path.is_file()

    def check_new(self) -> None:
        """Refuses a directory that holds a run or anything else.

        Raises:
            RunDirError: naming the directory and what to do.
        """
        if self.path.is_symlink():
            raise RunDirError(
                f"--run-dir {self.path} is a symbolic link; a run is written only "
                "into a real folder: pass the folder it points to, or a new path."
            )
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
        staging = making.stage(self.path.parent, config, latents, self.path)
        try:
            os.rename(staging, self.path)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
                self.check_new()  # another process made it meanwhile
            raise RunDirError(
                f"Cannot create {self.path}: {io_advice(error)}."
            ) from None

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

    def latest_checkpoint(self) -> checkpoints.SavedCheckpoint | None:
        """The newest complete checkpoint, or None before the first (see
        `dcgan_tf.rundir.checkpoints.latest`).

        Raises:
            RunDirError: when checkpoint files exist but none is complete.
        """
        try:
            return checkpoints.latest(self.path)
        except ValueError as error:
            raise RunDirError(str(error)) from None

    def completed_epochs(self) -> int:
        """Epochs a run has checkpointed (0 before its first)."""
        checkpoint = self.latest_checkpoint()
        return checkpoint.epoch if checkpoint else 0

    def generator_behind(self, done: int | None = None) -> str | None:
        """Why `generator.keras` is not the generator of the run's last
        completed epoch (missing, damaged, or older: a kill while it was
        written), or None when it is, or when the run does not say (a run
        of an older version, which did not record it).

        Args:
            done: the epochs completed; by default, what `state.json` says.
        """
        return state.generator_behind(self.path, self.generator_path, done)

    def record_generator(self, epoch: int) -> None:
        """Records that `generator.keras` now holds the generator of `epoch`
        (after writing it; see `generator_behind`)."""
        state.record_generator(self.path, epoch)

    # --- Writing ---------------------------------------------------------------

    def save_checkpoint(
        self, model, epoch: int, seed_state, step=0, metrics=None
    ) -> checkpoints.SavedCheckpoint:
        """Saves both networks and optimisers after `epoch` epochs and `step`
        steps (see `dcgan_tf.rundir.checkpoints.save`).

        Raises:
            dcgan_tf.system.files.WriteError: when the disk is full or the folder
                read-only; the previous checkpoint and `state.json` are left.
        """
        return checkpoints.save(self.path, model, epoch, seed_state, step, metrics)

    def lock(self) -> Lock:
        """Claims the run for this process until the returned lock is
        released (or the process ends).

        Raises:
            RunDirError: when another process is training it, or the run
                holds symbolic links (`check_closed`).
        """
        self.check_closed()
        lock = Lock(self.file(LOCK))
        try:
            holder = lock.acquire()
        except (LinkError, LockError) as error:
            raise RunDirError(str(error)) from None
        if holder is not None:
            who = f"process {holder}" if holder else "another process"
            raise RunDirError(
                f"{self.path} is being trained by {who}; wait for it to end "
                "(or stop it) before resuming it."
            )
        return lock

    def remove_temporary_files(self) -> None:
        """Deletes what an interrupted atomic write of this run left: hidden
        `.tmp-NAME` files whose NAME is one of the run's own files."""
        for folder in (self.path, self.path / SAMPLES, self.path / TENSORBOARD):
            if folder.is_symlink() or not folder.is_dir():
                continue
            for path in folder.glob(TEMPORARY_PREFIX + "*"):
                if OWN_FILE.match(path.name[len(TEMPORARY_PREFIX) :]):
                    path.unlink(missing_ok=True)

    def check_folders(self) -> None:
        """Refuses a run whose `samples` is not a folder, before training: its
        grids could not be written, and every resume would fail the same way.

        Raises:
            RunDirError: naming the file and where to move it.
        """
        path = self.path / SAMPLES
        if path.exists() and not path.is_dir():
            raise RunDirError(
                f"{path} is a file where the run keeps its sample grids (a "
                f"folder); move it out of the run (mv {path} {path}.bak) and "
                "try again."
            )

    def check_closed(self) -> None:
        """Refuses a run whose files or folders are symbolic links: a write,
        delete or lock through one would reach outside the run.

        Raises:
            RunDirError: naming the links.
        """
        links = [
            path
            for folder in (self.path, self.path / SAMPLES, self.path / TENSORBOARD)
            if folder.is_dir() and not folder.is_symlink()
            for path in folder.iterdir()
            if path.is_symlink()
        ]
        if links:
            names = ", ".join(str(p.relative_to(self.path)) for p in links[:5])
            raise RunDirError(
                f"{self.path} has symbolic links ({names}) where the run writes its "
                "own files; replace them with the files themselves (or remove them) "
                "and resume again."
            )


def as_run_dir(run_dir) -> RunDir:
    """`run_dir` itself when it is a `RunDir`, else the `RunDir` of that path."""
    return run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
