"""The few-shot recipe's networks and loss: FastGAN's two additions to DCGAN.

Liu, Zhu, Song and Elgammal (ICLR 2021), "Towards Faster and Stabilized GAN
Training for High-fidelity Few-shot Image Synthesis": skip-layer excitation
in G (§3.1: a low-resolution map gates the channels of a high-resolution
one) and a self-supervised D (§3.2: small decoders rebuild the real image,
and a crop of it, from D's 8x8 and 16x16 features, a loss on reals only).
Both networks keep the project's stride-2 ladder and widths
(`dcgan_tf.model.networks`), so the recipe costs what the modern one costs at the
same `filters`, plus the excitations and the decoders.

Not yet a `--recipe`: the networks and the loss are built and tested on every
backend, but the train steps do not add the reconstruction loss yet, so no
run trains them (issue #30).
"""

import keras
from keras import layers, ops

from dcgan_tf.model.layers import MinibatchStddev, SpectralConv2D, SpectralDense
from dcgan_tf.model.modern import RESIZE_KERNEL_SIZE
from dcgan_tf.model.networks import (
    BATCH_NORM_MOMENTUM,
    KERNEL_SIZE,
    LEAK,
    WEIGHT_STDDEV,
    _check_shape,
    _ladder,
)

# Liu et al. §3.1, Eq. 1: the excitation's hidden activation is a
# LeakyReLU of slope 0.1 (their code uses Swish).
EXCITATION_LEAK = 0.1
# Liu et al. §3.1: the low-resolution map is pooled to 4x4, then a 4x4
# valid convolution makes one vector per image.
EXCITATION_POOL = 4
# Liu et al. gate 4 -> 64, 8 -> 128 and 16 -> 256 (16 times) in a 256-px G
# whose last hidden map is the image's size; ours ends at half the size (the
# DCGAN ladder), which at 64 and 128 px holds no map 16 times the 4x4 one
# but the last: 8 times gives 4 -> 32 at 64 px, 4 -> 32 and 8 -> 64 at 128.
EXCITATION_RATIO = 8
# Liu et al. Fig. 3: G's low-resolution blocks hold two convolutions
# ("UpBlockComp"), cheap on maps this small; the wide ones hold one.
TWO_CONVS_UP_TO = 4  # times the start side: 16x16 for 64 and 128 px
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
ACTIVATIONS = ("relu", "glu")


def _init():
    # Radford et al. §4: weights ~ N(0, 0.02).
    return keras.initializers.RandomNormal(mean=0.0, stddev=WEIGHT_STDDEV)


def _batch_norm(name):
    return layers.BatchNormalization(
        momentum=BATCH_NORM_MOMENTUM,
        gamma_initializer=keras.initializers.RandomNormal(1.0, WEIGHT_STDDEV),
        name=name,
    )


def _fewshot_ladder(image_shape):
    """`(size, channels, start, doublings)`; D needs maps of 2 and 4 starts
    below the image, so the ladder must have 3 doublings or more."""
    size, _, channels = _check_shape(image_shape)
    start, doublings = _ladder(size)
    if doublings < 3:
        raise ValueError(
            f"The few-shot recipe needs images of 8 times the start side or more "
            f"(32, 40, 48, 56, 64, ...); got {size}: use --recipe modern."
        )
    return size, channels, start, doublings


