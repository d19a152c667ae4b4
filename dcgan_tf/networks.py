"""Generator and discriminator of Radford et al. (2015), sized by image resolution.

Both networks climb the same stride-2 ladder: a square image of side
`start * 2**n`, with `start` in 4..7 and n >= 1, is reached from a `start` x
`start` map in n doublings (28 = 7 * 2**2, 32 = 4 * 2**3, 128 = 4 * 2**5).
The cures of DCGAN's artifacts are options of the builders: G's upsampling
(`upsample`) and D's normalisation and minibatch spread (`norm`,
`minibatch_stddev`); their defaults build the paper's networks.
"""

import keras
from keras import layers

from dcgan_tf.config import DISCRIMINATOR_NORMS, UPSAMPLES
from dcgan_tf.layers import ClassStddev, MinibatchStddev, SpectralConv2D, SpectralDense

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
# Odena, Dumoulin and Olah 2016: resize, then a stride-1 convolution, whose
# every output pixel sees the same number of inputs: 3x3, the smallest
# centred kernel (as BigGAN's and SNGAN's up-blocks).
RESIZE_KERNEL_SIZE = 3
# G's upsampling (`UPSAMPLES`): stride-2 transposed convolutions (the paper),
# or a resize of this interpolation followed by a convolution.
INTERPOLATIONS = {
    "transposed": None,
    "resize": "nearest",
    "resize-bilinear": "bilinear",
}


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


# Mirza and Osindero (2014) feed the label beside z; an embedding of 50 is
# what the Keras and PyTorch conditional-GAN examples use, a few times the
# number of classes, and `project` mixes it into every feature map anyway.
LABEL_EMBEDDING_DIM = 50


@keras.saving.register_keras_serializable(package="dcgan_tf")
class LabelEmbedding(layers.Dense):
    """A class's embedding from its one-hot vector, which also names the classes.

    A `Dense` layer without bias on a one-hot vector is an embedding lookup,
    and on a mix of one-hot vectors the same mix of embeddings, which is how
    `dcgan_tf.sampling.interpolate_classes` walks from one class to another.
    The class names sit in this layer's config, so a generator `.keras` file
    alone can be asked for "sneaker". A registered layer rather than the
    model's name (which may not hold "/", as in "T-shirt/top") or a Lambda
    (which `load_model(safe_mode=True)` refuses, as it would run pickled
    code): loading it runs only this class, once `dcgan_tf` is imported.

    Args:
        class_names: the name of each class, in label order.
        units: size of the embedding.
        **kwargs: passed to `keras.layers.Dense`.
    """

    def __init__(self, class_names, units=LABEL_EMBEDDING_DIM, **kwargs):
        kwargs.setdefault("use_bias", False)
        # As PyTorch's nn.Embedding: N(0, 1), so the label enters `project`
        # at the scale of z rather than 50 times weaker at DCGAN's 0.02.
        kwargs.setdefault("kernel_initializer", keras.initializers.RandomNormal(0, 1))
        super().__init__(units, **kwargs)
        self.class_names = tuple(str(name) for name in class_names)

    def get_config(self):
        return {**super().get_config(), "class_names": list(self.class_names)}


def _class_names(num_classes, class_names):
    if class_names is not None:
        class_names = tuple(str(name) for name in class_names)
        if num_classes is not None and num_classes != len(class_names):
            raise ValueError(
                f"num_classes is {num_classes} but {len(class_names)} class names "
                "were given."
            )
        num_classes = len(class_names)
    if num_classes is None:
        return None
    if num_classes < 2:
        raise ValueError(
            f"A conditional model needs 2 classes or more, got {num_classes}."
        )
    return class_names or tuple(str(i) for i in range(num_classes))


def _chain(inputs, layer_list):
    x = inputs
    for layer in layer_list:
        x = layer(x)
    return x


def _upsampling(upsample, width, prefix, use_bias):
    """The layers that double the resolution: one transposed convolution, or
    a resize and a convolution. `prefix` "to_image" names the last ones."""
    last = prefix == "to_image"
    interpolation = INTERPOLATIONS[upsample]
    if interpolation is None:
        return [
            layers.Conv2DTranspose(
                width,
                KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=use_bias,
                kernel_initializer=_init(),
                name=prefix if last else f"{prefix}_deconv",
            )
        ]
    return [
        layers.UpSampling2D(2, interpolation=interpolation, name=f"{prefix}_upsample"),
        layers.Conv2D(
            width,
            RESIZE_KERNEL_SIZE,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=_init(),
            name=prefix if last else f"{prefix}_conv",
        ),
    ]


