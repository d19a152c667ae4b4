"""The averaged generator (Yazici et al. 2019): an exponential moving average
of the generator's weights and batch-norm statistics, which samples while
the trained generator stays in the checkpoints."""

import keras
from keras import ops


class AveragedGeneratorMixin:
    """`DCGAN`'s `ema_generator`: made at construction, moved after each
    generator update (`update_ema`, or `averaged_weights` on JAX's state)."""

    def _init_ema(self, decay):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {decay}.")
        self.ema = float(decay)
        self.ema_generator = None
        if self.ema:
            ema_generator = keras.models.clone_model(self.generator)
            ema_generator.set_weights(self.generator.get_weights())
            # Not trained by gradients: its variables are the model's
            # non-trainable state, updated by `averaged_weights`.
            ema_generator.trainable = False
            self.ema_generator = ema_generator

    @property
    def sampling_generator(self):
        """The generator to sample from: the averaged one when there is one."""
        return self.ema_generator or self.generator

    def averaged_weights(self, ema_values, values, updates):
        """The averaged generator's new values after `updates` generator
        updates: `ema_values` moved toward the trained `values`.

        The decay ramps up as min(ema, (1 + t) / (10 + t)), so the average
        forgets the random initial weights within the first few hundred
        steps instead of over 1 / (1 - ema) of them.
        """
        updates = ops.cast(updates, "float32")
        decay = ops.minimum(self.ema, (1.0 + updates) / (10.0 + updates))
        return [
            average * ops.cast(decay, average.dtype)
            + ops.cast(value, average.dtype) * ops.cast(1.0 - decay, average.dtype)
            for average, value in zip(ema_values, values)
        ]

    def update_ema(self):
        """Moves the averaged generator toward the trained one (TensorFlow,
        PyTorch; the JAX step uses `averaged_weights` on its state)."""
        pairs = list(zip(self.ema_generator.variables, self.generator.variables))
        new_values = self.averaged_weights(
            [average.value for average, _ in pairs],
            [variable.value for _, variable in pairs],
            self.g_optimizer.iterations.value,
        )
        for (average, _), value in zip(pairs, new_values):
            average.assign(value)
