"""The few-shot recipe's self-supervised D (Liu et al. 2021, §3.2): the two
small decoders that rebuild a real image, and a quadrant of it, from D's
8x8 and 16x16 features, and the reconstruction loss on them.

The networks, G with its skip-layer excitation and D with its feature
outputs, are `dcgan_tf.model.fewshot`'s. This module registers the recipe in
`dcgan_tf.model.building.RECIPE_NETWORKS`: `build_dcgan` gives the `DCGAN`
that G, that D and these decoders, which D's optimiser trains with D, and
`self_supervised_loss`, which every train step adds to D's loss on the
augmented real images (`DCGAN.discriminator_loss`).
"""

import keras
from keras import layers, ops

from dcgan_tf.model import building, fewshot
from dcgan_tf.model.fewshot import _fewshot_ladder, _init
from dcgan_tf.model.modern import RESIZE_KERNEL_SIZE
from dcgan_tf.model.networks import LEAK

# The decoders' output side, in start sides (at most half the image, so that
# a quadrant is never enlarged): 32 for 64 and 128 px. Liu et al. rebuild at
# 128 px (half of 256); here a fixed 32 keeps the decoders' cost the same at
# every image size (two doublings from the 8x8 map), and the quadrant of a
# 64-px image is rebuilt at its full resolution.
RECONSTRUCTION_STARTS = 8
# The L1 on an extra thumbnail this many times smaller (8x8 at S = 32): see
# `reconstruction_loss`.
THUMBNAIL_FACTOR = 4
# Liu et al.'s code (train.py, train_d) adds each rebuild's LPIPS to D's
# hinge loss with weight 1, summed over the batch (`.sum()`, batch 8 there),
# beside the hinge's batch mean. The L1 of a blurred rebuild on [-1, 1]
# images is of LPIPS's order (0.1 to 0.5); batch means here keep the weight
# independent of the batch size: 1, to be measured against 8 in the runs.
RECONSTRUCTION_WEIGHT = 1.0


