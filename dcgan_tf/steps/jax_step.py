"""The DCGAN train step under JAX: stateless, one G forward.

Keras' JAX trainer passes the model's state as values, `(trainable,
non_trainable, optimizer, metrics)`, and takes the new state back; `DCGAN`
puts both optimisers' variables in the optimizer slot (D's, then G's). The
generator runs once, under `jax.vjp`, so its backward can wait until the
gradient of G's loss with respect to the fakes is known.
"""

import jax
import keras


def _scaled(optimizer, slots, loss):
    # The loss scale of mixed float16 (else 1), read from the carried state;
    # stateless_apply undoes it.
    with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, slots))):
        return optimizer.scale_loss(loss)


class _Values:
    """Values of a flat list of variables, read and written by sub-list."""

    def __init__(self, variables, values):
        self.position = {id(v): i for i, v in enumerate(variables)}
        self.values = list(values)

    def get(self, variables):
        return [self.values[self.position[id(v)]] for v in variables]

    def set(self, variables, values):
        for variable, value in zip(variables, values):
            self.values[self.position[id(variable)]] = value


def _update_ema(model, trainable, non_trainable, g_slots):
    """Moves the averaged generator's values in `non_trainable` toward the
    trained generator's new ones."""
    generator = model.generator
    values = dict(
        zip(
            map(id, generator.trainable_variables),
            trainable.get(generator.trainable_variables),
        )
    )
    values.update(
        zip(
            map(id, generator.non_trainable_variables),
            non_trainable.get(generator.non_trainable_variables),
        )
    )
    slot = [id(v) for v in model.g_optimizer.variables].index(
        id(model.g_optimizer.iterations)
    )
    averages = model.ema_generator.variables
    non_trainable.set(
        averages,
        model.averaged_weights(
            non_trainable.get(averages),
            [values[id(v)] for v in generator.variables],
            g_slots[slot],
        ),
    )


def train_step(model, state, batch):
    """One stateless step of `model` (a `DCGAN`) on a batch (images, or images
    and labels); returns `(logs, state)`."""
    real_images, real_classes = model.split_batch(batch)
    trainable, non_trainable, optimizer_values, metric_values = state
    generator, discriminator = model.generator, model.discriminator
    trainable = _Values(model.trainable_variables, trainable)
    non_trainable = _Values(model.non_trainable_variables, non_trainable)
    d_count = len(model.d_optimizer.variables)
    d_slots, g_slots = optimizer_values[:d_count], optimizer_values[d_count:]
    g_weights = trainable.get(generator.trainable_variables)
    d_weights = trainable.get(discriminator.trainable_variables)
    g_state = non_trainable.get(generator.non_trainable_variables)
    d_state = non_trainable.get(discriminator.non_trainable_variables)

    augment_p = None
    if model.augment == "ada":
        (augment_p,) = non_trainable.get([model.augment_probability])

    count = real_images.shape[0]
    seed = model.seed_generator.state
    with keras.StatelessScope(
        state_mapping=[(seed, non_trainable.get([seed])[0])]
    ) as scope:
        latents = model.sample_latents(count)
        fake_classes = None
        if model.num_classes:
            fake_classes = model.sample_classes(count)
        # Each image D sees gets its own transformation (none when the model
        # does not augment): reals and fakes in D's update, fakes in G's.
        real_params = fake_params = g_params = None
        if model.augment != "none":
            real_params, fake_params, g_params = (
                model.draw_augmentation(count, augment_p) for _ in range(3)
            )
    non_trainable.set([seed], [scope.get_current_value(seed)])

    def generate(g_weights):
        inputs = model.with_classes(latents, fake_classes)
        return generator.stateless_call(g_weights, g_state, inputs, training=True)

    fake_images, g_backward, g_state = jax.vjp(generate, g_weights, has_aux=True)

    # 1. Update D on the real batch and the fakes, which are constants here.
    def d_loss_fn(d_weights, d_state):
        real_logits, d_state = discriminator.stateless_call(
            d_weights,
            d_state,
            model.with_classes(
                model.augment_images(real_images, real_params), real_classes
            ),
            training=True,
        )
        fake_logits, d_state = discriminator.stateless_call(
            d_weights,
            d_state,
            model.with_classes(
                model.augment_images(fake_images, fake_params), fake_classes
            ),
            training=True,
        )
        loss = model.d_loss_fn(real_logits, fake_logits)
        scaled = _scaled(model.d_optimizer, d_slots, loss)
        return scaled, (loss, d_state, real_logits, fake_logits)

    (_, (d_loss, d_state, real_logits, fake_logits)), d_gradients = jax.value_and_grad(
        d_loss_fn, has_aux=True
    )(d_weights, d_state)
    d_weights, d_slots = model.d_optimizer.stateless_apply(
        d_slots, d_gradients, d_weights
    )
    if model.augment == "ada":
        non_trainable.set(
            [model.augment_probability],
            [model.next_augment_probability(augment_p, real_logits)],
        )

    # 2. Update G through the updated D with its loss (non-saturating or
    #    hinge): the gradient reaches the fakes, then G's weights by the vjp.
    def g_loss_fn(fake_images, d_state):
        logits, d_state = discriminator.stateless_call(
            d_weights,
            d_state,
            model.with_classes(
                model.augment_images(fake_images, g_params), fake_classes
            ),
            training=True,
        )
        loss = model.g_loss_fn(logits)
        return _scaled(model.g_optimizer, g_slots, loss), (loss, d_state)

    (_, (g_loss, d_state)), fake_gradients = jax.value_and_grad(
        g_loss_fn, has_aux=True
    )(fake_images, d_state)
    (g_gradients,) = g_backward(fake_gradients)
    g_weights, g_slots = model.g_optimizer.stateless_apply(
        g_slots, g_gradients, g_weights
    )

    metrics = model.metrics_variables
    with keras.StatelessScope(state_mapping=list(zip(metrics, metric_values))) as scope:
        logs = model.update_metrics(d_loss, g_loss, real_logits, fake_logits, augment_p)
    metric_values = [scope.get_current_value(v) for v in metrics]

    trainable.set(generator.trainable_variables, g_weights)
    trainable.set(discriminator.trainable_variables, d_weights)
    non_trainable.set(generator.non_trainable_variables, g_state)
    non_trainable.set(discriminator.non_trainable_variables, d_state)
    if model.ema_generator is not None:
        _update_ema(model, trainable, non_trainable, g_slots)
    state = (trainable.values, non_trainable.values, d_slots + g_slots, metric_values)
    return logs, state
