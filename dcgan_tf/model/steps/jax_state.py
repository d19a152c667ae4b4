"""How `DCGAN` hands its state to Keras' JAX trainer (JAX only; imports no JAX).

Keras' JAX trainer carries the model's state through a stateless step as
(trainable, non-trainable, optimizer, metrics) values, reading the third group
from `self.optimizer`, which `DCGAN` does not have (it has two). The overrides
below put both optimisers' variables there instead, the discriminator's
first; `dcgan_tf.model.steps.jax_step` splits them again.
"""


class JAXStateMixin:
    """Overrides of `keras.Model`'s JAX state plumbing for a two-optimiser model."""

    def _jax_variable_groups(self):
        return {
            "trainable_variables": self.trainable_variables,
            "non_trainable_variables": self.non_trainable_variables,
            "optimizer_variables": self.d_optimizer.variables
            + self.g_optimizer.variables,
            "metrics_variables": self.metrics_variables,
        }

    def _get_jax_state(self, purge_model_variables=False, **wanted):
        groups = self._jax_variable_groups()
        chosen = [name for name in groups if wanted.get(name)]
        state = tuple([v.value for v in groups[name]] for name in chosen)
        if purge_model_variables:
            self._purge_model_variables(**{name: True for name in chosen})
        return state

    def _purge_model_variables(self, **wanted):
        # Frees the variables' own copies while fit holds the state.
        for name, variables in self._jax_variable_groups().items():
            if wanted.get(name):
                for variable in variables:
                    variable._value = None

    def jax_state_sync(self):
        state = getattr(self, "_jax_state", None)
        if not state or self._jax_state_synced:
            return
        for name, variables in self._jax_variable_groups().items():
            for variable, value in zip(variables, state.get(name) or ()):
                variable.assign(value)
        self._jax_state_synced = True
