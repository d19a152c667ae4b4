"""The DCGAN train step under PyTorch: autograd, one G forward."""

import torch


def _gradients(loss, weights):
    # Only these weights' gradients, returned rather than accumulated in
    # `.grad`, so no zero_grad is needed between the two updates.
    return torch.autograd.grad(loss, [w.value for w in weights])


def train_step(model, batch):
    """One step of `model` (a `DCGAN`) on a batch (images, or images and
    labels); returns the logs."""
    generator, discriminator = model.generator, model.discriminator
    real_images, real_classes = model.split_batch(batch)
    draws = model.draw_step(real_images.shape[0])
    fake_classes = draws.fake_classes
    fake_images = generator(
        model.generator_input(draws.latents, fake_classes), training=True
    )

    # 1. Update D on the real batch and the detached fakes (Goodfellow et al.
    #    2014, Algorithm 1).
    #    The few-shot recipe adds its reconstruction of the reals.
    real_input = model.discriminator_input(
        real_images, real_classes, draws.real_augmentation
    )
    real_outputs = discriminator(real_input, training=True)
    fake_outputs = discriminator(
        model.discriminator_input(
            fake_images.detach(), fake_classes, draws.fake_augmentation
        ),
        training=True,
    )
    d_loss, real_logits, fake_logits = model.discriminator_loss(
        real_outputs, fake_outputs, real_input, draws.quadrant
    )
    d_weights = model.d_trainable_variables  # with any decoders
    # scale_loss: the loss scale of mixed float16 (else 1), undone by apply.
    d_gradients = _gradients(model.d_optimizer.scale_loss(d_loss), d_weights)
    with torch.no_grad():
        model.d_optimizer.apply(d_gradients, d_weights)
        augment_p = model.augmenter.adapt(real_logits)  # ADA's p, else None

    # 2. Update G through the updated D with its loss (non-saturating or hinge).
    g_loss = model.g_loss_fn(
        model.logits(
            discriminator(
                model.discriminator_input(
                    fake_images, fake_classes, draws.g_augmentation
                ),
                training=True,
            )
        )
    )
    g_weights = generator.trainable_variables
    g_gradients = _gradients(model.g_optimizer.scale_loss(g_loss), g_weights)
    with torch.no_grad():
        model.g_optimizer.apply(g_gradients, g_weights)
        if model.averaged_generator is not None:
            model.averaged_generator.update(
                generator, model.g_optimizer.iterations.value
            )
        return model.update_metrics(
            d_loss.detach(),
            g_loss.detach(),
            real_logits.detach(),
            fake_logits.detach(),
            augment_p,
        )
