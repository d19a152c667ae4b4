import keras
import numpy as np
import pytest
from keras import layers, ops

from dcgan_tf.model.layers import MinibatchStddev, SpectralConv2D, SpectralDense
from dcgan_tf.model.networks import (
    build_discriminator,
    build_generator,
    supported_sizes,
)


@pytest.mark.parametrize(
    "image_shape",
    [(28, 28, 1), (32, 32, 3), (64, 64, 3), (128, 128, 3), (16, 16, 1), (40, 40, 3)],
)
def test_shapes_and_ranges_at_every_supported_size(image_shape):
    generator = build_generator(image_shape, latent_dim=8, filters=4)
    discriminator = build_discriminator(image_shape, filters=4)
    latents = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    images = ops.convert_to_numpy(generator(latents, training=False))
    assert images.shape == (3, *image_shape)
    assert images.min() >= -1.0 and images.max() <= 1.0
    logits = ops.convert_to_numpy(discriminator(images, training=False))
    assert logits.shape == (3, 1)


@pytest.mark.parametrize("size", [30, 3, 9, 100, 18])
def test_unsupported_size_names_the_sizes_that_work(size):
    with pytest.raises(ValueError, match=r"28, 32, 40") as info:
        build_generator((size, size, 3))
    assert str(size) in str(info.value)
    with pytest.raises(ValueError, match="stride-2 ladder"):
        build_discriminator((size, size, 3))


def test_non_square_and_bad_channels_are_rejected():
    with pytest.raises(ValueError, match="size, size, channels"):
        build_generator((32, 16, 3))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        build_discriminator((32, 32, 4))


def test_supported_sizes_cover_the_presets():
    assert {28, 32, 64, 128} <= set(supported_sizes())


def test_layers_follow_radford_et_al():
    generator = build_generator((32, 32, 3), latent_dim=8, filters=8)
    names = [layer.name for layer in generator.layers]
    # Projection, then 2 stride-2 blocks with batch norm and ReLU, then to_image.
    assert names == [
        "project",
        "reshape",
        "project_bn",
        "project_relu",
        "block1_deconv",
        "block1_bn",
        "block1_relu",
        "block2_deconv",
        "block2_bn",
        "block2_relu",
        "to_image",
        "tanh",
    ]
    # Widths halve towards the image: 4x4x32 -> 8x8x16 -> 16x16x8 -> 32x32x3.
    assert generator.get_layer("reshape").output.shape[1:] == (4, 4, 32)
    assert generator.get_layer("block2_deconv").output.shape[1:] == (16, 16, 8)
    assert generator.get_layer("block1_deconv").strides == (2, 2)

    discriminator = build_discriminator((32, 32, 3), filters=8)
    names = [layer.name for layer in discriminator.layers]
    # No batch norm on the first block, no pooling, LeakyReLU(0.2), one logit.
    assert names[:2] == ["block1_conv", "block1_lrelu"]
    assert "block2_bn" in names and "block3_bn" in names and "block1_bn" not in names
    assert not any("pool" in name for name in names)
    assert discriminator.get_layer("block1_lrelu").negative_slope == pytest.approx(0.2)
    assert discriminator.get_layer("block3_conv").output.shape[1:] == (4, 4, 32)


def test_weights_are_drawn_from_normal_0_002():
    generator = build_generator((64, 64, 3), filters=32)
    kernel = np.asarray(generator.get_layer("block1_deconv").kernel)
    assert abs(kernel.mean()) < 1e-3
    assert kernel.std() == pytest.approx(0.02, rel=0.05)


# The cures of DCGAN's artifacts (docs/recipes.md).


@pytest.mark.parametrize("upsample", ["resize", "resize-bilinear"])
def test_resize_upsampling_builds_without_transposed_convolutions(upsample):
    generator = build_generator((32, 32, 3), 8, 8, upsample=upsample)
    names = [layer.name for layer in generator.layers]
    assert names[4:7] == ["block1_upsample", "block1_conv", "block1_bn"]
    assert names[-3:] == ["to_image_upsample", "to_image", "tanh"]
    assert not any(isinstance(x, layers.Conv2DTranspose) for x in generator.layers)
    assert generator.get_layer("block2_conv").output.shape[1:] == (16, 16, 8)
    latents = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
    images = ops.convert_to_numpy(generator(latents))
    assert images.shape == (2, 32, 32, 3) and np.abs(images).max() <= 1.0
    with pytest.raises(ValueError, match="upsample must be one of"):
        build_generator((32, 32, 3), upsample="pixelshuffle")


