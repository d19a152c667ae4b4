"""The averaged generator (Yazici et al. 2019): an exponential moving average
of the generator's weights and batch-norm statistics, which samples while
the trained generator stays in the checkpoints."""

import keras
from keras import ops


class AveragedGenerator(keras.layers.Layer):
    """A copy of the generator that follows the trained one: a part the
    `DCGAN` holds, moved after each generator update (`update`, or
    `averaged_weights` on JAX's state).

    Args:
        generator: the trained generator; its copy starts with its weights.
        decay: the average's decay, in (0, 1).
    """

    def __init__(self, generator, decay, **kwargs):
        super().__init__(name=kwargs.pop("name", "averaged_generator"), **kwargs)
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {decay}.")
        self.decay = float(decay)
        generator_copy = keras.models.clone_model(generator)
        generator_copy.set_weights(generator.get_weights())
        # Not trained by gradients: its variables are the model's
        # non-trainable state, updated by `averaged_weights`.
        generator_copy.trainable = False
        self.generator = generator_copy
        self.trainable = False
        self.built = True

    def averaged_weights(self, averages, values, updates):
        """The averaged generator's new values after `updates` generator
        updates: `averages` moved toward the trained `values`.

        The decay ramps up as min(decay, (1 + t) / (10 + t)), so the average
        forgets the random initial weights within the first few hundred
        steps instead of over 1 / (1 - decay) of them.
        """
        updates = ops.cast(updates, "float32")
        decay = ops.minimum(self.decay, (1.0 + updates) / (10.0 + updates))
        return [
            average * ops.cast(decay, average.dtype)
            + ops.cast(value, average.dtype) * ops.cast(1.0 - decay, average.dtype)
            for average, value in zip(averages, values)
        ]

    def update(self, generator, updates):
        """Moves the average toward `generator` after its `updates`-th update
        (TensorFlow, PyTorch; the JAX step uses `averaged_weights`)."""
        pairs = list(zip(self.generator.variables, generator.variables))
        new_values = self.averaged_weights(
            [average.value for average, _ in pairs],
            [variable.value for _, variable in pairs],
            updates,
        )
        for (average, _), value in zip(pairs, new_values):
            average.assign(value)