def reconstruction_size(image_shape) -> int:
    """The side S of the decoders' images: 8 starts, at most half the image
    (32 for 64 and 128 px, 16 for 32 px)."""
    size, _, start, _ = _fewshot_ladder(image_shape)
    return min(RECONSTRUCTION_STARTS * start, size // 2)


def _decoder(side, width_in, widths, channels, name):
    features = keras.Input(shape=(side, side, width_in), name="features")
    x = features
    for block, width in enumerate(widths, start=1):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{block}")(x)
        x = layers.Conv2D(
            width,
            RESIZE_KERNEL_SIZE,
            padding="same",
            kernel_initializer=_init(),
            name=f"up{block}_conv",
        )(x)
        x = layers.LeakyReLU(negative_slope=LEAK, name=f"up{block}_lrelu")(x)
    x = layers.Conv2D(
        channels,
        RESIZE_KERNEL_SIZE,
        padding="same",
        kernel_initializer=_init(),
        name="to_image",
    )(x)
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(features, images, name=name)


def build_fewshot_decoders(image_shape, filters: int = 64):
    """Builds D's two decoders (Liu et al. §3.2, "SimpleDecoder").

    Each takes a map of 2 starts (8x8 at 64 and 128 px) through
    nearest-resize 3x3 convolutions (`filters` wide, then half: two at 64
    px and above) to an image of side `reconstruction_size` in [-1, 1]. No
    batch norm, so that the decoders hold only trainable weights (nothing
    for a stateless step to carry). They belong to D: its optimiser trains them.

    Args:
        image_shape: `(size, size, channels)` of D's images.
        filters: D's `filters` (the decoders read its feature widths).

    Returns:
        `(decoder_8, decoder_16)`: `decoder_8` from D's `features_8`,
        `decoder_16` from one quadrant of D's `features_16` (the same side).
    """
    _, channels, start, doublings = _fewshot_ladder(image_shape)
    side = 2 * start
    doublings_out = (reconstruction_size(image_shape) // side).bit_length() - 1
    widths = (filters, max(filters // 2, 1))[:doublings_out]
    decoder_8 = _decoder(
        side, filters * 2 ** (doublings - 2), widths, channels, "decoder_8"
    )
    decoder_16 = _decoder(
        side, filters * 2 ** (doublings - 3), widths, channels, "decoder_16"
    )
    return decoder_8, decoder_16


def _shrink(images, factor):
    """Average pooling by an integer factor (the antialiased resize of a
    ladder size to S, the same on every backend)."""
    if factor == 1:
        return images
    small = images.shape[1] // factor
    blocks = ops.reshape(images, (-1, small, factor, small, factor, images.shape[-1]))
    return ops.mean(blocks, axis=(2, 4))


def quadrant_of(maps, quadrant):
    """One quadrant of `(batch, H, W, C)` maps: 0 top left, 1 top right,
    2 bottom left, 3 bottom right; `quadrant` a scalar int tensor."""
    half = maps.shape[1] // 2
    quadrants = ops.stack(
        [
            maps[:, :half, :half],
            maps[:, :half, half:],
            maps[:, half:, :half],
            maps[:, half:, half:],
        ]
    )  # (4, batch, H / 2, W / 2, C)
    return ops.take(quadrants, ops.cast(quadrant, "int32"), axis=0)


def _l1(rebuilt, target):
    rebuilt = ops.cast(rebuilt, "float32")
    loss = ops.mean(ops.abs(rebuilt - target))
    thumbnail = ops.mean(
        ops.abs(_shrink(rebuilt, THUMBNAIL_FACTOR) - _shrink(target, THUMBNAIL_FACTOR))
    )
    return loss + thumbnail


def reconstruction_loss(
    real_images, features_8, features_16, decoder_8, decoder_16, quadrant
):
    """D's self-supervised loss on real images (Liu et al. §3.2, Eq. 3).

    decoder_8 rebuilds the whole image from `features_8`, decoder_16 the
    `quadrant` of the image from that quadrant of `features_16`, each at
    side S (`reconstruction_size`), against the image average-pooled to S.
    Liu et al. measure the rebuild by LPIPS, whose pretrained weights are not
    to be had offline; this takes L1 on the pixels at S plus L1 on a
    thumbnail `THUMBNAIL_FACTOR` times smaller. The pixel L1 alone is
    dominated by the fine detail that 8x8 features cannot hold at 128 px (its
    optimum is the blur), while LPIPS, which it replaces, weighs layout and
    shapes over exact pixels: the thumbnail term puts that weight on the
    composition and colours, what D must encode of a real image.

    Args:
        real_images: the images D judged as real (after augmentation, as in
            Liu et al.'s code), `(batch, size, size, channels)` in [-1, 1].
        features_8, features_16: D's feature outputs on those images.
        decoder_8, decoder_16: from `build_fewshot_decoders`.
        quadrant: a scalar int tensor in 0..3, drawn per step by the caller
            from a `keras.random.SeedGenerator` (0 top left, 1 top right, 2
            bottom left, 3 bottom right).

    Returns:
        A float32 scalar: the two rebuilds' losses, summed.
    """
    side = decoder_8.output_shape[1]
    real_images = ops.cast(real_images, "float32")
    size = real_images.shape[1]
    whole = _shrink(real_images, size // side)
    part = _shrink(quadrant_of(real_images, quadrant), size // 2 // side)
    loss_8 = _l1(decoder_8(features_8, training=True), whole)
    loss_16 = _l1(decoder_16(quadrant_of(features_16, quadrant), training=True), part)
    return loss_8 + loss_16


def self_supervised_loss(real_images, real_outputs, decoders, quadrant):
    """The term `--recipe fewshot` adds to D's loss (`DCGAN.discriminator_loss`):
    `RECONSTRUCTION_WEIGHT` times `reconstruction_loss`.

    Args:
        real_images: the real images as D saw them (augmented).
        real_outputs: D's `[logits, features_8, features_16]` on them.
        decoders: `(decoder_8, decoder_16)`.
        quadrant: a scalar int tensor in 0..3.
    """
    _, features_8, features_16 = real_outputs
    return RECONSTRUCTION_WEIGHT * reconstruction_loss(
        real_images, features_8, features_16, *decoders, quadrant
    )


def build_fewshot_networks(config, class_names=None):
    """`(generator, discriminator, decoders)` of `--recipe fewshot` from a
    resolved `TrainConfig` (`dcgan_tf.model.building.RECIPE_NETWORKS`).

    Raises:
        ValueError: for class names (the recipe is unconditional) or an
            image size below 8 start sides.
    """
    generator = fewshot.build_fewshot_generator(
        config.image_shape,
        config.latent_dim,
        config.generator_filters,
        class_names=class_names,
    )
    discriminator = fewshot.build_fewshot_discriminator(
        config.image_shape,
        config.discriminator_filters,
        minibatch_stddev=config.minibatch_stddev,
    )
    decoders = build_fewshot_decoders(config.image_shape, config.discriminator_filters)
    return generator, discriminator, decoders


def check_fewshot_size(config) -> None:
    """Raises `ValueError` for an image size below 8 start sides."""
    _fewshot_ladder(config.image_shape)


building.RECIPE_NETWORKS["fewshot"] = building.RecipeNetworks(
    build_fewshot_networks, check_fewshot_size, self_supervised_loss
)