def build_generator(
    image_shape,
    latent_dim: int = 100,
    filters: int = 64,
    num_classes: int | None = None,
    class_names=None,
    name: str = "generator",
    upsample: str = "transposed",
) -> keras.Model:
    """Builds the DCGAN generator G(z), or G(z, y) with `num_classes`.

    Radford et al. §3: project z and reshape, then fractionally-strided
    convolutions with batch norm and ReLU, and `tanh` on the output layer,
    which has no batch norm. Conditional (Mirza and Osindero 2014): a label
    embedding (`LabelEmbedding`) is concatenated beside z before the
    projection; every layer after it is the unconditional one.

    Args:
        image_shape: `(size, size, channels)` of the images to make.
        latent_dim: size of z.
        filters: width of the last hidden block; each block back doubles it.
        num_classes: number of classes for a conditional generator (None:
            unconditional).
        class_names: the classes' names, in label order (default: "0",
            "1", ...); implies `num_classes`.
        name: name of the model.
        upsample: "transposed" (the paper: stride-2 transposed convolutions
            `blockN_deconv`), or "resize" / "resize-bilinear" (Odena et al.
            2016: nearest-neighbour or bilinear `blockN_upsample`, then a
            3x3 `blockN_conv`; `to_image_upsample` before `to_image`).
            Built-in Keras layers either way.

    Returns:
        Unconditional: a `keras.Sequential` from `(batch, latent_dim)` to
        images in [-1, 1]. Conditional: a functional `keras.Model` from
        `[latents (batch, latent_dim), classes (batch, num_classes)]`, the
        classes one-hot (or mixes of one-hot vectors), to the same images.

    Raises:
        ValueError: for a size the stride-2 ladder does not reach, or an
            unknown `upsample`.
    """
    size, _, channels = _check_shape(image_shape)
    start, doublings = _ladder(size)
    class_names = _class_names(num_classes, class_names)
    if upsample not in UPSAMPLES:
        raise ValueError(
            f"upsample must be one of {', '.join(UPSAMPLES)}, got {upsample!r}."
        )
    width = filters * 2 ** (doublings - 1)
    # Bias is left out wherever batch norm follows: its beta does the same job.
    stack = [
        layers.Dense(
            start * start * width,
            use_bias=False,
            kernel_initializer=_init(),
            name="project",
        ),
        layers.Reshape((start, start, width), name="reshape"),
        # (batch, start, start, filters * 2**(doublings - 1))
        _batch_norm("project_bn"),
        layers.ReLU(name="project_relu"),
    ]
    for block in range(1, doublings):
        width //= 2
        stack += _upsampling(upsample, width, f"block{block}", use_bias=False)
        # (batch, start * 2**block, start * 2**block, width)
        stack.append(_batch_norm(f"block{block}_bn"))
        stack.append(layers.ReLU(name=f"block{block}_relu"))
    stack += _upsampling(upsample, channels, "to_image", use_bias=True)
    # (batch, size, size, channels); tanh kept in float32 for mixed precision.
    stack.append(layers.Activation("tanh", dtype="float32", name="tanh"))
    latents = keras.Input(shape=(latent_dim,), name="latents")
    if class_names is None:
        return keras.Sequential([latents, *stack], name=name)
    classes = keras.Input(shape=(len(class_names),), name="classes")
    embedding = LabelEmbedding(class_names, name="label_embedding")(classes)
    # (batch, latent_dim + LABEL_EMBEDDING_DIM)
    joined = layers.Concatenate(name="latents_and_label")([latents, embedding])
    return keras.Model([latents, classes], _chain(joined, stack), name=name)


