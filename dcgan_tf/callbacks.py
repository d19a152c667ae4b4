"""Callbacks that turn `model.fit` into a run: sample grids, GIF, metric log and
plot, checkpoints that resume exactly, and a stop on NaN losses.

Each writes into the run directory; none of them overwrites another run.
"""

import csv
import json
import math
import os
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from dcgan_tf.gan import METRIC_NAMES
from dcgan_tf.images import make_grid, save_gif, save_image, to_uint8

SAMPLES_DIR = "samples"
GIF_NAME = "progress.gif"
METRICS_NAME = "metrics.csv"
PLOT_NAME = "losses.png"
STATE_NAME = "state.json"
GENERATOR_NAME = "generator.keras"


def _finite(logs) -> bool:
    return all(
        math.isfinite(float(v)) for v in (logs or {}).values() if np.ndim(v) == 0
    )


def _replace(write, path: Path):
    """Writes through `write(tmp_path)` then renames, so a reader (or a resume
    after Ctrl-C) never sees half a file."""
    tmp = path.with_name(path.name.replace(".", ".tmp.", 1))
    write(tmp)
    os.replace(tmp, path)


class SampleGrid(keras.callbacks.Callback):
    """Saves a grid of the generator's images from fixed latents every few
    epochs, and a GIF of all the grids so far.

    Grids are `samples/epoch_NNNN.png` (epoch 0 is the untrained generator);
    the GIF is rebuilt from them, so a resumed run's GIF covers the whole run.
    Images come from the generator in inference mode (batch-norm moving
    statistics), as a user of the saved generator will see them.
    """

    def __init__(self, run_dir, latents, every=1):
        super().__init__()
        self.samples_dir = Path(run_dir) / SAMPLES_DIR
        self.gif_path = Path(run_dir) / GIF_NAME
        self.latents = np.asarray(latents, dtype="float32")
        self.every = every

    def write_grid(self, epoch):
        images = self.model.generator.predict(self.latents, verbose=0, batch_size=256)
        path = self.samples_dir / f"epoch_{epoch:04d}.png"
        save_image(make_grid(to_uint8(images)), path)
        save_gif([np.asarray(Image.open(p)) for p in self.grid_paths()], self.gif_path)
        return path

    def grid_paths(self):
        return sorted(self.samples_dir.glob("epoch_*.png"))

    def on_train_begin(self, logs=None):
        if not self.grid_paths():
            self.write_grid(0)

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs):
            return
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or last:
            self.write_grid(epoch + 1)


class MetricsLog(keras.callbacks.Callback):
    """Appends each epoch's metrics to `metrics.csv` and redraws `losses.png`.

    New columns (such as `kid` from a quality monitor placed before this
    callback) widen the file; a resumed run appends to it.
    """

    def __init__(self, run_dir):
        super().__init__()
        self.csv_path = Path(run_dir) / METRICS_NAME
        self.plot_path = Path(run_dir) / PLOT_NAME

    def read(self) -> list[dict]:
        if not self.csv_path.exists():
            return []
        with self.csv_path.open(newline="") as file:
            return list(csv.DictReader(file))

    def on_epoch_end(self, epoch, logs=None):
        rows = [row for row in self.read() if int(row["epoch"]) < epoch + 1]
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        row = {"epoch": epoch + 1}
        row.update({k: logs.pop(k) for k in METRIC_NAMES if k in logs})
        row.update(sorted(logs.items()))
        rows.append(row)
        columns = ["epoch"]
        for r in rows:
            columns += [k for k in r if k not in columns]

        def write(path):
            with path.open("w", newline="") as file:
                writer = csv.DictWriter(file, fieldnames=columns, restval="")
                writer.writeheader()
                writer.writerows(rows)

        _replace(write, self.csv_path)
        plot_metrics(rows, self.plot_path)


def plot_metrics(rows, path):
    """Draws losses, D's outputs and accuracies (and quality metrics, when
    logged) against the epoch, one panel each."""
    # A bare Figure draws without pyplot, so a notebook's backend is left alone.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def series(name):
        pairs = [
            (int(r["epoch"]), float(r[name])) for r in rows if r.get(name, "") != ""
        ]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    panels = [
        ("Losses", ["d_loss", "g_loss"]),
        ("Discriminator outputs", ["d_real", "d_fake"]),
        ("Discriminator accuracy", ["d_real_accuracy", "d_fake_accuracy"]),
    ]
    quality = [k for k in ("kid", "fid") if any(r.get(k, "") != "" for r in rows)]
    panels += [(f"{name.upper()} (lower is better)", [name]) for name in quality]
    figure = Figure(figsize=(4.5 * len(panels), 3.6))
    axes = figure.subplots(1, len(panels), squeeze=False)
    for axis, (title, names) in zip(axes[0], panels, strict=True):
        for name in names:
            if any(name in r for r in rows):
                x, y = series(name)
                axis.plot(x, y, marker="o" if len(x) < 30 else None, label=name)
        axis.set_title(title)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    _replace(lambda tmp: figure.savefig(tmp, dpi=100, format="png"), Path(path))


class Checkpoint(keras.callbacks.Callback):
    """Saves everything a resume needs after each epoch, and the generator.

    - `checkpoint_epoch_NNNN.weights.h5`: both networks and both optimisers;
    - `state.json`: the completed epoch, that file's name and the state of the
      model's latent seed generator. It is written last and atomically, so it
      always names a complete checkpoint; the older checkpoint is then removed;
    - `generator.keras` (the latest) and, every `keep_every` epochs,
      `generator_epoch_NNNN.keras`.

    An epoch whose logs hold a NaN or infinite value is not saved.
    """

    def __init__(self, run_dir, keep_every=0):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.keep_every = keep_every

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs):
            return
        done = epoch + 1
        old = read_state(self.run_dir)
        weights_name = f"checkpoint_epoch_{done:04d}.weights.h5"
        self.model.save_weights(self.run_dir / weights_name)
        state = {
            "epoch": done,
            "weights": weights_name,
            "seed_state": np.asarray(self.model.seed_generator.state).tolist(),
        }
        _replace(
            lambda tmp: tmp.write_text(json.dumps(state, indent=2) + "\n"),
            self.run_dir / STATE_NAME,
        )
        if old and old["weights"] != weights_name:
            (self.run_dir / old["weights"]).unlink(missing_ok=True)
        _replace(self.model.generator.save, self.run_dir / GENERATOR_NAME)
        if self.keep_every and done % self.keep_every == 0:
            self.model.generator.save(
                self.run_dir / f"generator_epoch_{done:04d}.keras"
            )


def read_state(run_dir) -> dict | None:
    """The last completed checkpoint of a run, or None before the first."""
    path = Path(run_dir) / STATE_NAME
    if not path.exists():
        return None
    return json.loads(path.read_text())


def restore(model, run_dir) -> int:
    """Loads a run's last checkpoint into a compiled `DCGAN`.

    Returns:
        The number of completed epochs, to pass to `fit` as `initial_epoch`.
    """
    state = read_state(run_dir)
    if state is None:
        return 0
    model.load_weights(Path(run_dir) / state["weights"])
    seed_state = model.seed_generator.state
    seed_state.assign(np.asarray(state["seed_state"], seed_state.dtype))
    return int(state["epoch"])


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first batch whose losses are not finite.

    The epoch is then not checkpointed, so the run keeps its last good state.
    """

    def __init__(self):
        super().__init__()
        self.stopped = False

    def on_train_batch_end(self, batch, logs=None):
        if not _finite({k: logs[k] for k in ("d_loss", "g_loss") if k in logs}):
            self.stopped = True
            self.model.stop_training = True
