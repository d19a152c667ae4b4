"""Generator and discriminator of Radford et al. (2015), sized by image resolution.

Both networks climb the same stride-2 ladder: a square image of side
`start * 2**n`, with `start` in 4..7 and n >= 1, is reached from a `start` x
`start` map in n doublings (28 = 7 * 2**2, 32 = 4 * 2**3, 128 = 4 * 2**5).
"""

import keras
from keras import layers

MIN_START, MAX_START = 4, 7

# Radford et al. §4: "All weights were initialized from a zero-centered Normal
# distribution with standard deviation 0.02."
WEIGHT_STDDEV = 0.02
# pytorch/examples dcgan draws batch-norm scales from N(1, 0.02); the moving
# averages follow its momentum of 0.1 (0.9 in Keras' convention) so that
# inference-mode samples are sensible after a short run.
BATCH_NORM_MOMENTUM = 0.9
# Radford et al. §3: "the slope of the leak was set to 0.2".
LEAK = 0.2
# A 4x4 kernel is divisible by the stride of 2, which avoids the checkerboard
# artifacts of 5x5 transposed convolutions (Odena et al. 2016).
KERNEL_SIZE = 4


def _ladder(image_size: int) -> tuple[int, int]:
    """Returns `(start, doublings)` with `start * 2**doublings == image_size`."""
    for doublings in range(1, 12):
        start, remainder = divmod(image_size, 2**doublings)
        if remainder == 0 and MIN_START <= start <= MAX_START:
            return start, doublings
    sizes = ", ".join(map(str, supported_sizes()))
    raise ValueError(
        f"Image size {image_size} is not reachable by the stride-2 ladder; use a "
        f"size of 4 to 7 times a power of two: {sizes}."
    )


def check_image_size(image_size: int) -> None:
    """Raises `ValueError`, naming the sizes that work, for an unreachable size."""
    _ladder(image_size)


def supported_sizes(limit: int = 256) -> list[int]:
    """Square image sides up to `limit` that both networks can be built for."""
    sizes = set()
    for start in range(MIN_START, MAX_START + 1):
        size = start * 2
        while size <= limit:
            sizes.add(size)
            size *= 2
    return sorted(sizes)


def _check_shape(image_shape) -> tuple[int, int, int]:
    if len(image_shape) != 3 or image_shape[0] != image_shape[1]:
        raise ValueError(
            f"Image shape must be (size, size, channels), got {tuple(image_shape)}."
        )
    if image_shape[2] not in (1, 3):
        raise ValueError(f"Images must have 1 or 3 channels, got {image_shape[2]}.")
    return tuple(int(d) for d in image_shape)


def _init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=WEIGHT_STDDEV)


def _batch_norm(name):
    return layers.BatchNormalization(
        momentum=BATCH_NORM_MOMENTUM,
        gamma_initializer=keras.initializers.RandomNormal(1.0, WEIGHT_STDDEV),
        name=name,
    )


def build_generator(
    image_shape, latent_dim: int = 100, filters: int = 64, name: str = "generator"
) -> keras.Sequential:
    """Builds the DCGAN generator G(z) for square images.

    Radford et al. §3: project z and reshape, then fractionally-strided
    convolutions with batch norm and ReLU, and `tanh` on the output layer,
    which has no batch norm.

    Args:
        image_shape: `(size, size, channels)` of the images to make.
        latent_dim: size of z.
        filters: width of the last hidden block; each block back doubles it.
        name: name of the model.

    Returns:
        A `keras.Sequential` from `(batch, latent_dim)` to images in [-1, 1].

    Raises:
        ValueError: for a size the stride-2 ladder does not reach.
    """
    size, _, channels = _check_shape(image_shape)
    start, doublings = _ladder(size)
    width = filters * 2 ** (doublings - 1)
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(latent_dim,), name="latents"))
    # Bias is left out wherever batch norm follows: its beta does the same job.
    model.add(
        layers.Dense(
            start * start * width,
            use_bias=False,
            kernel_initializer=_init(),
            name="project",
        )
    )
    model.add(layers.Reshape((start, start, width), name="reshape"))
    # (batch, start, start, filters * 2**(doublings - 1))
    model.add(_batch_norm("project_bn"))
    model.add(layers.ReLU(name="project_relu"))
    for block in range(1, doublings):
        width //= 2
        model.add(
            layers.Conv2DTranspose(
                width,
                KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=False,
                kernel_initializer=_init(),
                name=f"block{block}_deconv",
            )
        )
        # (batch, start * 2**block, start * 2**block, width)
        model.add(_batch_norm(f"block{block}_bn"))
        model.add(layers.ReLU(name=f"block{block}_relu"))
    model.add(
        layers.Conv2DTranspose(
            channels,
            KERNEL_SIZE,
            strides=2,
            padding="same",
            kernel_initializer=_init(),
            name="to_image",
        )
    )
    # (batch, size, size, channels); tanh kept in float32 for mixed precision.
    model.add(layers.Activation("tanh", dtype="float32", name="tanh"))
    return model


def build_discriminator(
    image_shape, filters: int = 64, name: str = "discriminator"
) -> keras.Sequential:
    """Builds the DCGAN discriminator D(x), which returns one logit per image.

    Radford et al. §3: strided convolutions instead of pooling, LeakyReLU(0.2)
    everywhere, batch norm on every block but the first, and no hidden fully
    connected layer: the last feature map is flattened into a single logit.

    Args:
        image_shape: `(size, size, channels)` of the images to judge.
        filters: width of the first block; each block after doubles it.
        name: name of the model.

    Returns:
        A `keras.Sequential` from images to logits of shape `(batch, 1)`.

    Raises:
        ValueError: for a size the stride-2 ladder does not reach.
    """
    size, _, channels = _check_shape(image_shape)
    start, doublings = _ladder(size)
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(size, size, channels), name="images"))
    width = filters
    for block in range(1, doublings + 1):
        model.add(
            layers.Conv2D(
                width,
                KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=block == 1,
                kernel_initializer=_init(),
                name=f"block{block}_conv",
            )
        )
        # (batch, size / 2**block, size / 2**block, width)
        if block > 1:
            # Radford et al. §3: no batch norm on the discriminator's input layer.
            model.add(_batch_norm(f"block{block}_bn"))
        model.add(layers.LeakyReLU(negative_slope=LEAK, name=f"block{block}_lrelu"))
        width *= 2
    # (batch, start, start, filters * 2**(doublings - 1))
    model.add(layers.Flatten(name="flatten"))
    model.add(
        layers.Dense(1, kernel_initializer=_init(), dtype="float32", name="logit")
    )
    return model