def build_discriminator(
    image_shape,
    filters: int = 64,
    num_classes: int | None = None,
    name: str = "discriminator",
    norm: str = "batch",
    minibatch_stddev: bool = False,
) -> keras.Model:
    """Builds the DCGAN discriminator D(x), or D(x, y) with `num_classes`,
    which returns one logit per image.

    Radford et al. §3: strided convolutions instead of pooling, LeakyReLU(0.2)
    everywhere, batch norm on every block but the first, and no hidden fully
    connected layer: the last feature map is flattened into a single logit.

    Conditional: the projection discriminator of Miyato and Koyama (2018),
    logit = psi(phi(x)) + <embed(y), phi(x)>, with phi(x) the flattened
    features and psi the unconditional `logit` layer, plus a term on the
    spread of the features within each class of the batch (`ClassStddev`).
    The projection is chosen over feeding y beside x (concatenated label
    maps), because the projection is what the
    conditional log-likelihood ratio takes when p(y|x) is log-linear in the
    features: D is told to judge "is x a real image of class y" by one inner
    product, not left to learn how to use a label channel; Miyato and Koyama
    measured it better in both FID and class accuracy (their Table 1).

    Args:
        image_shape: `(size, size, channels)` of the images to judge.
        filters: width of the first block; each block after doubles it.
        num_classes: number of classes for a conditional discriminator.
        name: name of the model.
        norm: "batch" (the paper), "spectral" (Miyato et al. 2018: every
            convolution and dense layer divides its kernel by its largest
            singular value, `dcgan_tf.layers.SpectralConv2D`, and no batch
            norm) or "none" (plain layers with biases).
        minibatch_stddev: append the batch's spread as one more feature map
            before the last block (`dcgan_tf.layers.MinibatchStddev`,
            named `minibatch_stddev`; Karras et al. 2018, §3).

    Returns:
        Unconditional: a `keras.Sequential` from images to logits of shape
        `(batch, 1)`. Conditional: a functional `keras.Model` from
        `[images, classes (batch, num_classes) one-hot]` to the logits.

    Raises:
        ValueError: for a size the stride-2 ladder does not reach, or an
            unknown `norm`.
    """
    size, _, channels = _check_shape(image_shape)
    start, doublings = _ladder(size)
    _class_names(num_classes, None)
    if norm not in DISCRIMINATOR_NORMS:
        raise ValueError(
            f"norm must be one of {', '.join(DISCRIMINATOR_NORMS)}, got {norm!r}."
        )
    conv = SpectralConv2D if norm == "spectral" else layers.Conv2D
    dense = SpectralDense if norm == "spectral" else layers.Dense
    stack = []
    width = filters
    for block in range(1, doublings + 1):
        if minibatch_stddev and block == doublings:
            # (batch, 2 * start, 2 * start, channels + 1)
            stack.append(MinibatchStddev(name="minibatch_stddev"))
        # Radford et al. §3: no batch norm on the discriminator's input layer.
        batch_norm = norm == "batch" and block > 1
        stack.append(
            conv(
                width,
                KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=not batch_norm,
                kernel_initializer=_init(),
                name=f"block{block}_conv",
            )
        )
        # (batch, size / 2**block, size / 2**block, width)
        if batch_norm:
            stack.append(_batch_norm(f"block{block}_bn"))
        stack.append(layers.LeakyReLU(negative_slope=LEAK, name=f"block{block}_lrelu"))
        width *= 2
    # (batch, start, start, filters * 2**(doublings - 1))
    flatten = layers.Flatten(name="flatten")
    logit = dense(1, kernel_initializer=_init(), dtype="float32", name="logit")
    images = keras.Input(shape=(size, size, channels), name="images")
    if num_classes is None:
        return keras.Sequential([images, *stack, flatten, logit], name=name)
    classes = keras.Input(shape=(num_classes,), name="classes")
    features = flatten(_chain(images, stack))  # (batch, start * start * channels)
    # Miyato and Koyama project onto globally pooled features; measured here
    # (Fashion-MNIST, 2 epochs) that drew the wrong garment in 3 of 10 rows,
    # where the flattened features, as wide as psi's input, drew all 10.
    # embed(y): one row per class, as wide as the features (no bias: a
    # one-hot input makes this an embedding lookup).
    embedded = dense(
        features.shape[-1],
        use_bias=False,
        kernel_initializer=_init(),
        name="label_projection",
    )(classes)
    inner = layers.Dot(axes=1, dtype="float32", name="projection")([features, embedded])
    spread = ClassStddev(dtype="float32", name="class_stddev")([features, classes])
    spread_logit = layers.Dense(
        1,
        use_bias=False,
        kernel_initializer=_init(),
        dtype="float32",
        name="class_stddev_logit",
    )(spread)
    logits = layers.Add(dtype="float32", name="logit_and_projection")(
        [logit(features), inner, spread_logit]
    )
    return keras.Model([images, classes], logits, name=name)
