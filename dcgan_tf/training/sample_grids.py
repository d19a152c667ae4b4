"""The run's pictures: a grid of samples from fixed latents every few epochs
(`samples/epoch_NNNN.png`) and `progress.gif` made from all of them.

Both are written through `dcgan_tf.rundir`, atomically; a damaged grid never
costs training. An epoch that diverged (`dcgan_tf.training.guard`) is not drawn.
"""

import warnings

import keras
import numpy as np
from PIL import Image

from dcgan_tf import rundir
from dcgan_tf.sampling.images import make_grid, save_gif, save_image, to_uint8
from dcgan_tf.sampling.latents import class_grid, one_hot
from dcgan_tf.training.guard import healthy


def gif_label(grid_path) -> str:
    """The label of `progress.gif`'s frame of `samples/epoch_NNNN.png`."""
    epoch = int(grid_path.stem.rpartition("_")[2])
    return f"epoch {epoch}" + (" (untrained)" if epoch == 0 else "")


def write_gif(run: rundir.RunDir) -> None:
    """Rebuilds `progress.gif` from the grids in `samples/`, passing over,
    with one warning, any that cannot be read (cut short, not an image) or is
    not the shape of the newest grid: a damaged frame never costs training."""
    frames, paths, passed_over = [], [], []
    for path in run.grid_paths():
        try:
            with Image.open(path) as image:
                frames.append(np.asarray(image))
            paths.append(path)
        except (
            OSError,
            ValueError,
            SyntaxError,
            EOFError,
            Image.DecompressionBombError,
        ):
            passed_over.append(path)
    shape = frames[-1].shape if frames else None
    kept = [(f, p) for f, p in zip(frames, paths) if f.shape == shape]
    passed_over += [p for f, p in zip(frames, paths) if f.shape != shape]
    if passed_over:
        names = ", ".join(p.name for p in sorted(passed_over)[:3])
        more = f" and {len(passed_over) - 3} more" if len(passed_over) > 3 else ""
        warnings.warn(
            f"{names}{more} in {run.file(rundir.SAMPLES)} cannot be read as one of "
            f"the run's grids; {rundir.GIF} is made without them (move them out "
            "of the folder to silence this).",
            stacklevel=2,
        )
    if kept:
        save_gif(
            [f for f, _ in kept],
            run.file(rundir.GIF),
            labels=[gif_label(p) for _, p in kept],
        )


class SampleGrid(keras.callbacks.Callback):
    """Saves a grid of the generator's images from fixed latents every few
    epochs, and a GIF of all the grids so far.

    Grids are `samples/epoch_NNNN.png` (epoch 0 is the untrained generator);
    the GIF is rebuilt from them, so a resumed run's GIF covers the whole run.
    Images come from the generator in inference mode (batch-norm moving
    statistics), as a user of the saved generator will see them.

    Args:
        run: the `RunDir`.
        latents: the fixed latents of every grid.
        every: epochs between grids.
        gif: rebuild the GIF here; False when a `ProgressGif` placed after
            the checkpoint rebuilds it, so that it can never cost an epoch.
    """

    def __init__(self, run: rundir.RunDir, latents, every=1, gif=True):
        super().__init__()
        self.run = run
        self.latents = np.asarray(latents, dtype="float32")
        self.every = every
        self.gif = gif

    def write_grid(self, epoch):
        inputs, columns = self.latents, None
        if getattr(self.model, "num_classes", None):
            # One row per class, the same latent down each column.
            latents, labels = class_grid(self.latents, self.model.num_classes)
            inputs = [latents, one_hot(labels, self.model.num_classes)]
            columns = len(latents) // self.model.num_classes
        images = self.model.sampling_generator.predict(
            inputs, verbose=0, batch_size=256
        )
        grid = make_grid(to_uint8(images), columns=columns)
        path = save_image(grid, self.run.grid_path(epoch))  # atomically
        if self.gif:
            write_gif(self.run)
        return path

    def on_train_begin(self, logs=None):
        if not self.run.grid_paths():
            self.write_grid(0)

    def on_epoch_end(self, epoch, logs=None):
        if not healthy(self.model, logs):
            return
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or last:
            self.write_grid(epoch + 1)


class ProgressGif(keras.callbacks.Callback):
    """Rebuilds `progress.gif` after the epoch is checkpointed (placed after
    `Checkpoint`), whenever `SampleGrid` drew a grid: nothing wrong with the
    grids in `samples/` can cost the epoch."""

    def __init__(self, run: rundir.RunDir):
        super().__init__()
        self.run = run

    def on_train_begin(self, logs=None):
        if not self.run.file(rundir.GIF).is_file() and self.run.grid_paths():
            write_gif(self.run)

    def on_epoch_end(self, epoch, logs=None):
        if healthy(self.model, logs) and self.run.grid_path(epoch + 1).is_file():
            write_gif(self.run)
