"""Watching a run: `steps.csv` every few steps, `metrics.csv` every epoch,
`losses.png` and TensorBoard event files (the console's progress bar and line
per epoch are `dcgan_tf.training.progress`'s, importable from here too).

Everything is written from the logs Keras hands the callbacks, never from
inside the train step, so the three backends log alike. TensorBoard's own
writer (pure Python, no TensorFlow ops) writes the events live; the CSV files
and the plot are written atomically when an epoch completes. A resumed run
first cuts every log back to the step its checkpoint holds, so its curves
continue with no step missing or repeated, after Ctrl-C or a kill as well.
"""

import csv
import json
import shutil
import warnings

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.model import AUGMENT_METRIC, METRIC_NAMES
from dcgan_tf.system import files
from dcgan_tf.training.events import EventLog
from dcgan_tf.training.guard import healthy
from dcgan_tf.training.plots import plot_run
from dcgan_tf.training.progress import (  # noqa: F401 (their old home)
    EpochLine,
    ProgressBar,
    _Progbar,
)

# TensorBoard tags: one section per kind of figure, as the dashboard groups them.
TAGS = {
    "d_loss": "losses/d_loss",
    "g_loss": "losses/g_loss",
    "d_real": "discriminator/d_real",
    "d_fake": "discriminator/d_fake",
    "d_real_accuracy": "discriminator/d_real_accuracy",
    "d_fake_accuracy": "discriminator/d_fake_accuracy",
    AUGMENT_METRIC: "augment/p",
}
LOGGED = (*METRIC_NAMES, AUGMENT_METRIC)
# The quality monitor's figures (`dcgan_tf.quality.monitor`), under quality/.
QUALITY_LOGS = ("kid", "fid", "precision", "recall", "artifacts", "periodic")


def _read_rows(path, key: str) -> list[dict]:
    """The rows of a log whose `key` and every value are numbers; a file cut
    short or damaged keeps its good rows (a byte that is no text spoils only
    its own row), with a warning, and the file as it was is kept beside it
    as `NAME.damaged` (the log is rewritten whole at the next epoch's end)."""
    try:
        with open(path, newline="", errors="replace") as file:
            rows = list(csv.DictReader(file))
    except FileNotFoundError:
        return []
    except (OSError, csv.Error) as error:
        kept = _set_aside(path)
        warnings.warn(
            f"{path} cannot be read ({type(error).__name__}); it starts again{kept}.",
            stacklevel=2,
        )
        return []
    good = [row for row in rows if _is_numeric_row(row, key)]
    if len(good) < len(rows):
        kept = _set_aside(path)
        warnings.warn(
            f"{path}: {len(rows) - len(good)} damaged row(s) dropped{kept}.",
            stacklevel=2,
        )
    return good


def _set_aside(path) -> str:
    """Copies a damaged log to `NAME.damaged` (a link is never followed);
    the words that say so, or nothing when it cannot be copied."""
    damaged = f"{path}.damaged"
    try:
        files.write_atomically(
            damaged, lambda tmp: shutil.copyfile(path, tmp, follow_symlinks=False)
        )
    except (OSError, files.WriteError):
        return ""
    return f" (as it was: {damaged})"


def _is_numeric_row(row: dict, key: str) -> bool:
    if None in row or _number(row.get(key)) is None:
        return False  # more fields than the header: a damaged line
    return all(value == "" or _number(value) is not None for value in row.values())


def _write_rows(path, rows: list[dict], first: str) -> None:
    columns = [first]
    for row in rows:
        columns += [k for k in row if k not in columns]

    def write(tmp):
        with open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)

    files.write_atomically(path, write)


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


