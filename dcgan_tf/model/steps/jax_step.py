"""The DCGAN train step under JAX: stateless, one G forward.

Keras' JAX trainer passes the model's state as values, `(trainable,
non_trainable, optimizer, metrics)`, and takes the new state back; `DCGAN`
puts both optimisers' variables in the optimizer slot (D's, then G's), and
`_State` reads and writes them by variable. D's weights are its own and,
under the few-shot recipe, its decoders' (`DCGAN.d_trainable_variables`),
which its loss reads through a `StatelessScope`. The generator runs once, under
`jax.vjp`, so its backward can wait until the gradient of G's loss with
respect to the fakes is known.
"""

import contextlib

import jax
import keras


def _scaled(optimizer, slots, loss):
    # The loss scale of mixed float16 (else 1), read from the carried state;
    # stateless_apply undoes it.
    with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, slots))):
        return optimizer.scale_loss(loss)


class _State:
    """The values Keras' JAX trainer carries, read and written by variable."""

    def __init__(self, model, state):
        self.model = model
        trainable, non_trainable, optimizer_values, self.metric_values = state
        variables = model.trainable_variables + model.non_trainable_variables
        self.position = {id(v): i for i, v in enumerate(variables)}
        self.count = len(model.trainable_variables)
        self.values = list(trainable) + list(non_trainable)
        d_count = len(model.d_optimizer.variables)
        self.d_slots = optimizer_values[:d_count]
        self.g_slots = optimizer_values[d_count:]

    def get(self, variables):
        return [self.values[self.position[id(v)]] for v in variables]

    def set(self, variables, values):
        for variable, value in zip(variables, values):
            self.values[self.position[id(variable)]] = value

    def network(self, network):
        """`(weights, state)` of a network, as `stateless_call` takes them."""
        return (
            self.get(network.trainable_variables),
            self.get(network.non_trainable_variables),
        )

    def set_network(self, network, weights, state):
        self.set(network.trainable_variables, weights)
        self.set(network.non_trainable_variables, state)

    def augment_probability(self):
        """ADA's p, or None."""
        probability = self.model.augment_probability
        return None if probability is None else self.get([probability])[0]

    def draw_step(self, count, augment_probability):
        """The model's `draw_step` from the carried seed state."""
        seed = self.model.seed_generator.state
        with keras.StatelessScope(state_mapping=[(seed, self.get([seed])[0])]) as scope:
            draws = self.model.draw_step(count, augment_probability=augment_probability)
        self.set([seed], [scope.get_current_value(seed)])
        return draws

    def update_ema(self):
        """Moves the averaged generator's values toward the trained ones."""
        model = self.model
        slot = [id(v) for v in model.g_optimizer.variables].index(
            id(model.g_optimizer.iterations)
        )
        averages = model.averaged_generator.generator.variables
        new_values = model.averaged_generator.averaged_weights(
            self.get(averages), self.get(model.generator.variables), self.g_slots[slot]
        )
        self.set(averages, new_values)

    def update_metrics(self, *figures):
        """The model's `update_metrics` on the carried metric values."""
        metrics = self.model.metrics_variables
        mapping = list(zip(metrics, self.metric_values))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = self.model.update_metrics(*figures)
        self.metric_values = [scope.get_current_value(v) for v in metrics]
        return logs

    def carried(self):
        """The new state, as the trainer takes it back."""
        return (
            self.values[: self.count],
            self.values[self.count :],
            self.d_slots + self.g_slots,
            self.metric_values,
        )


def train_step(model, state, batch):
    """One stateless step of `model` (a `DCGAN`) on a batch (images, or images
    and labels); returns `(logs, state)`."""
    generator, discriminator = model.generator, model.discriminator
    real_images, real_classes = model.split_batch(batch)
    state = _State(model, state)
    g_weights, g_state = state.network(generator)
    # D's optimiser trains D's weights, then its decoders' (few-shot).
    d_variables = model.d_trainable_variables
    d_count = len(discriminator.trainable_variables)
    decoder_variables = d_variables[d_count:]
    d_params = state.get(d_variables)
    d_state = state.get(discriminator.non_trainable_variables)
    augment_p = state.augment_probability()
    draws = state.draw_step(real_images.shape[0], augment_p)
    fake_classes = draws.fake_classes

    def generate(g_weights):
        inputs = model.generator_input(draws.latents, fake_classes)
        return generator.stateless_call(g_weights, g_state, inputs, training=True)

    fake_images, g_backward, g_state = jax.vjp(generate, g_weights, has_aux=True)

    # 1. Update D on the real batch and the fakes, which are constants here;
    #    the few-shot recipe adds its reconstruction of the reals.
    def d_loss_fn(d_params, d_state):
        d_weights = d_params[:d_count]
        real_input = model.discriminator_input(
            real_images, real_classes, draws.real_augmentation
        )
        real_outputs, d_state = discriminator.stateless_call(
            d_weights, d_state, real_input, training=True
        )
        fake_outputs, d_state = discriminator.stateless_call(
            d_weights,
            d_state,
            model.discriminator_input(
                fake_images, fake_classes, draws.fake_augmentation
            ),
            training=True,
        )
        decoders = list(zip(decoder_variables, d_params[d_count:]))
        scope = keras.StatelessScope(state_mapping=decoders)
        with scope if decoders else contextlib.nullcontext():
            loss, real_logits, fake_logits = model.discriminator_loss(
                real_outputs, fake_outputs, real_input, draws.quadrant
            )
        scaled = _scaled(model.d_optimizer, state.d_slots, loss)
        return scaled, (loss, d_state, real_logits, fake_logits)

    (_, (d_loss, d_state, real_logits, fake_logits)), d_gradients = jax.value_and_grad(
        d_loss_fn, has_aux=True
    )(d_params, d_state)
    d_params, state.d_slots = model.d_optimizer.stateless_apply(
        state.d_slots, d_gradients, d_params
    )
    d_weights = d_params[:d_count]
    if augment_p is not None:
        p = model.augmenter.next_probability(augment_p, real_logits)
        state.set([model.augment_probability], [p])

    # 2. Update G through the updated D with its loss (non-saturating or
    #    hinge): the gradient reaches the fakes, then G's weights by the vjp.
    def g_loss_fn(fake_images, d_state):
        outputs, d_state = discriminator.stateless_call(
            d_weights,
            d_state,
            model.discriminator_input(fake_images, fake_classes, draws.g_augmentation),
            training=True,
        )
        loss = model.g_loss_fn(model.logits(outputs))
        return _scaled(model.g_optimizer, state.g_slots, loss), (loss, d_state)

    (_, (g_loss, d_state)), fake_gradients = jax.value_and_grad(
        g_loss_fn, has_aux=True
    )(fake_images, d_state)
    (g_gradients,) = g_backward(fake_gradients)
    g_weights, state.g_slots = model.g_optimizer.stateless_apply(
        state.g_slots, g_gradients, g_weights
    )

    logs = state.update_metrics(d_loss, g_loss, real_logits, fake_logits, augment_p)
    state.set_network(generator, g_weights, g_state)
    state.set(d_variables, d_params)
    state.set(discriminator.non_trainable_variables, d_state)
    if model.averaged_generator is not None:
        state.update_ema()
    return logs, state.carried()
