import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from dcgan_tf.gan import DCGAN, METRIC_NAMES
from dcgan_tf.networks import build_discriminator, build_generator

IMAGE_SHAPE = (16, 16, 1)


def _model(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    model = DCGAN(
        build_generator(IMAGE_SHAPE, latent_dim=8, filters=8),
        build_discriminator(IMAGE_SHAPE, filters=8),
        seed=seed,
        **kwargs,
    )
    model.compile()
    return model


def _dataset():
    images = np.random.default_rng(0).uniform(-1, 1, (32, *IMAGE_SHAPE))
    return tf.data.Dataset.from_tensor_slices(images.astype("float32")).batch(4)


def test_fit_changes_both_networks_and_reports_every_metric():
    model = _model()
    before_g = [np.array(w) for w in model.generator.trainable_weights]
    before_d = [np.array(w) for w in model.discriminator.trainable_weights]
    history = model.fit(
        _dataset(), epochs=1, steps_per_epoch=3, verbose=0, shuffle=False
    )
    for before, weights in [
        (before_g, model.generator.trainable_weights),
        (before_d, model.discriminator.trainable_weights),
    ]:
        assert all(not np.allclose(b, np.array(w)) for b, w in zip(before, weights))
    assert set(history.history) == set(METRIC_NAMES)
    assert 0.0 <= history.history["d_real"][0] <= 1.0
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 3


def test_same_seed_same_run():
    first, second = _model(seed=3), _model(seed=3)
    for model in (first, second):
        model.fit(_dataset(), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_latent_distributions(distribution):
    latents = np.asarray(_model(latent_distribution=distribution).sample_latents(2000))
    assert latents.shape == (2000, 8)
    if distribution == "uniform":
        assert latents.min() >= -1.0 and latents.max() <= 1.0
    else:
        assert abs(latents.std() - 1.0) < 0.05 and latents.min() < -2.5


def test_bad_latent_distribution_is_rejected():
    with pytest.raises(ValueError, match="'normal' or 'uniform'"):
        _model(latent_distribution="gaussian")


def test_call_is_the_generator_and_saves_as_plain_keras(tmp_path):
    model = _model()
    model.fit(_dataset(), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    latents = np.random.default_rng(1).standard_normal((5, 8)).astype("float32")
    images = ops.convert_to_numpy(model(latents))
    np.testing.assert_allclose(images, ops.convert_to_numpy(model.generator(latents)))
    model.generator.save(tmp_path / "generator.keras")
    loaded = keras.models.load_model(tmp_path / "generator.keras")
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(latents)), images, atol=1e-6)


def test_weights_round_trip_with_both_optimisers(tmp_path):
    model = _model()
    model.fit(_dataset(), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    model.save_weights(tmp_path / "dcgan.weights.h5")
    fresh = _model(seed=9)
    fresh.load_weights(tmp_path / "dcgan.weights.h5")
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    for optimizer in ("d_optimizer", "g_optimizer"):
        for a, b in zip(
            getattr(model, optimizer).variables, getattr(fresh, optimizer).variables
        ):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
