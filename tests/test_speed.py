"""The speed levers (`--steps-per-execution`, `--mixed-precision`) keep a run
what it was: whole epochs, exact resumes, float32 images."""

import dataclasses

import keras
import numpy as np
import pytest
from keras import ops

from dcgan_tf import runs
from dcgan_tf.config import TrainConfig

TINY = TrainConfig(
    dataset="fashion_mnist",
    image_size=16,
    batch_size=8,
    latent_dim=16,
    generator_filters=8,
    discriminator_filters=8,
    num_samples=4,
)


@pytest.mark.parametrize(
    ("wanted", "steps", "expected"), [(1, 7, 1), (4, 12, 4), (5, 12, 4), (64, 10, 10)]
)
def test_steps_per_execution_divides_the_epoch(wanted, steps, expected):
    config = dataclasses.replace(TINY, steps_per_execution=wanted)
    if keras.backend.backend() == "torch":
        expected = 1
    assert runs.steps_per_execution(config, steps) == expected


def test_several_steps_per_execution_train_the_same_steps(tmp_path):
    weights = []
    for spe in (1, 2):
        config = dataclasses.replace(
            TINY, steps_per_execution=spe, run_dir=str(tmp_path / str(spe))
        )
        run = runs.train(config, dry_run=True, verbose=0)
        assert int(run.model.d_optimizer.iterations) == runs.DRY_RUN_STEPS
        weights.append([ops.convert_to_numpy(w) for w in run.model.weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_bfloat16_run_trains_and_saves_a_float32_generator(tmp_path):
    config = dataclasses.replace(
        TINY, mixed_precision="bfloat16", run_dir=str(tmp_path / "run")
    )
    run = runs.train(config, dry_run=True, verbose=0)
    assert run.model.generator.get_layer("project").compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in run.model.weights)
    assert keras.config.dtype_policy().name == "float32"  # left as it was
    generator = keras.models.load_model(run.run_dir / "generator.keras")
    images = ops.convert_to_numpy(generator(np.zeros((2, 16), "float32")))
    assert images.dtype == np.float32 and np.isfinite(images).all()


def test_float16_run_scales_its_losses(tmp_path):
    config = dataclasses.replace(
        TINY, mixed_precision="float16", run_dir=str(tmp_path / "run")
    )
    run = runs.train(config, dry_run=True, verbose=0)
    for optimizer in (run.model.d_optimizer, run.model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(run.history.history["d_loss"]).all()
