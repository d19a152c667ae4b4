"""Generator and discriminator of Radford et al. (2015), sized by image resolution.

Both networks climb the same stride-2 ladder: a square image of side
`start * 2**n`, with `start` in 4..7 and n >= 1, is reached from a `start` x
`start` map in n doublings (28 = 7 * 2**2, 32 = 4 * 2**3, 128 = 4 * 2**5).
Read top to bottom: the paper's constants, the ladder, the generator, the
discriminator. The defaults build the paper's networks. A recipe's other
layers (G's upsampling, D's normalisation, layers added before D's last
block) are looked up by name in the three tables below (`UPSAMPLINGS`,
`DISCRIMINATOR_LAYERS`, `DISCRIMINATOR_ADDITIONS`), which each recipe's own
module fills (`dcgan_tf.model.modern`), so that none of them is written here.

It is one file of about 400 lines on purpose: the paper's two networks are
what a tutorial reader comes for, and they read best as the paper and the
Keras and PyTorch tutorials present them, in one place from the constants to
the last layer; split, the ladder and the constants would sit away from the
networks they size.
"""

import dataclasses
from collections.abc import Callable

import keras
from keras import layers

from dcgan_tf.model.layers import ClassStddev

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


def weight_initializer():
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
    `dcgan_tf.sampling.drawing.interpolate_classes` walks from one class to another.
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


def transposed_convolution(width, prefix, use_bias):
    """The paper's upsampling (Radford et al. §3, "fractionally-strided
    convolutions"): one stride-2 transposed convolution, `{prefix}_deconv`,
    or `to_image` for the last."""
    return [
        layers.Conv2DTranspose(
            width,
            KERNEL_SIZE,
            strides=2,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=weight_initializer(),
            name=prefix if prefix == "to_image" else f"{prefix}_deconv",
        )
    ]


@dataclasses.dataclass(frozen=True)
class DiscriminatorLayers:
    """The layer classes of a discriminator's blocks: its convolution, its
    dense layers, and whether batch norm follows the convolutions."""

    convolution: type
    dense: type
    batch_norm: bool


# The recipes' tables, by the name a configuration gives: the paper's entries
# here, the others' in their own modules (`dcgan_tf.model.modern`).
# G's upsampling: `(width, prefix, use_bias)` -> the layers that double the
# resolution, the last named `to_image` when `prefix` is "to_image".
UPSAMPLINGS: dict[str, Callable] = {"transposed": transposed_convolution}
# D's normalisation ("none": plain layers with biases, an ablation).
DISCRIMINATOR_LAYERS: dict[str, DiscriminatorLayers] = {
    "batch": DiscriminatorLayers(layers.Conv2D, layers.Dense, batch_norm=True),
    "none": DiscriminatorLayers(layers.Conv2D, layers.Dense, batch_norm=False),
}
# Layers a recipe adds before D's last block: name -> a function making it.
DISCRIMINATOR_ADDITIONS: dict[str, Callable] = {}


def _choice(table, name, what):
    if name not in table:
        raise ValueError(f"{what} must be one of {', '.join(table)}, got {name!r}.")
    return table[name]


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
    upsampling = _choice(UPSAMPLINGS, upsample, "upsample")
    width = filters * 2 ** (doublings - 1)
    # Bias is left out wherever batch norm follows: its beta does the same job.
    stack = [
        layers.Dense(
            start * start * width,
            use_bias=False,
            kernel_initializer=weight_initializer(),
            name="project",
        ),
        layers.Reshape((start, start, width), name="reshape"),
        # (batch, start, start, filters * 2**(doublings - 1))
        _batch_norm("project_bn"),
        layers.ReLU(name="project_relu"),
    ]
    for block in range(1, doublings):
        width //= 2
        stack += upsampling(width, f"block{block}", use_bias=False)
        # (batch, start * 2**block, start * 2**block, width)
        stack.append(_batch_norm(f"block{block}_bn"))
        stack.append(layers.ReLU(name=f"block{block}_relu"))
    stack += upsampling(channels, "to_image", use_bias=True)
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
            singular value, `dcgan_tf.model.modern`, and no batch
            norm) or "none" (plain layers with biases).
        minibatch_stddev: append the batch's spread as one more feature map
            before the last block (`dcgan_tf.model.modern`,
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
    kinds = _choice(DISCRIMINATOR_LAYERS, norm, "norm")
    conv, dense = kinds.convolution, kinds.dense
    additions = ["minibatch_stddev"] if minibatch_stddev else []
    stack = []
    width = filters
    for block in range(1, doublings + 1):
        if block == doublings:
            # A recipe's additions, e.g. the minibatch stddev's one more map:
            # (batch, 2 * start, 2 * start, width / 2 + 1)
            stack += [DISCRIMINATOR_ADDITIONS[name]() for name in additions]
        # Radford et al. §3: no batch norm on the discriminator's input layer.
        batch_norm = kinds.batch_norm and block > 1
        stack.append(
            conv(
                width,
                KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=not batch_norm,
                kernel_initializer=weight_initializer(),
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
    logit = dense(
        1, kernel_initializer=weight_initializer(), dtype="float32", name="logit"
    )
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
        kernel_initializer=weight_initializer(),
        name="label_projection",
    )(classes)
    inner = layers.Dot(axes=1, dtype="float32", name="projection")([features, embedded])
    spread = ClassStddev(dtype="float32", name="class_stddev")([features, classes])
    spread_logit = layers.Dense(
        1,
        use_bias=False,
        kernel_initializer=weight_initializer(),
        dtype="float32",
        name="class_stddev_logit",
    )(spread)
    logits = layers.Add(dtype="float32", name="logit_and_projection")(
        [logit(features), inner, spread_logit]
    )
    return keras.Model([images, classes], logits, name=name)
