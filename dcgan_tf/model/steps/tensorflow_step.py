"""The DCGAN train step under TensorFlow: two gradient tapes, one G forward.

Under a `tf.distribute` strategy Keras runs this step on every replica with
its share of the global batch. Three things keep the result that of one
device on the whole batch: each replica takes its own slice of the global
batch's latents, losses are divided by the number of replicas before the
gradients are summed across them, and batch norm may use the global batch's
statistics (`DCGAN(sync_batch_norm=True)`).
"""

import contextlib

import tensorflow as tf
from keras import layers

from dcgan_tf.model.distribute import is_multiworker
from dcgan_tf.model.layers import ClassStddev


@contextlib.contextmanager
def _synchronized_batch_norm(models):
    """Makes batch norm (and a conditional D's per-class spread) all-reduce
    its statistics while the step is traced.

    Only the traced graph changes: the layers' saved configuration keeps
    `synchronized=False`, which every backend can load.
    """
    norms = [
        layer
        for model in models
        for layer in model.layers
        if isinstance(layer, (layers.BatchNormalization, ClassStddev))
    ]
    for layer in norms:
        layer.synchronized = True
    try:
        yield
    finally:
        for layer in norms:
            layer.synchronized = False


def _share(draw, local_batch, replica):
    """This replica's slice of a global batch drawn by `draw(count)`.

    Every replica draws the same global batch from the same seed state (the
    seed generator advances alike everywhere), so the replicas' slices are
    the latents (and classes) one device would draw.
    """
    replicas = replica.num_replicas_in_sync
    if replicas == 1:
        return draw(local_batch)
    values = draw(local_batch * replicas)
    values = tf.reshape(values, (replicas, local_batch, values.shape[-1]))
    return tf.gather(values, replica.replica_id_in_sync_group)


def train_step(model, batch):
    """One step of `model` (a `DCGAN`) on a batch (images, or images and
    labels); returns the logs."""
    generator, discriminator = model.generator, model.discriminator
    real_images, real_classes = model.split_batch(batch)
    replica = tf.distribute.get_replica_context()
    replicas = replica.num_replicas_in_sync
    sync = replicas > 1 and model.sync_batch_norm
    with _synchronized_batch_norm([generator, discriminator] if sync else []):
        draws = model.draw_step(
            tf.shape(real_images)[0],
            share=lambda draw, count: _share(draw, count, replica),
        )
        fake_classes = draws.fake_classes
        # G's tape records its forward and, later, D on the fakes; D's tape
        # records only D, so neither holds more than its backward needs.
        with tf.GradientTape() as g_tape:
            fake_images = generator(
                model.generator_input(draws.latents, fake_classes), training=True
            )

            # 1. Update D: ascend log D(x) + log(1 - D(G(z))) (Goodfellow et
            #    al. 2014, Algorithm 1), i.e. descend the two cross-entropies
            #    (or the hinge loss's two margins), the fakes held constant.
            #    The few-shot recipe adds its reconstruction of the reals.
            with g_tape.stop_recording(), tf.GradientTape() as d_tape:
                real_input = model.discriminator_input(
                    real_images, real_classes, draws.real_augmentation
                )
                real_outputs = discriminator(real_input, training=True)
                fake_outputs = discriminator(
                    model.discriminator_input(
                        tf.stop_gradient(fake_images),
                        fake_classes,
                        draws.fake_augmentation,
                    ),
                    training=True,
                )
                d_loss, real_logits, fake_logits = model.discriminator_loss(
                    real_outputs, fake_outputs, real_input, draws.quadrant
                )
                # The optimiser sums the replicas' gradients: scaled losses
                # make that sum the gradient of the global mean. scale_loss:
                # the loss scale of mixed float16 (else 1).
                d_scaled = model.d_optimizer.scale_loss(d_loss / replicas)
            with g_tape.stop_recording():
                d_weights = model.d_trainable_variables  # with any decoders
                model.d_optimizer.apply(d_tape.gradient(d_scaled, d_weights), d_weights)
                augment_p = model.augmenter.adapt(real_logits, replica)  # ADA's p

            # 2. Update G through the updated D with the non-saturating loss,
            #    descending -log D(G(z)) (or the hinge loss's -D(G(z))).
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
            g_scaled = model.g_optimizer.scale_loss(g_loss / replicas)
        g_weights = generator.trainable_variables
        model.g_optimizer.apply(g_tape.gradient(g_scaled, g_weights), g_weights)
        if model.averaged_generator is not None:
            model.averaged_generator.update(
                generator, model.g_optimizer.iterations.value
            )

    logs = model.update_metrics(d_loss, g_loss, real_logits, fake_logits, augment_p)
    if is_multiworker(tf.distribute.get_strategy()):
        # Keras 3 averages fit's logs across workers along axis 0, which
        # fails on scalars (tensorflow/tensorflow#72388): give it rank 1.
        logs = {name: tf.reshape(value, (1,)) for name, value in logs.items()}
    return logs
