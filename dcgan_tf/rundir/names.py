"""The name of every file of a run directory, and its error."""

import re
from pathlib import Path

from dcgan_tf.rundir import checkpoints

RUNS_ROOT = Path("checkpoints")

CONFIG = "config.json"
LATENTS = "latents.npy"
STATE = checkpoints.STATE
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
# What the run itself writes (and so may clean up after a kill): its files,
# grids, checkpoints and TensorBoard events.
OWN_FILE = re.compile(
    r"(config\.json|latents\.npy|state\.json|progress\.gif|metrics\.csv|steps\.csv"
    r"|losses\.png|monitor_state\.json|generator(_\w+)?\.keras|epoch_\d{4,}\.png"
    r"|checkpoint_epoch_\d{4,}(_step_\d{6,})?\.(weights\.h5|json)"
    r"|events\.out\.tfevents\..*)$"
)


class RunDirError(Exception):
    """A run directory cannot be used; the message says what to do."""