class MetricsLog(keras.callbacks.Callback):
    """Logs a run's figures every `log_every` steps and every epoch.

    - `steps.csv`: a row every `log_every` steps (or at the first step of an
      execution past a multiple, with `--steps-per-execution`), each metric
      averaged over the steps since the row before;
    - `metrics.csv`: a row per epoch, with the quality metrics of a monitor
      placed before this callback;
    - `losses.png`: both, drawn against the step;
    - `tensorboard/`: the step rows, the epoch's quality metrics, each sample
      grid and the configuration, for `tensorboard --logdir checkpoints`.

    Args:
        run: the `RunDir`.
        steps_per_epoch: steps of one epoch (the global step is counted from
            them).
        log_every: steps between rows of `steps.csv` and TensorBoard points.
        tensorboard: also write TensorBoard events.
        config: a dict shown in TensorBoard as text (at a run's start, and at
            each resume).
        initial_epoch: the epochs already done (a resumed run's checkpoint);
            every log is cut back to its last step.
        initial_step: the steps of the next epoch done too (a checkpoint
            within an epoch), and `initial_metrics` its running metrics.

    Logging never costs training: damaged logs keep their good rows, and a
    failure to draw the plot is a warning (a full disk still stops the run,
    as the checkpoint after it could not be written either).
    """

    def __init__(
        self,
        run,
        steps_per_epoch,
        log_every=25,
        tensorboard=True,
        config=None,
        initial_epoch=0,
        initial_step=0,
        initial_metrics=None,
    ):
        super().__init__()
        self.run = run
        self.initial_epoch = initial_epoch
        self.initial_step = initial_step
        self.initial_metrics = initial_metrics
        self.steps_per_epoch = steps_per_epoch
        self.log_every = max(1, int(log_every))
        self.tensorboard = tensorboard
        self.config = config
        self.events = None

    def on_train_begin(self, logs=None):
        start = self.initial_epoch
        first_step = start * self.steps_per_epoch + self.initial_step
        self.epoch_rows = [
            r
            for r in _read_rows(self.run.file(rundir.METRICS), "epoch")
            if _number(r["epoch"]) <= start
        ]
        self.step_rows = [
            r
            for r in _read_rows(self.run.file(rundir.STEPS), "step")
            if _number(r["step"]) <= first_step
        ]
        if not self.tensorboard:
            return
        self.events = EventLog(self.run.file(rundir.TENSORBOARD), first_step)
        if self.config is not None:
            title = "configuration" if start == 0 else f"resumed at epoch {start}"
            text = f"{title}:\n\n```\n{json.dumps(self.config, indent=2)}\n```"
            self.events.text("config", text, first_step)
        if start == 0 and self.run.grid_path(0).is_file():
            self.events.image("samples", self.run.grid_path(0), 0)

    def on_epoch_begin(self, epoch, logs=None):
        # A run resumed within an epoch starts it at its checkpoint's step,
        # with the running means of the steps before (`RestoreMetrics`).
        offset = self.initial_step if epoch == self.initial_epoch else 0
        self.epoch = epoch
        self.offset = offset
        sums = {}
        if offset and self.initial_metrics:
            # A Mean's variables are its total and count.
            sums = {k: float(v[0]) for k, v in self.initial_metrics.items() if v}
        self.last = (offset, sums)  # steps into the epoch, metric sums then
        self.latest = None  # the last batch's (done, logs)
        self.pending = []

    def on_train_batch_end(self, batch, logs=None):
        done = self.offset + batch + 1  # steps of this epoch: the means' count
        self.latest = (done, logs)
        step = self.epoch * self.steps_per_epoch + done
        last_step = self.epoch * self.steps_per_epoch + self.last[0]
        if step // self.log_every == last_step // self.log_every and done < (
            self.steps_per_epoch
        ):
            return
        self._add_row(done, logs)

    def _add_row(self, done, logs):
        """A row of `steps.csv` for the steps since the last one."""
        last_done, last_sums = self.last
        step = self.epoch * self.steps_per_epoch + done
        sums = {k: float(logs[k]) * done for k in LOGGED if k in (logs or {})}
        row = {"step": step, "epoch": self.epoch + 1}
        for name, total in sums.items():
            row[name] = (total - last_sums.get(name, 0.0)) / (done - last_done)
        self.last = (done, sums)
        self.pending.append(row)
        if self.events is not None:
            self.events.scalars({TAGS[k]: v for k, v in row.items() if k in TAGS}, step)

    def write_steps(self) -> None:
        """Writes the step rows up to the last step (a row ends there), for a
        checkpoint within an epoch: the log then holds what it holds."""
        if self.latest is not None and self.latest[0] > self.last[0]:
            self._add_row(*self.latest)
        self.step_rows += self.pending
        self.pending = []
        _write_rows(self.run.file(rundir.STEPS), self.step_rows, "step")
        if self.events is not None:
            self.events.flush()

    def on_epoch_end(self, epoch, logs=None):
        if not healthy(self.model, logs):
            return
        done = epoch + 1
        step = done * self.steps_per_epoch
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        row = {"epoch": done}
        row.update({k: logs.pop(k) for k in LOGGED if k in logs})
        row.update(sorted(logs.items()))
        self.epoch_rows = [r for r in self.epoch_rows if int(float(r["epoch"])) < done]
        self.epoch_rows.append(row)
        self.step_rows += self.pending
        self.pending = []
        _write_rows(self.run.file(rundir.METRICS), self.epoch_rows, "epoch")
        _write_rows(self.run.file(rundir.STEPS), self.step_rows, "step")
        try:
            files.write_atomically(
                self.run.file(rundir.PLOT),
                lambda tmp: plot_run(
                    self.step_rows,
                    [dict(r) for r in self.epoch_rows],
                    self.steps_per_epoch,
                    tmp,
                ),
            )
        except files.WriteError:
            raise  # a full disk: the checkpoint after it could not be written
        except Exception as error:  # a plot must never cost a checkpoint
            warnings.warn(
                f"{self.run.file(rundir.PLOT)} not drawn "
                f"({type(error).__name__}: {error}); training goes on.",
                stacklevel=2,
            )
        if self.events is not None:
            quality = {f"quality/{k}": v for k, v in logs.items() if k in QUALITY_LOGS}
            self.events.scalars(quality, step)
            if self.run.grid_path(done).is_file():
                self.events.image("samples", self.run.grid_path(done), step)
            # On disk before the checkpoint: a kill after it keeps this epoch.
            self.events.flush()

    def on_train_end(self, logs=None):
        self.close()

    def close(self) -> None:
        """Closes the event file; `fit` calls it when Ctrl-C stops training."""
        if self.events is not None:
            self.events.close()
            self.events = None
