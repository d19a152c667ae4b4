import math

import numpy as np
import pytest

from dcgan_tf.model.losses import (
    adversarial_losses,
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
)


def _log_sigmoid(x):
    return -math.log1p(math.exp(-x))


def test_discriminator_loss_matches_hand_computed_cross_entropy():
    real = np.array([[2.0], [-1.0]], dtype="float32")
    fake = np.array([[0.5], [-3.0]], dtype="float32")
    # -log D(x) on reals, -log(1 - D(G(z))) = -log sigmoid(-logit) on fakes.
    expected = -(_log_sigmoid(2.0) + _log_sigmoid(-1.0)) / 2
    expected += -(_log_sigmoid(-0.5) + _log_sigmoid(3.0)) / 2
    assert float(discriminator_loss(real, fake)) == pytest.approx(expected, rel=1e-5)


def test_one_sided_label_smoothing_changes_only_the_real_targets():
    real = np.array([[1.5]], dtype="float32")
    fake = np.array([[0.3]], dtype="float32")
    target = 0.9
    expected_real = -(target * _log_sigmoid(1.5) + (1 - target) * _log_sigmoid(-1.5))
    expected_fake = -_log_sigmoid(-0.3)
    value = float(discriminator_loss(real, fake, label_smoothing=0.1))
    assert value == pytest.approx(expected_real + expected_fake, rel=1e-5)


def test_generator_loss_is_non_saturating():
    fake = np.array([[-4.0], [1.0]], dtype="float32")
    expected = -(_log_sigmoid(-4.0) + _log_sigmoid(1.0)) / 2
    assert float(generator_loss(fake)) == pytest.approx(expected, rel=1e-5)
    # Confidently rejected fakes give a large loss, not a vanishing one.
    assert float(generator_loss(np.array([[-10.0]], dtype="float32"))) > 9.9


def test_hinge_losses_match_hand_computed_margins():
    real = np.array([[2.0], [0.5], [-1.0]], dtype="float32")
    fake = np.array([[-3.0], [0.25], [1.0]], dtype="float32")
    # relu(1 - D(x)): 0, 0.5, 2; relu(1 + D(G(z))): 0, 1.25, 2.
    expected = (0 + 0.5 + 2) / 3 + (0 + 1.25 + 2) / 3
    d_loss, g_loss = adversarial_losses("hinge")
    assert float(d_loss(real, fake)) == pytest.approx(expected, rel=1e-6)
    assert float(hinge_discriminator_loss(real, fake)) == pytest.approx(expected)
    # G: -mean D(G(z)), unbounded, so G keeps pushing past D's margin.
    assert float(g_loss(fake)) == pytest.approx((3.0 - 0.25 - 1.0) / 3, rel=1e-6)
    assert float(hinge_generator_loss(fake)) == pytest.approx((3.0 - 0.25 - 1.0) / 3)


def test_adversarial_losses_pick_the_loss_and_refuse_smoothing_with_hinge():
    real = np.array([[1.5]], dtype="float32")
    fake = np.array([[0.3]], dtype="float32")
    d_loss, g_loss = adversarial_losses("nonsaturating", label_smoothing=0.1)
    assert float(d_loss(real, fake)) == pytest.approx(
        float(discriminator_loss(real, fake, label_smoothing=0.1))
    )
    assert float(g_loss(fake)) == pytest.approx(float(generator_loss(fake)))
    with pytest.raises(ValueError, match="hinge loss has none"):
        adversarial_losses("hinge", label_smoothing=0.1)
    with pytest.raises(ValueError, match="loss must be one of"):
        adversarial_losses("wasserstein")
