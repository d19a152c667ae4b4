"""The sub-pixel form computes what `Conv2DTranspose(out, 4, strides=2,
padding="same")` computes, from the same kernel, forward and backward.

Runs on the current backend; the same file runs under each of them:
`KERAS_BACKEND=jax python -m pytest tests/test_subpixel.py` (and torch).
"""

import keras
import numpy as np
import pytest
from keras import ops

from dcgan_tf.model import subpixel

# (input side, in channels, out channels, batch): 1->2 up to 8->16 maps,
# odd channel counts, batches of 1 and 3, and a non-square map.
SHAPES = [
    (1, 5, 3, 1),
    (2, 4, 4, 3),
    (4, 8, 7, 1),
    (4, 3, 1, 3),
    (8, 6, 5, 3),
    ((3, 5), 7, 2, 1),
]
MODES = subpixel.MODES


def _gradients(function, inputs, kernel, weights):
    """(y, d sum(y * weights) / d inputs, ... / d kernel), as numpy."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        inputs, kernel = tf.constant(inputs), tf.constant(kernel)
        with tf.GradientTape() as tape:
            tape.watch([inputs, kernel])
            outputs = function(inputs, kernel)
            loss = tf.reduce_sum(outputs * weights)
        grads = tape.gradient(loss, [inputs, kernel])
    elif backend == "jax":
        import jax

        def loss(x, k):
            outputs = function(x, k)
            return (outputs * weights).sum(), outputs

        (_, outputs), grads = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
            inputs, kernel
        )
    elif backend == "torch":
        import torch

        inputs = torch.tensor(inputs, requires_grad=True)
        kernel = torch.tensor(kernel, requires_grad=True)
        outputs = function(inputs, kernel)
        (outputs * torch.tensor(weights)).sum().backward()
        grads = [inputs.grad, kernel.grad]
        outputs = outputs.detach()
    else:
        pytest.skip(f"no gradient helper for backend {backend}")
    return [ops.convert_to_numpy(t) for t in (outputs, *grads)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("side,cin,cout,batch", SHAPES)
def test_subpixel_equals_conv2d_transpose(mode, side, cin, cout, batch):
    height, width = side if isinstance(side, tuple) else (side, side)
    rng = np.random.default_rng(hash((height, width, cin, cout, batch)) % 2**32)
    layer = keras.layers.Conv2DTranspose(
        cout, 4, strides=2, padding="same", use_bias=False
    )
    inputs = rng.standard_normal((batch, height, width, cin)).astype("float32")
    layer.build(inputs.shape)
    kernel = rng.standard_normal(tuple(layer.kernel.shape)).astype("float32")
    layer.kernel.assign(kernel)
    weights = rng.standard_normal((batch, 2 * height, 2 * width, cout))
    weights = weights.astype("float32")

    def through_layer(x, k):
        # Conv2DTranspose's call, with the kernel passed in so that it
        # can be differentiated alike on every backend.
        return ops.conv_transpose(
            x, k, strides=2, padding="same", data_format="channels_last"
        )

    def through_subpixel(x, k):
        return subpixel.subpixel_conv2d_transpose(x, k, mode)

    # The layer itself computes what `through_layer` computes.
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(inputs)),
        ops.convert_to_numpy(through_layer(inputs, kernel)),
        rtol=0,
        atol=1e-6,
    )
    expected = _gradients(through_layer, inputs, kernel, weights)
    got = _gradients(through_subpixel, inputs, kernel, weights)
    for name, want, have in zip(["y", "dx", "dkernel"], expected, got, strict=True):
        assert have.shape == want.shape, name
        scale = float(np.abs(want).max())
        np.testing.assert_allclose(have, want, rtol=0, atol=1e-5 * scale, err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_transposed_output_is_the_layers_output(mode):
    """With its bias and activation, from the layer's own variables."""
    layer = keras.layers.Conv2DTranspose(
        3,
        4,
        strides=2,
        padding="same",
        activation="tanh",
        bias_initializer=keras.initializers.RandomNormal(0, 1),
    )
    inputs = np.random.default_rng(0).standard_normal((2, 4, 4, 5)).astype("float32")
    expected = ops.convert_to_numpy(layer(inputs))
    assert subpixel.applies_to(layer)
    got = ops.convert_to_numpy(subpixel.transposed_output(layer, inputs, mode))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_applies_only_to_the_papers_transposed_convolution():
    def layer(**changes):
        kwargs = dict(filters=2, kernel_size=4, strides=2, padding="same")
        return keras.layers.Conv2DTranspose(**{**kwargs, **changes})

    assert subpixel.applies_to(layer())
    assert not subpixel.applies_to(layer(kernel_size=5))
    assert not subpixel.applies_to(layer(strides=1))
    assert not subpixel.applies_to(layer(padding="valid"))
    assert not subpixel.applies_to(layer(data_format="channels_first"))
    assert not subpixel.applies_to(keras.layers.Conv2D(2, 4, strides=2))


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="fused, phases"):
        subpixel.subpixel_conv2d_transpose(
            np.zeros((1, 2, 2, 1), "float32"), np.zeros((4, 4, 1, 1), "float32"), "x"
        )


