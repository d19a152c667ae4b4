"""The DCGAN train step, one small module per Keras backend.

Every module runs the same algorithm (see `DCGAN`); they differ only in how
each backend takes gradients: TensorFlow's tapes, JAX's stateless
`value_and_grad` and `vjp`, PyTorch's autograd. The module is imported on
first use, so TensorFlow is never imported under JAX or PyTorch by the model.
"""

import importlib

import keras

MODULES = {
    "tensorflow": "dcgan_tf.model.steps.tensorflow_step",
    "jax": "dcgan_tf.model.steps.jax_step",
    "torch": "dcgan_tf.model.steps.torch_step",
}


def train_step(model, *args):
    """Runs one `DCGAN` train step with the current backend's module.

    Args:
        model: the `DCGAN`.
        *args: what Keras' trainer passes to `train_step`: the batch, or under
            JAX `(state, batch)`.

    Returns:
        The logs, or under JAX `(logs, state)`.

    Raises:
        ValueError: under a backend other than the three above.
    """
    backend = keras.backend.backend()
    if backend not in MODULES:
        raise ValueError(
            f"DCGAN trains under the {', '.join(MODULES)} backends, not {backend!r}; "
            "set KERAS_BACKEND before the first `import keras`."
        )
    return importlib.import_module(MODULES[backend]).train_step(model, *args)
