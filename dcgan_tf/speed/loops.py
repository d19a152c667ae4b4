"""The minimal training loop of each backend, the in-repo baseline of `fit`.

The same algorithm as `DCGAN.train_step` on the same Keras networks and
losses (the recipe's options included), with no
`fit`, no metrics and no callbacks: a `tf.function` with two tapes under
TensorFlow, one `jax.jit` stateless step under JAX, eager autograd under
PyTorch. Each module-level builder is backend-specific and says so.
"""

import keras


class MinimalLoop:
    """`step(real_images) -> (d_loss, g_loss)` on a compiled `DCGAN`'s networks.

    Args:
        model: a compiled `DCGAN`; the loop trains its networks and optimisers
            and draws latents from its seed generator, as `fit` would.

    Call `sync()` before reading the model's weights (JAX holds them as
    values between steps).
    """

    def __init__(self, model):
        self.model = model
        backend = keras.backend.backend()
        builders = {
            "tensorflow": _tensorflow_step,
            "jax": _jax_step,
            "torch": _torch_step,
        }
        if backend not in builders:
            raise ValueError(f"No minimal loop for the {backend!r} backend.")
        self.step, self.sync = builders[backend](model)


def _tensorflow_step(model):
    """TensorFlow only: the step as one `tf.function`."""
    import tensorflow as tf

    generator, discriminator = model.generator, model.discriminator

    @tf.function
    def step(real_images):
        latents = model.sample_latents(tf.shape(real_images)[0])
        with tf.GradientTape() as g_tape:
            fake_images = generator(latents, training=True)
            with g_tape.stop_recording():
                # 1. Update D on the real batch and the detached fakes.
                with tf.GradientTape() as d_tape:
                    real_logits = discriminator(real_images, training=True)
                    fake_logits = discriminator(
                        tf.stop_gradient(fake_images), training=True
                    )
                    d_loss = model.d_loss_fn(real_logits, fake_logits)
                weights = discriminator.trainable_variables
                model.d_optimizer.apply(d_tape.gradient(d_loss, weights), weights)
            # 2. Update G through the updated D.
            g_loss = model.g_loss_fn(discriminator(fake_images, training=True))
        weights = generator.trainable_variables
        model.g_optimizer.apply(g_tape.gradient(g_loss, weights), weights)
        return d_loss, g_loss

    return step, lambda: None


def _torch_step(model):
    """PyTorch only: eager autograd over the Keras layers."""
    import torch

    generator, discriminator = model.generator, model.discriminator

    def gradients(loss, weights):
        return torch.autograd.grad(loss, [w.value for w in weights])

    def step(real_images):
        real_images = keras.ops.convert_to_tensor(real_images)
        latents = model.sample_latents(real_images.shape[0])
        fake_images = generator(latents, training=True)
        # 1. Update D on the real batch and the detached fakes.
        real_logits = discriminator(real_images, training=True)
        fake_logits = discriminator(fake_images.detach(), training=True)
        d_loss = model.d_loss_fn(real_logits, fake_logits)
        d_weights = discriminator.trainable_variables
        d_gradients = gradients(d_loss, d_weights)
        with torch.no_grad():
            model.d_optimizer.apply(d_gradients, d_weights)
        # 2. Update G through the updated D.
        g_loss = model.g_loss_fn(discriminator(fake_images, training=True))
        g_weights = generator.trainable_variables
        g_gradients = gradients(g_loss, g_weights)
        with torch.no_grad():
            model.g_optimizer.apply(g_gradients, g_weights)
        return d_loss.detach(), g_loss.detach()

    return step, lambda: None


def _jax_step(model):
    """JAX only: one jitted stateless step; the state lives in a closure."""
    import jax

    generator, discriminator = model.generator, model.discriminator
    seed = model.seed_generator.state
    groups = (
        generator.trainable_variables,
        generator.non_trainable_variables,
        discriminator.trainable_variables,
        discriminator.non_trainable_variables,
        model.g_optimizer.variables,
        model.d_optimizer.variables,
        [seed],
    )

    def pure_step(state, real_images):
        g_weights, g_state, d_weights, d_state, g_slots, d_slots, (seed_value,) = state
        with keras.StatelessScope(state_mapping=[(seed, seed_value)]) as scope:
            latents = model.sample_latents(real_images.shape[0])
        seed_value = scope.get_current_value(seed)

        def generate(g_weights):
            return generator.stateless_call(g_weights, g_state, latents, training=True)

        fake_images, g_backward, g_state = jax.vjp(generate, g_weights, has_aux=True)

        # 1. Update D on the real batch and the fakes, constants here.
        def d_loss_fn(d_weights, d_state):
            real_logits, d_state = discriminator.stateless_call(
                d_weights, d_state, real_images, training=True
            )
            fake_logits, d_state = discriminator.stateless_call(
                d_weights, d_state, fake_images, training=True
            )
            return model.d_loss_fn(real_logits, fake_logits), d_state

        (d_loss, d_state), d_gradients = jax.value_and_grad(d_loss_fn, has_aux=True)(
            d_weights, d_state
        )
        d_weights, d_slots = model.d_optimizer.stateless_apply(
            d_slots, d_gradients, d_weights
        )

        # 2. Update G through the updated D: to the fakes, then through the vjp.
        def g_loss_fn(fake_images, d_state):
            logits, d_state = discriminator.stateless_call(
                d_weights, d_state, fake_images, training=True
            )
            return model.g_loss_fn(logits), d_state

        (g_loss, d_state), fake_gradients = jax.value_and_grad(g_loss_fn, has_aux=True)(
            fake_images, d_state
        )
        (g_gradients,) = g_backward(fake_gradients)
        g_weights, g_slots = model.g_optimizer.stateless_apply(
            g_slots, g_gradients, g_weights
        )
        state = (g_weights, g_state, d_weights, d_state, g_slots, d_slots, [seed_value])
        return state, (d_loss, g_loss)

    jitted = jax.jit(pure_step, donate_argnums=0)

    def copies():
        # The step donates its state: never the variables' own buffers.
        return tuple([jax.numpy.copy(v.value) for v in group] for group in groups)

    holder = {"state": copies()}

    def step(real_images):
        holder["state"], losses = jitted(holder["state"], real_images)
        return losses

    def sync():
        for group, values in zip(groups, holder["state"]):
            for variable, value in zip(group, values):
                variable.assign(value)
        holder["state"] = copies()

    return step, sync