def skip_layer_excitation(high, low, name):
    """Gates the channels of `high` by a vector computed from `low` alone.

    Liu et al. §3.1, Eq. 1: y = F(x_low) * x_high, with F an adaptive average
    pool to 4x4, a 4x4 valid convolution, LeakyReLU(0.1), a 1x1 convolution
    and a sigmoid: one gate in (0, 1) per channel and image, the same at
    every position. Built-in layers only, so that a generator holding it
    loads with plain `keras.models.load_model`. A `low` side that 4 does not
    divide (start sides 5 to 7) takes one valid convolution over the whole
    map instead of pool and 4x4 (a learned pooling, a few more weights).

    Args:
        high: the high-resolution map, `(batch, H, W, C)`.
        low: the low-resolution map, `(batch, h, w, c)`.
        name: prefix of the layers' names.

    Returns:
        `(gated, gates)`: `high` times the gates, and the gates
        `(batch, 1, 1, C)`.
    """
    side, width = low.shape[1], high.shape[-1]
    x = low
    kernel = EXCITATION_POOL
    if side % EXCITATION_POOL:
        kernel = side
    elif side > EXCITATION_POOL:
        pool = side // EXCITATION_POOL
        x = layers.AveragePooling2D(pool, name=f"{name}_pool")(x)
        # (batch, 4, 4, c)
    x = layers.Conv2D(width, kernel, kernel_initializer=_init(), name=f"{name}_conv")(x)
    # (batch, 1, 1, C)
    x = layers.LeakyReLU(negative_slope=EXCITATION_LEAK, name=f"{name}_lrelu")(x)
    x = layers.Conv2D(width, 1, kernel_initializer=_init(), name=f"{name}_gate_conv")(x)
    gates = layers.Activation("sigmoid", name=f"{name}_gate")(x)
    return layers.Multiply(name=name)([high, gates]), gates


def _conv_bn_act(x, width, name, activation, suffix=""):
    """A 3x3 convolution, batch norm and the activation. GLU (Dauphin et al.
    2017, as Liu et al.'s G): a second convolution's sigmoid gates the first,
    as two built-in convolutions rather than `Activation("glu")`, whose
    symbolic shape Keras does not halve."""
    branches = []
    for part in ("", "_gate") if activation == "glu" else ("",):
        y = layers.Conv2D(
            width,
            RESIZE_KERNEL_SIZE,
            padding="same",
            use_bias=False,  # batch norm's beta does its job
            kernel_initializer=_init(),
            name=f"{name}_conv{suffix}{part}",
        )(x)
        branches.append(_batch_norm(f"{name}_bn{suffix}{part}")(y))
    if activation == "relu":
        return layers.ReLU(name=f"{name}_relu{suffix}")(branches[0])
    gates = layers.Activation("sigmoid", name=f"{name}_sigmoid{suffix}")(branches[1])
    return layers.Multiply(name=f"{name}_glu{suffix}")([branches[0], gates])


def _up_block(x, width, name, activation, convs):
    """Nearest resize, then `convs` 3x3 convolutions with batch norm and the
    activation (Odena et al. 2016: no checkerboard)."""
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
    for conv in range(1, convs + 1):
        x = _conv_bn_act(x, width, name, activation, "" if conv == 1 else str(conv))
    return x


