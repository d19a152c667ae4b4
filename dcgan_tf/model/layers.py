"""The discriminator's custom layers: spectral normalisation (Miyato et al.
2018) and the minibatch standard deviation (Karras et al. 2018, §3), over
the batch's groups (`MinibatchStddev`) or its classes (`ClassStddev`).

Both are registered Keras layers written in `keras.ops`, so they run under
jit on every backend; they sit only in the discriminator, and the generator
keeps built-in layers that plain `keras.models.load_model` reads.
"""

import keras
from keras import layers, ops

# Miyato et al. 2018, Algorithm 1: one power iteration per forward pass is
# enough, as the weights move little between steps and u is carried over.
POWER_ITERATIONS = 1
# Karras et al. 2018, §3 and their code: groups of 4 images.
STDDEV_GROUP_SIZE = 4
EPSILON = 1e-8


def _normalize(vector):
    return vector / ops.sqrt(ops.sum(vector * vector) + 1e-12)


class _SpectralNorm:
    """The kernel divided by its largest singular value, estimated by power
    iteration with a vector `u` carried in a non-trainable weight.

    The kernel is seen as a matrix W of shape (fan_in, units). In training
    each forward pass takes one power-iteration step, v = W u / |W u|,
    u <- W^T v / |W^T v|, and stores u; sigma = v^T W u with u and v held
    constant, so the gradient reaches W through sigma as in Miyato et al.
    (their Appendix A). In inference sigma = |W u| with the stored u. The
    trainable kernel itself is never overwritten (unlike
    `keras.layers.SpectralNormalization`, which assigns W / sigma into it:
    a write that JAX's stateless step drops, as it returns only
    non-trainable state), and u depends on the weights alone, so every
    replica of a `tf.distribute` strategy computes the same u.
    """

    def _build_u(self, units):
        self.spectral_u = self.add_weight(
            shape=(units,),
            initializer=keras.initializers.RandomNormal(0.0, 1.0),
            trainable=False,
            autocast=False,
            name="spectral_u",
        )

    # Keras' Conv2D and Dense save only their kernel and bias: u goes after.
    def _u_key(self):
        return str(1 + int(self.use_bias))

    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.built:
            store[self._u_key()] = self.spectral_u

    def load_own_variables(self, store):
        super().load_own_variables(store)
        if self.built:
            self.spectral_u.assign(store[self._u_key()])

    def normalized_kernel(self, training=False):
        """The kernel over its estimated spectral norm; in training, also
        one power-iteration step of `spectral_u`."""
        kernel = ops.cast(self.kernel, "float32")
        matrix = ops.reshape(kernel, (-1, kernel.shape[-1]))  # (fan_in, units)
        u = ops.cast(self.spectral_u, "float32")
        if training:
            for _ in range(POWER_ITERATIONS):
                v = _normalize(ops.matmul(matrix, u))
                u = _normalize(ops.matmul(ops.transpose(matrix), v))
            u = ops.stop_gradient(u)
            v = ops.stop_gradient(v)
            self.spectral_u.assign(u)
            sigma = ops.sum(v * ops.matmul(matrix, u))
        else:
            sigma = ops.sqrt(ops.sum(ops.square(ops.matmul(matrix, u))) + 1e-12)
        return ops.cast(kernel / sigma, self.compute_dtype)


