import keras
import numpy as np
import tensorflow as tf
from conftest import tiny_dcgan

from dcgan_tf.rundir import RunDir
from dcgan_tf.sampling.images import read_gif
from dcgan_tf.training.callbacks import (
    Checkpoint,
    DivergenceGuard,
    SampleGrid,
    restore,
)
from dcgan_tf.training.tracking import MetricsLog

SHAPE = (16, 16, 1)


def _model():
    return tiny_dcgan(SHAPE)


def _batches(images):
    return tf.data.Dataset.from_tensor_slices(images.astype("float32")).batch(4)


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    good = np.random.default_rng(0).uniform(-1, 1, (8, *SHAPE))
    bad = np.full((4, *SHAPE), np.nan)
    data = _batches(good).concatenate(_batches(bad).repeat())
    model = _model()
    stop = DivergenceGuard()
    latents = np.zeros((4, 8), "float32")
    run = RunDir(tmp_path)
    model.fit(
        data,
        epochs=3,
        steps_per_epoch=2,
        callbacks=[
            stop,
            SampleGrid(run, latents),
            MetricsLog(run, 2, tensorboard=False),
            Checkpoint(run),
        ],
        verbose=0,
        shuffle=False,
    )
    assert stop.stopped
    assert run.latest_checkpoint().epoch == 1
    assert not (tmp_path / "samples" / "epoch_0002.png").exists()
    # The checkpoint on disk is finite and loads.
    fresh = _model()
    assert restore(fresh, run.latest_checkpoint()) == 1
    assert all(np.isfinite(w).all() for w in fresh.get_weights())


def test_infinite_batch_norm_statistics_stop_the_run_like_a_nan_loss(tmp_path):
    """A huge learning rate can leave the losses finite but the moving
    variance infinite; such a generator would draw NaN images."""
    data = _batches(np.random.default_rng(0).uniform(-1, 1, (8, *SHAPE))).repeat()
    model = _model()
    run = RunDir(tmp_path)

    class Poison(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                variance = next(
                    v for v in model.generator.variables if "moving_variance" in v.path
                )
                variance.assign(np.full(variance.shape, np.inf, "float32"))

    stop = DivergenceGuard()
    model.fit(
        data,
        epochs=4,
        steps_per_epoch=1,
        # The poison runs first, as if the step itself had made the inf.
        callbacks=[
            Poison(),
            stop,
            MetricsLog(run, 2, tensorboard=False),
            Checkpoint(run),
        ],
        verbose=0,
        shuffle=False,
    )
    assert stop.stopped
    assert run.latest_checkpoint().epoch == 1
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 2
    saved = keras.models.load_model(tmp_path / "generator.keras")
    assert all(np.isfinite(np.asarray(v)).all() for v in saved.variables)


def test_sample_grid_and_gif_follow_the_epochs(tmp_path):
    model = _model()
    data = _batches(np.random.default_rng(0).uniform(-1, 1, (8, *SHAPE))).repeat()
    latents = np.random.default_rng(1).standard_normal((10, 8)).astype("float32")
    model.fit(
        data,
        epochs=4,
        steps_per_epoch=1,
        callbacks=[SampleGrid(RunDir(tmp_path), latents, every=2)],
        verbose=0,
        shuffle=False,
    )
    names = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert names == ["epoch_0000.png", "epoch_0002.png", "epoch_0004.png"]
    frames = read_gif(tmp_path / "progress.gif")
    assert len(frames) == 3
    # 10 images in a 4-column grid of 3 rows, 16 px cells enlarged 4x, under
    # the band that says the epoch.
    assert frames[0].shape[:2] == (16 + 3 * 64 + 4 * 2, 4 * 64 + 5 * 2)
