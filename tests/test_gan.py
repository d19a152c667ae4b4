import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_dcgan
from keras import ops

from dcgan_tf.model import DCGAN, METRIC_NAMES
from dcgan_tf.model.augment import Augmenter
from dcgan_tf.model.networks import build_discriminator, build_generator

IMAGE_SHAPE = (16, 16, 1)


def _model(seed=0, **kwargs):
    return tiny_dcgan(IMAGE_SHAPE, seed, **kwargs)


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


def _conditional_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = DCGAN(
        build_generator(IMAGE_SHAPE, 8, 8, num_classes=3),
        build_discriminator(IMAGE_SHAPE, 8, num_classes=3),
        seed=seed,
        class_frequencies=[0.5, 0.25, 0.25],
    )
    model.compile()
    return model


def test_conditional_fit_trains_every_weight_on_images_and_labels():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (32, *IMAGE_SHAPE)).astype("float32")
    labels = rng.integers(0, 3, 32).astype("int32")
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    model = _conditional_model()
    assert model.num_classes == 3
    networks = (model.generator, model.discriminator)
    before = [np.array(w) for n in networks for w in n.trainable_weights]
    history = model.fit(dataset, epochs=1, steps_per_epoch=3, verbose=0, shuffle=False)
    after = [np.array(w) for n in networks for w in n.trainable_weights]
    # The label embedding and the projection learn too.
    assert all(not np.allclose(b, a) for b, a in zip(before, after, strict=True))
    assert set(history.history) == set(METRIC_NAMES)


def test_conditional_runs_repeat_with_the_seed():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16, *IMAGE_SHAPE)).astype("float32")
    labels = rng.integers(0, 3, 16).astype("int32")
    models = [_conditional_model(seed=3), _conditional_model(seed=3)]
    for model in models:
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
        model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("augment", ["diffaugment", "ada"])
def test_augmented_training_with_an_averaged_generator(augment):
    # A target below any D's measure: p rises at every step.
    model = _model(augmenter=Augmenter(augment, kimg=0.01, target=-0.99), ema=0.5)
    start = [np.array(w) for w in model.ema_generator.get_weights()]
    history = model.fit(
        _dataset(), epochs=1, steps_per_epoch=3, verbose=0, shuffle=False
    )
    assert model.sampling_generator is model.ema_generator
    averaged = model.ema_generator.get_weights()
    trained = model.generator.get_weights()
    # The average moved from the initial weights but trails the trained ones.
    assert any(not np.allclose(a, s) for a, s in zip(averaged, start))
    assert any(not np.allclose(a, t) for a, t in zip(averaged, trained))
    if augment == "ada":
        assert set(history.history) == {*METRIC_NAMES, "augment_p"}
        probability = float(np.asarray(model.augment_probability))
        # 4 images a step, 10 images from 0 to 1: each step moves p by 0.4,
        # within [0, 1]. The logged p is the mean of those the steps used.
        assert probability == pytest.approx(1.0)
        assert history.history["augment_p"][0] == pytest.approx(0.4)
    else:
        assert set(history.history) == set(METRIC_NAMES)


def test_augmented_runs_repeat_with_the_seed_and_round_trip(tmp_path):
    first, second = [
        _model(seed=3, augmenter=Augmenter("ada"), ema=0.9) for _ in range(2)
    ]
    for model in (first, second):
        model.fit(_dataset(), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    first.save_weights(tmp_path / "dcgan.weights.h5")
    fresh = _model(seed=9, augmenter=Augmenter("ada"), ema=0.9)
    fresh.load_weights(tmp_path / "dcgan.weights.h5")
    np.testing.assert_array_equal(
        np.asarray(fresh.augment_probability), np.asarray(first.augment_probability)
    )
    for a, b in zip(
        first.ema_generator.get_weights(), fresh.ema_generator.get_weights()
    ):
        np.testing.assert_array_equal(a, b)


def test_bad_augment_and_ema_are_rejected():
    with pytest.raises(ValueError, match="augment must be one of"):
        _model(augmenter=Augmenter("flip"))
    with pytest.raises(ValueError, match="ema must be in"):
        _model(ema=1.0)


# The cures of DCGAN's artifacts, one option at a time (docs/recipes.md).
# Each cure of G beside one of D, so that three short runs train all of them.
CURES = {
    "resize_spectral": ({"upsample": "resize"}, {"norm": "spectral"}, {}),
    "bilinear_no_norm": ({"upsample": "resize-bilinear"}, {"norm": "none"}, {}),
    "stddev_hinge": ({}, {"minibatch_stddev": True}, {"loss": "hinge"}),
}


@pytest.mark.parametrize("cure", list(CURES))
def test_each_cure_trains_both_networks(cure, tmp_path):
    g_options, d_options, model_options = CURES[cure]
    keras.utils.set_random_seed(0)
    model = DCGAN(
        build_generator(IMAGE_SHAPE, latent_dim=8, filters=8, **g_options),
        build_discriminator(IMAGE_SHAPE, filters=8, **d_options),
        seed=0,
        **model_options,
    )
    model.compile()
    weights = [
        w
        for n in (model.generator, model.discriminator)
        for w in n.trainable_weights
        # While every hinge margin is active (as from the start), the logit's
        # bias gets -1 from the reals and +1 from the fakes: no gradient.
        if not (model_options.get("loss") == "hinge" and w.path.endswith("logit/bias"))
    ]
    before = [np.array(w) for w in weights]
    u_before = [np.array(w) for w in model.discriminator.non_trainable_weights]
    history = model.fit(
        _dataset(), epochs=1, steps_per_epoch=3, verbose=0, shuffle=False
    )
    after = [np.array(w) for w in weights]
    assert all(not np.allclose(b, a) for b, a in zip(before, after, strict=True))
    assert np.isfinite(history.history["d_loss"]).all()
    if d_options.get("norm") == "spectral":
        # The power iteration's vectors are state that moves as D trains.
        u_after = model.discriminator.non_trainable_weights
        assert len(u_after) == 3  # two convolutions and the logit
        assert all(not np.allclose(b, np.array(a)) for b, a in zip(u_before, u_after))
    # The generator is built-in layers only: plain Keras loads it.
    model.generator.save(tmp_path / "generator.keras")
    loaded = keras.models.load_model(tmp_path / "generator.keras")
    latents = np.random.default_rng(1).standard_normal((3, 8)).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded(latents)),
        ops.convert_to_numpy(model.generator(latents)),
        atol=1e-6,
    )


class _TwoReplicas:
    num_replicas_in_sync = 2


def test_minibatch_stddev_groups_must_not_straddle_replicas():
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.model import build_dcgan

    config = TrainConfig(
        image_size=16, batch_size=12, minibatch_stddev=True, steps_per_epoch=1
    ).resolve()
    # 6 images per replica: a group of 4 would cross into the next replica.
    with pytest.raises(ValueError, match="multiple of 8"):
        build_dcgan(config, strategy=_TwoReplicas())
