"""The two things the explorer asks of the Keras backend: a forward pass
compiled once, and the gradient of a distance with respect to the latents.

Like `dcgan_tf.model.steps`, this is the one place that knows the backends apart:
TensorFlow traces one `tf.function` for any batch size and takes gradients
with a tape; JAX jits the model's stateless call (one trace per batch size,
so batches are padded to a power of two) and takes `jax.value_and_grad`;
PyTorch runs eagerly under `no_grad` and takes gradients with autograd.
"""

import keras
import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")


def _check_backend() -> str:
    backend = keras.backend.backend()
    if backend not in BACKENDS:
        raise ValueError(
            f"The explorer runs under the {', '.join(BACKENDS)} backends, not "
            f"{backend!r}; set KERAS_BACKEND before the first `import keras`."
        )
    return backend


def _padded(count: int) -> int:
    """The batch size a JAX trace is made for: the next power of two."""
    return 1 << max(0, int(count) - 1).bit_length()


def compile_forward(model: keras.Model, conditional: bool):
    """A function from numpy latents (and classes) to numpy images.

    Args:
        model: the generator, run in inference mode (batch norm's averages).
        conditional: whether it also takes a class input.

    Returns:
        `forward(latents, classes=None) -> float32 (n, h, w, c)` in [-1, 1].
    """
    backend = _check_backend()

    def inputs(latents, classes):
        return [latents, classes] if conditional else latents

    if backend == "tensorflow":
        import tensorflow as tf

        signature = [tf.TensorSpec((None, model.inputs[0].shape[1]), tf.float32)]
        if conditional:
            signature.append(
                tf.TensorSpec((None, model.inputs[1].shape[1]), tf.float32)
            )

        @tf.function(input_signature=signature, reduce_retracing=True)
        def call(*args):
            return model(list(args) if conditional else args[0], training=False)

        def forward(latents, classes=None):
            args = (latents, classes) if conditional else (latents,)
            return call(*args).numpy().astype(np.float32)

        return forward

    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        @jax.jit
        def call(x):
            images, _ = model.stateless_call(
                trainable, non_trainable, x, training=False
            )
            return images

        def forward(latents, classes=None):
            count = len(latents)
            pad = _padded(count) - count

            def grow(a):
                return np.concatenate([a, np.zeros((pad,) + a.shape[1:], a.dtype)])

            x = inputs(grow(latents), None if classes is None else grow(classes))
            return np.asarray(call(x))[:count].astype(np.float32)

        return forward

    import torch

    def forward(latents, classes=None):
        with torch.no_grad():
            images = model(inputs(latents, classes), training=False)
        return keras.ops.convert_to_numpy(images).astype(np.float32)

    return forward


def value_and_grad(loss):
    """A function giving the value of `loss(latents)` and its gradient, with
    the backend's autodiff, compiled once (a `tf.function`, `jax.jit`).

    Args:
        loss: a function of a backend tensor `(n, latent_dim)`, written with
            `keras.ops` and calls of Keras models in inference mode, returning
            per-latent losses `(n,)`.

    Returns:
        `step(latents) -> (values, gradients)`: from float32 numpy latents
        `(n, latent_dim)` to numpy `(n,)` and `(n, latent_dim)`; the gradient
        is that of the sum, so each row is its own latent's.
    """
    backend = _check_backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def compiled(z):
            with tf.GradientTape() as tape:
                tape.watch(z)
                values = loss(z)
                total = tf.reduce_sum(values)
            return values, tape.gradient(total, z)

        def step(latents):
            values, grad = compiled(tf.constant(latents))
            return values.numpy(), grad.numpy()

        return step
    if backend == "jax":
        import jax

        def total(z):
            values = loss(z)
            return values.sum(), values

        compiled = jax.jit(jax.value_and_grad(total, has_aux=True))

        def step(latents):
            (_, values), grad = compiled(latents)
            return np.asarray(values), np.asarray(grad)

        return step
    import torch

    def step(latents):
        z = torch.tensor(latents, requires_grad=True)
        values = loss(z)
        values.sum().backward()
        return values.detach().cpu().numpy(), z.grad.detach().cpu().numpy()

    return step
