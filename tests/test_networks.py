import numpy as np
import pytest
from keras import ops

from dcgan_tf.networks import build_discriminator, build_generator, supported_sizes


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