@pytest.mark.parametrize("norm", ["spectral", "none"])
def test_discriminator_without_batch_norm(norm):
    discriminator = build_discriminator((32, 32, 3), 8, norm=norm)
    kinds = {type(layer).__name__ for layer in discriminator.layers}
    assert "BatchNormalization" not in kinds
    convs = [x for x in discriminator.layers if x.name.endswith("_conv")]
    assert len(convs) == 3 and all(x.use_bias for x in convs)
    spectral = norm == "spectral"
    assert all(isinstance(x, SpectralConv2D) == spectral for x in convs)
    assert isinstance(discriminator.get_layer("logit"), SpectralDense) == spectral
    images = np.zeros((3, 32, 32, 3), "float32")
    assert discriminator(images, training=True).shape == (3, 1)
    with pytest.raises(ValueError, match="norm must be one of"):
        build_discriminator((32, 32, 3), norm="layer")


def test_minibatch_stddev_sits_before_the_last_block():
    discriminator = build_discriminator((32, 32, 3), 8, minibatch_stddev=True)
    names = [layer.name for layer in discriminator.layers]
    assert names.index("minibatch_stddev") == names.index("block3_conv") - 1
    # (batch, 8, 8, 16 + 1): one more feature map for the last block.
    assert discriminator.get_layer("minibatch_stddev").output.shape[1:] == (8, 8, 17)


def _largest_singular_value(kernel):
    matrix = np.asarray(kernel, "float64").reshape(-1, kernel.shape[-1])
    return np.linalg.svd(matrix, compute_uv=False)[0]


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_spectral_norm_brings_the_largest_singular_value_to_one(kind):
    keras.utils.set_random_seed(0)
    wide = keras.initializers.RandomNormal(0.0, 0.5)
    if kind == "conv":
        layer = SpectralConv2D(
            16, 4, strides=2, padding="same", kernel_initializer=wide
        )
        inputs = (2, 8, 8, 8)
    else:
        layer, inputs = SpectralDense(16, kernel_initializer=wide), (2, 32)
    x = np.random.default_rng(0).standard_normal(inputs).astype("float32")
    layer(x)
    raw = _largest_singular_value(ops.convert_to_numpy(layer.kernel))
    assert raw > 3.0  # N(0, 0.5) weights: far from 1 before normalising
    u = ops.convert_to_numpy(layer.spectral_u).copy()
    for _ in range(30):  # power iterations, one per training forward pass
        layer(x, training=True)
    assert not np.allclose(ops.convert_to_numpy(layer.spectral_u), u)
    normalized = ops.convert_to_numpy(layer.normalized_kernel())
    assert _largest_singular_value(normalized) == pytest.approx(1.0, abs=0.02)
    # The trainable kernel itself is left as it was.
    assert _largest_singular_value(ops.convert_to_numpy(layer.kernel)) == raw


def test_minibatch_stddev_matches_hand_computed_groups():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 2, 3)).astype("float32")
    out = ops.convert_to_numpy(MinibatchStddev(group_size=4)(x))
    assert out.shape == (6, 2, 2, 4)
    np.testing.assert_array_equal(out[..., :3], x)
    # Consecutive groups of 4, the last one smaller: images 0-3, then 4-5;
    # population standard deviation of each value, averaged.
    for group in (slice(0, 4), slice(4, 6)):
        expected = np.sqrt(x[group].var(axis=0) + 1e-8).mean()
        np.testing.assert_allclose(out[group, ..., 3], expected, rtol=1e-5)
    same = ops.convert_to_numpy(MinibatchStddev()(np.repeat(x[:1], 4, axis=0)))
    assert np.abs(same[..., 3]).max() < 1e-3  # a collapsed batch has no spread
