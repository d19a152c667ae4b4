"""The GAN losses on D's logits: DCGAN's, and the hinge loss as a cure.

"nonsaturating" (Goodfellow et al. 2014, as DCGAN trains): the discriminator
minimises binary cross-entropy on real (target 1) and generated (target 0)
images; the generator uses -log D(G(z)), whose gradient stays strong while D
rejects its samples. "hinge" (Lim and Ye 2017; Miyato et al. 2018, whose
Table 2 measured it beside spectral normalisation): D minimises
relu(1 - D(x)) + relu(1 + D(G(z))), G minimises -D(G(z)).
"""

from keras import ops

from dcgan_tf.config import LOSSES


def _bce(targets, logits):
    return ops.mean(ops.binary_crossentropy(targets, logits, from_logits=True))


def discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """Binary cross-entropy of D on a real and a generated batch, summed.

    Args:
        real_logits: D's logits on real images, `(batch, 1)`.
        fake_logits: D's logits on generated images, `(batch, 1)`.
        label_smoothing: one-sided smoothing (Salimans et al. 2016 §3.4): the
            real targets become `1 - label_smoothing`; fake targets stay 0.

    Returns:
        A scalar: mean BCE on the real batch plus mean BCE on the fake batch.
    """
    real_targets = ops.full_like(real_logits, 1.0 - label_smoothing)
    fake_targets = ops.zeros_like(fake_logits)
    return _bce(real_targets, real_logits) + _bce(fake_targets, fake_logits)


def generator_loss(fake_logits):
    """Non-saturating generator loss: mean of -log sigmoid(D(G(z)))."""
    return _bce(ops.ones_like(fake_logits), fake_logits)


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss of D: mean relu(1 - D(x)) plus mean relu(1 + D(G(z))).

    Args:
        real_logits: D's outputs on real images, `(batch, 1)`.
        fake_logits: D's outputs on generated images, `(batch, 1)`.

    Returns:
        A scalar; 0 once every real scores 1 or more and every fake -1 or
        less, so that D stops pushing its margins further.
    """
    real = ops.mean(ops.relu(1.0 - ops.cast(real_logits, "float32")))
    return real + ops.mean(ops.relu(1.0 + ops.cast(fake_logits, "float32")))


def hinge_generator_loss(fake_logits):
    """Generator loss under the hinge loss: mean of -D(G(z))."""
    return -ops.mean(ops.cast(fake_logits, "float32"))


def adversarial_losses(loss: str, label_smoothing=0.0):
    """The pair `(d_loss(real_logits, fake_logits), g_loss(fake_logits))`.

    Args:
        loss: "nonsaturating" or "hinge".
        label_smoothing: one-sided smoothing of the cross-entropy's real
            targets; the hinge loss has no targets, so it must be 0 there.

    Raises:
        ValueError: for an unknown loss, or smoothing with the hinge loss.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}.")
    if loss == "hinge":
        if label_smoothing:
            raise ValueError(
                "label smoothing softens the cross-entropy's real targets; the "
                "hinge loss has none: set label_smoothing to 0."
            )
        return hinge_discriminator_loss, hinge_generator_loss

    def d_loss(real_logits, fake_logits):
        return discriminator_loss(real_logits, fake_logits, label_smoothing)

    return d_loss, generator_loss