def build_fewshot_generator(
    image_shape,
    latent_dim: int = 100,
    filters: int = 64,
    class_names=None,
    name: str = "generator",
    activation: str = "relu",
) -> keras.Model:
    """Builds the few-shot generator: DCGAN's resize-convolution G with
    skip-layer excitation (Liu et al. 2021, §3.1).

    z is projected to a `start` x `start` map and doubled to half the image
    size with the widths of `dcgan_tf.model.networks.build_generator` (the last
    hidden map has `filters` channels, each one back twice as many); maps of
    side 16 or less take two convolutions. Every hidden map of side 8 starts
    or more is gated by the map `EXCITATION_RATIO` times smaller (at 128 px:
    4x4 -> 32x32, 8x8 -> 64x64; at 64 px: 4x4 -> 32x32). No noise injection
    (Liu et al.'s code has it; it would be a custom random layer).

    Args:
        image_shape: `(size, size, channels)`, a size of 8 start sides or more.
        latent_dim: size of z.
        filters: width of the last hidden map.
        class_names: must be None: the recipe is unconditional (a conditional
            G needs the projection D, which this D does not have).
        name: name of the model.
        activation: "relu" (DCGAN) or "glu" (Liu et al.: twice the
            convolutions for the same map width; the projection keeps ReLU).

    Returns:
        A functional `keras.Model` from `(batch, latent_dim)` to images in
        [-1, 1], float32; built-in Keras layers only.

    Raises:
        ValueError: for a size the ladder does not reach or below 8 starts,
            class names, or an unknown activation.
    """
    size, channels, start, doublings = _fewshot_ladder(image_shape)
    if class_names is not None:
        raise ValueError(
            "The few-shot recipe is unconditional: leave out the class names."
        )
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}."
        )
    width = filters * 2 ** (doublings - 1)
    latents = keras.Input(shape=(latent_dim,), name="latents")
    x = layers.Dense(
        start * start * width,
        use_bias=False,
        kernel_initializer=_init(),
        name="project",
    )(latents)
    x = layers.Reshape((start, start, width), name="reshape")(x)
    x = _batch_norm("project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    # (batch, start, start, filters * 2**(doublings - 1))
    maps = {start: x}
    for block in range(1, doublings):
        width //= 2
        side = start * 2**block
        convs = 2 if side <= TWO_CONVS_UP_TO * start else 1
        x = _up_block(x, width, f"block{block}", activation, convs)
        # (batch, side, side, width)
        if side >= EXCITATION_RATIO * start:
            x, _ = skip_layer_excitation(
                x, maps[side // EXCITATION_RATIO], f"block{block}_excite"
            )
        maps[side] = x
    x = layers.UpSampling2D(2, interpolation="nearest", name="to_image_upsample")(x)
    x = layers.Conv2D(
        channels,
        RESIZE_KERNEL_SIZE,
        padding="same",
        kernel_initializer=_init(),
        name="to_image",
    )(x)
    # (batch, size, size, channels); tanh kept in float32 for mixed precision.
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(latents, images, name=name)


def build_fewshot_discriminator(
    image_shape,
    filters: int = 64,
    name: str = "discriminator",
    minibatch_stddev: bool = True,
) -> keras.Model:
    """Builds the few-shot D: the modern recipe's spectrally normalised
    DCGAN D, which also hands out its 8x8 and 16x16 features.

    Stride-2 4x4 `SpectralConv2D` blocks with LeakyReLU(0.2), `filters`
    wide and doubling, as `dcgan_tf.model.networks.build_discriminator(norm=
    "spectral")`; the minibatch spread before the last block. The features
    are the block outputs of side 2 and 4 starts (8 and 16 for 64 and 128
    px), which the decoders of `build_fewshot_decoders` rebuild the real
    image from (Liu et al. §3.2). Call it with `training=True` in a train
    step, so that the power iterations advance.

    Args:
        image_shape: `(size, size, channels)`, a size of 8 start sides or more.
        filters: width of the first block.
        name: name of the model.
        minibatch_stddev: append the batch's spread before the last block
            (Karras et al. 2018, §3; as the modern recipe).

    Returns:
        A functional `keras.Model` from images to `[logits (batch, 1) float32,
        features_8 (batch, 2 start, 2 start, filters * 2**(doublings - 2)),
        features_16 (batch, 4 start, 4 start, filters * 2**(doublings - 3))]`.
    """
    size, channels, start, doublings = _fewshot_ladder(image_shape)
    images = keras.Input(shape=(size, size, channels), name="images")
    x, width, features = images, filters, {}
    for block in range(1, doublings + 1):
        if minibatch_stddev and block == doublings:
            x = MinibatchStddev(name="minibatch_stddev")(x)
        x = SpectralConv2D(
            width,
            KERNEL_SIZE,
            strides=2,
            padding="same",
            kernel_initializer=_init(),
            name=f"block{block}_conv",
        )(x)
        x = layers.LeakyReLU(negative_slope=LEAK, name=f"block{block}_lrelu")(x)
        # (batch, size / 2**block, size / 2**block, width)
        features[size // 2**block] = x
        width *= 2
    # (batch, start, start, filters * 2**(doublings - 1))
    x = layers.Flatten(name="flatten")(x)
    logits = SpectralDense(
        1, kernel_initializer=_init(), dtype="float32", name="logit"
    )(x)
    return keras.Model(
        images, [logits, features[2 * start], features[4 * start]], name=name
    )


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
