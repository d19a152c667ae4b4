"""The GAN losses of Goodfellow et al. (2014), on logits, as DCGAN trains them.

The discriminator minimises binary cross-entropy on real (target 1) and
generated (target 0) images; the generator uses the non-saturating loss,
-log D(G(z)), whose gradient stays strong while D rejects its samples.
"""

from keras import ops


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
