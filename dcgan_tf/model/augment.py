"""Differentiable augmentation of every image the discriminator sees.

On a small data set D memorises the training images and G stops learning.
Transforming every image D sees, real and generated, in both networks'
updates, with transformations G's gradient passes through, keeps D from
memorising without teaching G to draw the transformations: DiffAugment (Zhao
et al. 2020, policy "color,translation,cutout") applies them all to every
image; ADA (Karras et al. 2020) applies each with a probability p that
follows how sure D is on real images (`ada_probability`).

The random draws and the transformations are split: `draw` turns uniform
numbers into one row of parameters per image (so a `tf.distribute` replica
can take its rows of the global batch, as it does for latents), and `apply`
is a pure function of the images and those rows, written in `keras.ops` so
that the three backends run the same code.
"""

import keras
from keras import ops

from dcgan_tf.config import AUGMENTS

# Zhao et al. 2020 (DiffAugment's reference code): shifts up to 1/8 of the
# side, a cut-out square of half the side.
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5
# The columns of a parameter row, each the identity when the transformation
# is not applied: brightness 0, saturation 1, contrast 1, no shift, no cut-out
# (cut 0), no flip.
COLUMNS = (
    "brightness",
    "saturation",
    "contrast",
    "shift_y",
    "shift_x",
    "cutout_y",
    "cutout_x",
    "cut",
    "flip",
)
IDENTITY = (0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def draw(count, image_size: int, seed, probability=None, flips=False):
    """Draws the transformations of `count` images.

    Args:
        count: the number of images.
        image_size: their side in pixels.
        seed: a `keras.random.SeedGenerator`.
        probability: ADA's p, a scalar tensor: each transformation is applied
            to each image with this probability. None: always (DiffAugment).
        flips: also mirror half of the images left to right (ADA: with
            probability p/2).

    Returns:
        A `(count, len(COLUMNS))` float32 tensor of parameters for `apply`.
    """
    width = len(COLUMNS)
    uniform = keras.random.uniform((count, 2 * width), seed=seed)
    values, gates = uniform[:, :width], uniform[:, width:]
    shift = int(image_size * TRANSLATION_RATIO + 0.5)
    columns = [
        values[:, 0] - 0.5,  # brightness: x + U(-0.5, 0.5)
        values[:, 1] * 2.0,  # saturation: U(0, 2) times the colour
        values[:, 2] + 0.5,  # contrast: U(0.5, 1.5) times the spread
        # integer shifts in [-shift, shift]
        ops.floor(values[:, 3] * (2 * shift + 1)) - shift,
        ops.floor(values[:, 4] * (2 * shift + 1)) - shift,
        # the cut-out square's centre, anywhere in the image
        ops.floor(values[:, 5] * image_size),
        ops.floor(values[:, 6] * image_size),
        ops.ones_like(values[:, 7]),
        ops.cast(values[:, 8] < 0.5, "float32") if flips else 0.0 * values[:, 8],
    ]
    parameters = ops.stack(columns, axis=1)
    if probability is None:
        return parameters
    applied = gates < ops.cast(probability, "float32")
    identity = ops.convert_to_tensor([IDENTITY], "float32")
    return ops.where(applied, parameters, identity)


def _shift_matrix(shifts, size, dtype):
    """`(batch, size, size)` one-hot rows: row i picks pixel i - shift, or
    none (zero padding) past the edge."""
    positions = ops.arange(size, dtype="float32")
    source = positions[None, :, None] - shifts[:, None, None]
    return ops.cast(ops.equal(positions[None, None, :], source), dtype)


def apply(images, parameters):
    """Transforms `images` (batch, height, width, channels) in [-1, 1] by
    `parameters` from `draw`; differentiable with respect to the images."""
    dtype = images.dtype
    size = images.shape[1]
    column = {name: parameters[:, i] for i, name in enumerate(COLUMNS)}

    def per_image(name):
        return ops.cast(ops.reshape(column[name], (-1, 1, 1, 1)), dtype)

    x = ops.where(per_image("flip") > 0.5, ops.flip(images, axis=2), images)
    x = x + per_image("brightness")
    if images.shape[-1] > 1:  # saturation is the identity on grey images
        mean = ops.mean(x, axis=-1, keepdims=True)
        x = (x - mean) * per_image("saturation") + mean
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    x = (x - mean) * per_image("contrast") + mean

    # Integer translation with zero padding, as two one-hot matrix products
    # (exact, differentiable, and the same ops on every backend).
    rows = _shift_matrix(column["shift_y"], size, dtype)
    columns = _shift_matrix(column["shift_x"], size, dtype)
    x = ops.einsum("bih,bhwc->biwc", rows, x)
    x = ops.einsum("bjw,biwc->bijc", columns, x)

    # Cut-out: a square of half the side around the centre drawn above (cut
    # by the edges), set to 0, mid-grey.
    half = int(size * CUTOUT_RATIO)
    positions = ops.arange(size, dtype="float32")
    corner_y = column["cutout_y"] - half // 2
    corner_x = column["cutout_x"] - half // 2
    inside_y = (positions[None] >= corner_y[:, None]) & (
        positions[None] < corner_y[:, None] + half
    )
    inside_x = (positions[None] >= corner_x[:, None]) & (
        positions[None] < corner_x[:, None] + half
    )
    cut = (
        inside_y[:, :, None]
        & inside_x[:, None, :]
        & (column["cut"][:, None, None] > 0.5)
    )
    keep = ops.cast(ops.logical_not(cut), dtype)[..., None]
    return x * keep


def overfitting_measure(real_logits):
    """ADA's r_t = E[sign(D(x))] on the (augmented) real batch: 1 when D
    calls every training image real, 0 when it cannot tell."""
    return ops.mean(ops.sign(ops.cast(real_logits, "float32")))


def ada_probability(probability, measure, batch_size, target, kimg):
    """ADA's new p after a step (Karras et al. 2020, §2.3).

    The overfitting measure (`overfitting_measure`) moves p up when above
    `target` (D too sure of the training images) and down when below, by the
    amount that takes p from 0 to 1 in `kimg` thousand images.
    """
    step = ops.cast(batch_size, "float32") / (kimg * 1000.0)
    return ops.clip(probability + ops.sign(measure - target) * step, 0.0, 1.0)


class Augmenter(keras.layers.Layer):
    """The augmentation of every image D sees: a part the `DCGAN` holds, as
    keras-io's gan_ada holds its `AdaptiveAugmenter`.

    Under ADA it owns p, a variable rather than a Python number: part of the
    state JAX carries through the step, of checkpoints, and of a resume
    (replicas average their updates).

    Args:
        kind: "none", "diffaugment" (every image D sees, real and generated,
            in both updates, is transformed) or "ada" (each transformation
            with probability p, steered by `target`).
        flips: also mirror images left to right.
        target: ADA's target for E[sign(D(x))] on real images (Karras et al.
            2020 use 0.6).
        kimg: thousands of images over which p can go from 0 to 1.
    """

    def __init__(self, kind="none", flips=False, target=0.6, kimg=100, **kwargs):
        super().__init__(name=kwargs.pop("name", "augmenter"), **kwargs)
        if kind not in AUGMENTS:
            raise ValueError(
                f"augment must be one of {', '.join(AUGMENTS)}, got {kind!r}."
            )
        self.kind = kind
        self.flips = bool(flips)
        self.target = float(target)
        self.kimg = float(kimg)
        self.probability = None
        if kind == "ada":
            self.probability = self.add_weight(
                shape=(),
                initializer="zeros",
                trainable=False,
                aggregation="mean",
                name="augment_probability",
            )
        self.built = True

    @property
    def active(self) -> bool:
        """Whether D's images are transformed at all."""
        return self.kind != "none"

    def draw(self, count, image_size, seed, probability=None):
        """Draws the transformations of `count` images (see `draw`), or None
        when not augmenting; `probability` is ADA's p (default: the
        variable's value)."""
        if not self.active:
            return None
        if self.kind == "ada" and probability is None:
            probability = self.probability.value
        return draw(count, image_size, seed, probability, self.flips)

    def transform(self, images, parameters):
        """`images` as D sees them: transformed by `parameters`, or as they
        are for None."""
        return images if parameters is None else apply(images, parameters)

    def next_probability(self, probability, real_logits, replica=None):
        """ADA's p after a step with D's logits on the augmented real batch;
        under `tf.distribute`, `replica` (the replica context) makes the
        measure that of the global batch, so every replica moves p alike."""
        batch_size = ops.shape(real_logits)[0]
        measure = overfitting_measure(real_logits)
        if replica is not None and replica.num_replicas_in_sync > 1:
            measure = replica.all_reduce("mean", measure)
            batch_size = batch_size * replica.num_replicas_in_sync
        return ada_probability(probability, measure, batch_size, self.target, self.kimg)

    def adapt(self, real_logits, replica=None):
        """Moves p (ADA only) after D's update; returns the p this step's
        transformations used, or None."""
        if self.kind != "ada":
            return None
        used = ops.copy(self.probability.value)
        self.probability.assign(self.next_probability(used, real_logits, replica))
        return used