@keras.saving.register_keras_serializable(package="dcgan_tf")
class SpectralConv2D(_SpectralNorm, layers.Conv2D):
    """A `Conv2D` whose kernel is spectrally normalised (Miyato et al. 2018).

    Takes `Conv2D`'s arguments; call it with `training=True` while training,
    so that the power iteration advances.
    """

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u(self.filters)

    def call(self, inputs, training=False):
        outputs = self.convolution_op(inputs, self.normalized_kernel(training))
        if self.use_bias:
            outputs = outputs + ops.reshape(self.bias, (1, 1, 1, self.filters))
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package="dcgan_tf")
class SpectralDense(_SpectralNorm, layers.Dense):
    """A `Dense` layer whose kernel is spectrally normalised (see
    `SpectralConv2D`)."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u(self.units)

    def call(self, inputs, training=False):
        outputs = ops.matmul(inputs, self.normalized_kernel(training))
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package="dcgan_tf")
class MinibatchStddev(layers.Layer):
    """Appends the minibatch standard deviation as one more feature map.

    Karras et al. 2018, §3: the batch is cut into groups of `group_size`
    images; in each group, the standard deviation of every feature at every
    position over the group's images, averaged into one number, becomes a
    constant feature map of each of the group's images. A generator that
    draws near-identical images gives its fakes a spread that real batches
    do not have, which D can then see. The conditional discriminator's
    per-class form is `ClassStddev`.

    Groups are consecutive images (Karras et al.'s code strides them
    across the batch), so that under a `tf.distribute` strategy each group
    lies within one replica's share of the batch whenever that share is a
    multiple of `group_size`, and the replicas compute what one device
    computes with no communication. A batch that is not a multiple leaves a
    smaller last group.

    Args:
        group_size: images per group.
        **kwargs: passed to `keras.layers.Layer`.

    Call it on `(batch, height, width, channels)`; it returns
    `(batch, height, width, channels + 1)`.
    """

    def __init__(self, group_size=STDDEV_GROUP_SIZE, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)

    def call(self, inputs):
        features = ops.cast(inputs, "float32")
        count = ops.shape(features)[0]
        groups = ops.arange(count) // self.group_size
        # (batch, batch): 1 where two images share a group.
        together = ops.cast(ops.equal(groups[:, None], groups[None, :]), "float32")
        sizes = ops.sum(together, axis=1, keepdims=True)
        flat = ops.reshape(features, (count, -1))
        deviations = flat - ops.matmul(together, flat) / sizes
        variances = ops.matmul(together, deviations**2) / sizes
        spread = ops.mean(ops.sqrt(variances + EPSILON), axis=1)  # (batch,)
        maps = ops.ones_like(features[..., :1]) * spread[:, None, None, None]
        return ops.concatenate([inputs, ops.cast(maps, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="dcgan_tf")
class ClassStddev(layers.Layer):
    """The spread of a batch's features within each class, per image.

    The minibatch standard deviation of Karras et al. (2018, §3), taken over
    the images of the same class: for each class in the batch, the standard
    deviation of every feature over that class's images, handed to each
    image of that class. Kept per feature rather than averaged to one number
    as Karras et al. do, so that the logit weighs it through as many weights
    as features: Adam moves each weight by about the learning rate per step,
    and a single weight would take thousands of steps to make it count. An unconditional
    DCGAN's discriminator sees a collapsed generator through its batch norm
    (a batch of near-identical fakes has no spread); a conditional batch
    mixes classes, whose differences hide a generator that draws one image
    per class. Measured here without it: the same latent down a grid column
    gave nearly the same garment in every column after 1 epoch.

    Call it on `[features (batch, n), classes (batch, num_classes) one-hot]`;
    it returns `(batch, n)` float32.

    Like batch norm, it sees the whole batch: under a `tf.distribute` strategy
    the TensorFlow train step sets `synchronized` while it traces, so that
    each replica's sums are added up across replicas (the global batch's
    statistics, as one device computes them). Not part of the saved
    configuration.
    """

    synchronized = False

    def _sum(self, value):
        if not self.synchronized:
            return value
        import tensorflow as tf  # only the TensorFlow step sets `synchronized`

        return tf.distribute.get_replica_context().all_reduce("sum", value)

    def call(self, inputs):
        features, classes = (ops.cast(x, "float32") for x in inputs)
        per_class = ops.transpose(classes)  # (C, batch)
        counts = ops.maximum(self._sum(ops.sum(classes, axis=0)), 1.0)[:, None]
        means = self._sum(ops.matmul(per_class, features)) / counts  # (C, n)
        deviations = features - ops.matmul(classes, means)  # (batch, n)
        variances = self._sum(ops.matmul(per_class, deviations**2)) / counts
        return ops.matmul(classes, ops.sqrt(variances + 1e-8))  # (batch, n)

    def compute_output_shape(self, input_shape):
        return input_shape[0]
