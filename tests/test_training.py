"""Training runs: Ctrl-C, failed starts, and the speed levers
(`--steps-per-execution`, `--mixed-precision`), which keep a run what it was:
whole epochs, exact resumes, float32 images."""

import csv
import dataclasses
import os
import signal

import keras
import numpy as np
import pytest
from conftest import tiny_config
from keras import ops

from dcgan_tf.config import DRY_RUN_STEPS, TrainConfig, resume_config
from dcgan_tf.data import DataError
from dcgan_tf.model import build_dcgan, steps_per_execution
from dcgan_tf.rundir import RunDir
from dcgan_tf.training import run as training
from dcgan_tf.training.callbacks import restore


class _InterruptAt(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_last_epoch_and_resumes(tmp_path):
    config = TrainConfig(
        dataset="fashion_mnist",
        batch_size=8,
        generator_filters=8,
        discriminator_filters=8,
        grid_size=4,
        run_dir=str(tmp_path / "run"),
    )
    first = training.train(config, dry_run=True, verbose=0)
    run = RunDir(first.run_dir)
    assert run.completed_epochs() == 1

    def more(epochs):
        return resume_config(run.read_config(), {"epochs": epochs})

    interrupted = training.train(
        more(3),
        resume=first.run_dir,
        dry_run=True,
        callbacks=[_InterruptAt()],
        verbose=0,
    )
    assert interrupted.interrupted
    assert run.completed_epochs() == 1
    assert (first.run_dir / "generator_interrupted.keras").exists()
    finished = training.train(more(2), resume=first.run_dir, dry_run=True, verbose=0)
    assert finished.initial_epoch == 1 and not finished.interrupted
    assert run.completed_epochs() == 2


class _SignalAt(keras.callbacks.Callback):
    """Sends this process `signum` after step `step` of epoch `epoch` (both
    counted from 1), as a scheduler's preemption would."""

    def __init__(self, epoch, step, signum=signal.SIGTERM, times=1):
        super().__init__()
        self.at, self.signum, self.times = (epoch - 1, step), signum, times

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch + 1) == self.at:
            for _ in range(self.times):
                os.kill(os.getpid(), self.signum)


def _same_checkpoints(a_dir, b_dir):
    config = RunDir(a_dir).read_config()
    a, b = build_dcgan(config), build_dcgan(config)
    restore(a, RunDir(a_dir).latest_checkpoint())
    restore(b, RunDir(b_dir).latest_checkpoint())
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.d_optimizer.variables, b.d_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    np.testing.assert_array_equal(
        np.asarray(a.seed_generator.state), np.asarray(b.seed_generator.state)
    )