def test_kernel_gradient_is_dense_under_tensorflow():
    """As Conv2DTranspose's: an optimizer gets a plain tensor, not the
    IndexedSlices a gather of the kernel's taps would give."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("IndexedSlices are TensorFlow's")
    import tensorflow as tf

    kernel = tf.Variable(tf.random.normal((4, 4, 3, 2)))
    inputs = tf.random.normal((1, 4, 4, 2))
    for mode in MODES:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(
                subpixel.subpixel_conv2d_transpose(inputs, kernel, mode) ** 2
            )
        assert isinstance(tape.gradient(loss, kernel), tf.Tensor), mode


@pytest.mark.parametrize("mode", MODES)
def test_use_subpixel_keeps_the_generators_weights_config_and_outputs(mode, tmp_path):
    from dcgan_tf.model.networks import build_generator

    generator = build_generator((32, 32, 3), latent_dim=8, filters=8)
    latents = np.random.default_rng(1).standard_normal((3, 8)).astype("float32")
    expected = ops.convert_to_numpy(generator(latents, training=True))
    configs = [layer.get_config() for layer in generator.layers]
    variables = [(v.path, ops.convert_to_numpy(v)) for v in generator.weights]

    switched = subpixel.use_subpixel(generator, mode)

    # to_image (3 channels) keeps the transposed op (MIN_FILTERS).
    assert switched == ["block1_deconv", "block2_deconv"]
    got = ops.convert_to_numpy(generator(latents, training=True))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert [layer.get_config() for layer in generator.layers] == configs
    assert [v.path for v in generator.weights] == [path for path, _ in variables]
    generator.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    assert type(loaded.get_layer("block1_deconv")) is keras.layers.Conv2DTranspose
    assert "call" not in vars(loaded.get_layer("block1_deconv"))
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded(latents, training=True)), got, rtol=0, atol=1e-5
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_training_step_with_subpixel_trains_the_same_weights(mode):
    """The backend's compiled step (a `tf.function`, JAX's stateless jitted
    step, torch's) reads and updates the layers' own kernels."""
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.model import build_dcgan
    from dcgan_tf.speed.loops import MinimalLoop

    config = TrainConfig(
        dataset="fashion_mnist",
        recipe="paper",
        augment="none",
        ema=0.0,
        batch_size=4,
        generator_filters=8,
        discriminator_filters=8,
        latent_dim=8,
        steps_per_epoch=2,
    ).resolve()
    images = np.random.default_rng(2).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    kernels, losses = [], []
    for switch in (False, True):
        keras.utils.set_random_seed(0)
        model = build_dcgan(config)
        initial = ops.convert_to_numpy(
            model.generator.get_layer("block1_deconv").kernel
        )
        if switch:
            assert subpixel.use_subpixel(model.generator, mode) == ["block1_deconv"]
        loop = MinimalLoop(model)
        losses.append([float(v) for v in loop.step(images)])
        loop.step(images)
        loop.sync()
        kernel = model.generator.get_layer("block1_deconv").kernel
        kernels.append(ops.convert_to_numpy(kernel))
        assert not np.allclose(kernels[-1], initial, rtol=0, atol=1e-5)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    # Adam's first steps move each weight by about lr * sign(gradient): a
    # gradient at rounding level may flip a few; all the rest agree.
    assert np.mean(np.abs(kernels[1] - kernels[0]) < 1e-6) > 0.99
