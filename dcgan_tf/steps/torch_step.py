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
    latents = model.sample_latents(real_images.shape[0])
    fake_classes = None
    if model.num_classes:
        fake_classes = model.sample_classes(real_images.shape[0])
    fake_images = generator(model.with_classes(latents, fake_classes), training=True)
    # Each image D sees gets its own transformation (none when the model does
    # not augment): reals and fakes in D's update, fakes in G's.
    real_params = fake_params = g_params = None
    if model.augment != "none":
        count = real_images.shape[0]
        real_params, fake_params, g_params = (
            model.draw_augmentation(count) for _ in range(3)
        )

    # 1. Update D on the real batch and the detached fakes (Goodfellow et al.
    #    2014, Algorithm 1).
    real_logits = discriminator(
        model.with_classes(
            model.augment_images(real_images, real_params), real_classes
        ),
        training=True,
    )
    fake_logits = discriminator(
        model.with_classes(
            model.augment_images(fake_images.detach(), fake_params), fake_classes
        ),
        training=True,
    )
    d_loss = model.d_loss_fn(real_logits, fake_logits)
    d_weights = discriminator.trainable_variables
    # scale_loss: the loss scale of mixed float16 (else 1), undone by apply.
    d_gradients = _gradients(model.d_optimizer.scale_loss(d_loss), d_weights)
    augment_p = None
    with torch.no_grad():
        model.d_optimizer.apply(d_gradients, d_weights)
        if model.augment == "ada":
            augment_p = model.augment_probability.value.clone()
            model.augment_probability.assign(
                model.next_augment_probability(augment_p, real_logits)
            )

    # 2. Update G through the updated D with its loss (non-saturating or hinge).
    g_loss = model.g_loss_fn(
        discriminator(
            model.with_classes(
                model.augment_images(fake_images, g_params), fake_classes
            ),
            training=True,
        )
    )
    g_weights = generator.trainable_variables
    g_gradients = _gradients(model.g_optimizer.scale_loss(g_loss), g_weights)
    with torch.no_grad():
        model.g_optimizer.apply(g_gradients, g_weights)
        if model.ema_generator is not None:
            model.update_ema()
        return model.update_metrics(
            d_loss.detach(),
            g_loss.detach(),
            real_logits.detach(),
            fake_logits.detach(),
            augment_p,
        )
