"""The few-shot recipe's networks and loss: FastGAN's two additions to DCGAN.

Liu, Zhu, Song and Elgammal (ICLR 2021), "Towards Faster and Stabilized GAN
Training for High-fidelity Few-shot Image Synthesis": skip-layer excitation
in G (§3.1: a low-resolution map gates the channels of a high-resolution
one) and a self-supervised D (§3.2: small decoders rebuild the real image,
and a crop of it, from D's 8x8 and 16x16 features, a loss on reals only).
Both networks keep the project's stride-2 ladder and widths
(`dcgan_tf.model.networks`), so the recipe costs what the modern one costs at the
same `filters`, plus the excitations and the decoders.

`--recipe fewshot` (issue #30, docs/recipes.md): the decoders, the
reconstruction loss and the recipe's registration in `build_dcgan` are
`dcgan_tf.model.fewshot_loss`'s, which builds on this module (imports run
one way: networks, then this, then fewshot_loss, then building's table).
"""

import keras
from keras import layers

from dcgan_tf.model import networks
from dcgan_tf.model.layers import MinibatchStddev, SpectralConv2D, SpectralDense
from dcgan_tf.model.modern import RESIZE_KERNEL_SIZE
from dcgan_tf.model.networks import (
    KERNEL_SIZE,
    LEAK,
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
# Liu et al. Fig. 3 give G's low-resolution blocks two convolutions each
# ("UpBlockComp"); here every block holds one, as DCGAN's. On the flowers at
# 32 px (modern rates, 4 epochs, issue #30) two convolutions in the 8x8 and
# 16x16 blocks collapsed G to one framed, striped picture with or without the
# reconstruction loss, and one convolution drew varied colour blobs as the
# modern recipe does.
ACTIVATIONS = ("relu", "glu")


# The paper's initialisation and batch norm, as its networks have them.
_init = networks.weight_initializer
_batch_norm = networks._batch_norm


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


def _conv_bn_act(x, width, name, activation):
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
            name=f"{name}_conv{part}",
        )(x)
        branches.append(_batch_norm(f"{name}_bn{part}")(y))
    if activation == "relu":
        return layers.ReLU(name=f"{name}_relu")(branches[0])
    gates = layers.Activation("sigmoid", name=f"{name}_sigmoid")(branches[1])
    return layers.Multiply(name=f"{name}_glu")([branches[0], gates])


def _up_block(x, width, name, activation):
    """Nearest resize, then a 3x3 convolution with batch norm and the
    activation (Odena et al. 2016: no checkerboard)."""
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
    return _conv_bn_act(x, width, name, activation)


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
    hidden map has `filters` channels, each one back twice as many), one
    convolution a block. Every hidden map of side 8 starts
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
        x = _up_block(x, width, f"block{block}", activation)
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