def _rows(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("every", [0, 2], ids=["signal", "signal_and_every_2"])
def test_a_signal_within_an_epoch_checkpoints_its_step_and_resumes_exactly(
    tmp_path, every
):
    config = tiny_config(
        epochs=2, steps_per_epoch=5, steps_per_execution=1, checkpoint_every_steps=every
    )
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    training.train(dataclasses.replace(config, run_dir=str(straight)), verbose=0)
    # SIGTERM twice, as an impatient scheduler: the second is ignored.
    signals = _SignalAt(epoch=2, step=3, times=2)
    run = training.train(
        dataclasses.replace(config, run_dir=str(stopped)),
        callbacks=[signals],
        verbose=0,
    )
    assert run.interrupted == signal.SIGTERM
    assert run.saved.position == (1, 3)
    assert (stopped / "checkpoint_epoch_0001_step_000003.weights.h5").is_file()
    assert (stopped / "generator_interrupted.keras").is_file()
    assert len(_rows(stopped / "metrics.csv")) == 1  # the cut epoch is not a row

    resumed = training.train(RunDir(stopped).read_config(), resume=stopped, verbose=0)
    assert (resumed.initial_epoch, resumed.initial_step) == (1, 3)
    assert not resumed.interrupted
    _same_checkpoints(straight, stopped)
    # The epoch's figures average all of its steps, as if it had not stopped.
    for a, b in zip(_rows(straight / "metrics.csv"), _rows(stopped / "metrics.csv")):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_allclose(float(a[key]), float(b[key]), rtol=1e-5)
    steps = [int(row["step"]) for row in _rows(stopped / "steps.csv")]
    assert steps == sorted(set(steps)) and steps[-1] == 10
    assert set(steps) >= {2, 4, 5, 6, 8, 10}  # every --log-every, and the stop


def test_a_failed_start_leaves_nothing_behind(tmp_path):
    config = TrainConfig(
        dataset="folder",
        data_dir=str(tmp_path / "nowhere"),
        run_dir=str(tmp_path / "run"),
    ).resolve()
    with pytest.raises(DataError):
        training.prepare(config)
    assert not (tmp_path / "run").exists()


TINY = TrainConfig(
    dataset="fashion_mnist",
    image_size=16,
    batch_size=8,
    latent_dim=16,
    generator_filters=8,
    discriminator_filters=8,
    grid_size=4,
)


@pytest.mark.parametrize(
    ("wanted", "steps", "expected"), [(1, 7, 1), (4, 12, 4), (5, 12, 4), (64, 10, 10)]
)
def test_steps_per_execution_divides_the_epoch(wanted, steps, expected):
    config = dataclasses.replace(
        TINY, steps_per_execution=wanted, steps_per_epoch=steps
    )
    if keras.backend.backend() == "torch":
        expected = 1
    assert steps_per_execution(config) == expected
    assert steps_per_execution(config, strategy=object()) == 1


def test_several_steps_per_execution_train_the_same_steps(tmp_path):
    weights = []
    for spe in (1, 2):
        config = dataclasses.replace(
            TINY, steps_per_execution=spe, run_dir=str(tmp_path / str(spe))
        )
        run = training.train(config, dry_run=True, verbose=0)
        assert int(run.model.d_optimizer.iterations) == DRY_RUN_STEPS
        weights.append([ops.convert_to_numpy(w) for w in run.model.weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize(
    "options",
    [{}, {"conditional": True, "augment": "ada", "ema": 0.9}],
    ids=["plain", "conditional_ada_ema"],
)
def test_bfloat16_run_trains_and_saves_a_float32_generator(tmp_path, options):
    config = dataclasses.replace(
        TINY, mixed_precision="bfloat16", run_dir=str(tmp_path / "run"), **options
    )
    run = training.train(config, dry_run=True, verbose=0)
    assert run.model.generator.get_layer("project").compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in run.model.weights)
    assert keras.config.dtype_policy().name == "float32"  # left as it was
    assert np.isfinite(run.history.history["d_loss"]).all()
    generator = keras.models.load_model(run.run_dir / "generator.keras")
    inputs = np.zeros((2, 16), "float32")
    if options:
        inputs = [inputs, np.eye(10, dtype="float32")[:2]]
    images = ops.convert_to_numpy(generator(inputs))
    assert images.dtype == np.float32 and np.isfinite(images).all()


def test_float16_run_scales_its_losses(tmp_path):
    config = dataclasses.replace(
        TINY, mixed_precision="float16", run_dir=str(tmp_path / "run")
    )
    run = training.train(config, dry_run=True, verbose=0)
    for optimizer in (run.model.d_optimizer, run.model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(run.history.history["d_loss"]).all()


def test_modern_recipe_resumes_exactly(tmp_path):
    # Every cure at once: the power iteration's u, TTUR's two rates and the
    # hinge loss are part of what a checkpoint must carry.
    config = dataclasses.replace(
        TINY, recipe="modern", epochs=2, steps_per_epoch=2, steps_per_execution=1
    ).resolve()
    assert (config.d_learning_rate, config.g_learning_rate) == (4e-4, 1e-4)
    models = []
    for name, epochs in (("straight", 2), ("resumed", 1)):
        run_dir = str(tmp_path / name)
        first = dataclasses.replace(config, epochs=epochs, run_dir=run_dir)
        models.append(training.fit(training.prepare(first, dry_run=True), verbose=0))
    run = RunDir(tmp_path / "resumed")
    more = resume_config(run.read_config(), {"epochs": 2})
    resumed = training.train(more, resume=run.path, dry_run=True, verbose=0)
    assert resumed.initial_epoch == 1
    straight = models[0].model
    assert straight.generator.get_layer("block1_upsample") is not None
    assert len(straight.discriminator.non_trainable_weights) == 3  # u vectors
    for a, b in zip(straight.weights, resumed.model.weights, strict=True):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    for name in ("d_optimizer", "g_optimizer"):
        pairs = zip(
            getattr(straight, name).variables,
            getattr(resumed.model, name).variables,
            strict=True,
        )
        for a, b in pairs:
            np.testing.assert_array_equal(
                ops.convert_to_numpy(a), ops.convert_to_numpy(b)
            )
    rates = [
        float(o.learning_rate) for o in (straight.d_optimizer, straight.g_optimizer)
    ]
    assert rates == pytest.approx([4e-4, 1e-4])
    generator = keras.models.load_model(run.path / "generator.keras")
    latents = np.zeros((2, 16), "float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(generator(latents)),
        ops.convert_to_numpy(straight.generator(latents)),
        atol=1e-6,
    )


def test_a_prepared_run_holds_its_directory_as_a_run_dir_and_the_completed_config(
    tmp_path,
):
    # One type for a run directory, under a name that says it: `Run.run_dir`
    # is the `RunDir` (path-like, as the Path it replaced), `Run.run` the
    # name it had before. The configuration is the one `config.json` records,
    # with what only the run knows added once (its steps, compiled step, path).
    config = dataclasses.replace(
        TINY, steps_per_epoch=None, run_dir=str(tmp_path / "run")
    ).resolve(dry_run=True)
    run = training.prepare(config, dry_run=True)
    try:
        assert isinstance(run.run_dir, RunDir) and run.run is run.run_dir
        assert (run.run_dir / "config.json").is_file()
        assert RunDir(run.run_dir).path == tmp_path / "run"
        assert run.config.steps_per_epoch == DRY_RUN_STEPS
        assert run.config.jit_compiled is run.execution.compiled
        assert run.config.run_dir == str(tmp_path / "run")
        assert RunDir(run.run_dir).read_config() == run.config
    finally:
        run.lock.release()
