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
- a full disk or a read-only folder is a `dcgan_tf.system.files.WriteError` naming
  the path, raised before the old file is touched;
- one process at a time trains a run (`RunDir.lock`);
- the run is closed: no write, delete or lock follows a symbolic link out of
  it (`RunDir.check_closed`), and its clean-up deletes only its own leftovers.

Its parts: `names` (every file's name), `run_dir` (`RunDir`), `making`
(staging and numbering a new run) and `locating` (the run of a saved file);
checkpoints are `dcgan_tf.rundir.checkpoints`, and `state.json`'s record of
the generator's epoch `dcgan_tf.rundir.state`.
"""

from dcgan_tf.rundir import checkpoints, making
from dcgan_tf.rundir.locating import (
    check_generator_current,
    config_beside,
    generator_file,
)
from dcgan_tf.rundir.making import next_run_dir
from dcgan_tf.rundir.names import (
    BEST_GENERATOR,
    CONFIG,
    GENERATOR,
    GIF,
    INTERRUPTED_GENERATOR,
    LATENTS,
    LOCK,
    METRICS,
    MONITOR_STATE,
    PLOT,
    RUNS_ROOT,
    SAMPLES,
    STATE,
    STEPS,
    TENSORBOARD,
    RunDirError,
)
from dcgan_tf.rundir.run_dir import RunDir, as_run_dir

# A run's checkpoints live in dcgan_tf.rundir.checkpoints; this name stays here.
SavedCheckpoint = checkpoints.SavedCheckpoint
Checkpoint = SavedCheckpoint  # its name before 0.2, kept for code using it


def create_numbered(config, latents, name: str, root=RUNS_ROOT):
    """Makes `root/NNNNN-name` for a new run (see `making.create_numbered`).

    Returns:
        `(RunDir, config)`, the configuration naming the directory.
    """
    path, config = making.create_numbered(config, latents, name, root)
    return RunDir(path), config


__all__ = [
    "BEST_GENERATOR",
    "CONFIG",
    "Checkpoint",
    "GENERATOR",
    "GIF",
    "INTERRUPTED_GENERATOR",
    "LATENTS",
    "LOCK",
    "METRICS",
    "MONITOR_STATE",
    "PLOT",
    "RUNS_ROOT",
    "RunDir",
    "RunDirError",
    "SAMPLES",
    "STATE",
    "STEPS",
    "SavedCheckpoint",
    "TENSORBOARD",
    "as_run_dir",
    "check_generator_current",
    "config_beside",
    "create_numbered",
    "generator_file",
    "next_run_dir",
]
