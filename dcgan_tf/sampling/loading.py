"""A saved generator: its `.keras` file loaded and checked, the run settings
it was trained with, and the class input it takes.

A saved generator is a plain `.keras` file, usually the `generator.keras` of
a run directory next to its `config.json`, which tells how its latents were
drawn. `load_generator` is the one loader every command uses; drawing from
the `Generator` it returns is `dcgan_tf.sampling.drawing`'s. Reading the
`.keras` file itself, checked (the archive, the geometry, finite weights), is
`dcgan_tf.sampling.model_files`'s.

A conditional generator (Mirza and Osindero 2014) also takes a class:
`resolve_labels` turns a class name, an index, one per sample, or mixes of
one-hot vectors into that input. The class names travel inside the `.keras`
file (`dcgan_tf.model.networks.LabelEmbedding`).
"""

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.sampling.latents import one_hot
from dcgan_tf.sampling.model_files import (  # noqa: F401 (their old home)
    FINITE_CHECK_LATENTS,
    FINITE_CHECK_SEED,
    KERAS_MEMBERS,
    UNPACKED_MARGIN_BYTES,
    UNPACKED_RATIO,
    check_archive,
    check_finite,
    check_generator,
    finite_check_inputs,
    load_model_file,
)

__all__ = [
    "Generator",
    "as_generator",
    "check_dataset_shape",
    "check_finite",
    "check_generator",
    "class_index",
    "class_names_of",
    "load_generator",
    "resolve_labels",
]


@dataclass(frozen=True, eq=False)
class Generator:
    """A loaded generator and what is needed to sample it like in training.

    Attributes:
        model: the Keras model from `(batch, latent_dim)` to images in [-1, 1].
        latent_dim: size of z.
        image_shape: `(height, width, channels)` of the images it makes.
        latent_distribution: `"normal"` or `"uniform"`, from the run's
            `config.json` (`"normal"` when there is none).
        dataset: the data set it was trained on, or `None` if unknown.
        seed: the run's seed, or `None` if unknown.
        path: the `.keras` file it was loaded from, or `None`.
        config: the run's configuration, or `None` outside a run directory.
        class_names: the classes of a conditional generator, in label
            order; `None` for an unconditional one.
    """

    model: keras.Model
    latent_dim: int
    image_shape: tuple[int, int, int]
    latent_distribution: str = "normal"
    dataset: str | None = None
    seed: int | None = None
    path: Path | None = None
    config: TrainConfig | None = None
    class_names: tuple[str, ...] | None = None

    @property
    def num_classes(self) -> int | None:
        return len(self.class_names) if self.class_names else None


def class_names_of(model: keras.Model) -> tuple[str, ...] | None:
    """The classes of a conditional generator, from its `label_embedding`
    layer ("0", "1", ... if it has none); None for an unconditional one."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 2:
        return None
    layer = next((x for x in model.layers if x.name == "label_embedding"), None)
    names = getattr(layer, "class_names", None)
    return tuple(names) if names else tuple(map(str, range(inputs[1].shape[-1])))


def check_dataset_shape(generator: Generator, dataset: str, shape) -> None:
    """Refuses real images of `dataset`, read at the generator's size, whose
    `shape` is not the generator's, naming both as they are.

    Raises:
        ValueError: naming the generator's images, the data set's own
            (`28x28x1`; a folder's channels only) and `--dataset`.
    """
    if tuple(shape) == tuple(generator.image_shape):
        return
    from dcgan_tf.config import PRESETS
    from dcgan_tf.data.classic import CLASSIC  # of one native size

    channels, size = tuple(shape)[-1], PRESETS[dataset]["image_size"]
    own = f"{size}x{size}x{channels}" if dataset in CLASSIC else f"{channels}-channel"
    raise ValueError(
        f"The generator makes {'x'.join(map(str, generator.image_shape))} images "
        f"but {dataset} has {own} images; pass the data set it was trained on "
        "with --dataset."
    )


def load_generator(path: str | Path) -> Generator:
    """Loads a generator from a run directory, a `.keras` file, or a shipped
    preset by name (`load_generator("fashion_mnist")`; see `dcgan_tf.presets`).

    A run directory holds `generator.keras` (the latest epoch) and a
    `config.json` whose `latent_distribution`, `dataset` and `seed` are kept;
    a `.keras` file picks up the `config.json` beside it, if any. A
    conditional generator's class names come from the `.keras` file itself.

    Args:
        path: a run directory of `dcgan_tf.train`, a `.keras` file, or a
            shipped preset's name (a `str`; a path of that name, where this
            runs, wins, with a `dcgan_tf.presets.PresetShadowedWarning`).

    Returns:
        A `Generator`.

    Raises:
        FileNotFoundError: when the path, or a run directory's
            `generator.keras`, does not exist, or a name is neither a path
            nor a shipped preset (`dcgan_tf.presets.PresetError`).
        ValueError: for a file that is not a whole Keras model (weights only,
            truncated, not a zip), a model that is not a generator (such as
            the discriminator), or one whose weights or images are not finite.
        dcgan_tf.rundir.RunDirError: for a `config.json` beside it that
            cannot be read, or a run's `generator.keras` older than the run's
            last completed epoch (a kill cut its write short).
    """
    # Registers LabelEmbedding, which conditional generators are built of.
    import dcgan_tf.model.networks  # noqa: F401

    file = rundir.generator_file(path)
    rundir.check_generator_current(file)
    model = load_model_file(file)
    latent_dim, image_shape = check_generator(model, name=str(file))
    check_finite(model, name=str(file))
    class_names = class_names_of(model)
    config = rundir.config_beside(file)
    if config is None:
        return Generator(
            model, latent_dim, image_shape, path=file, class_names=class_names
        )
    return Generator(
        model=model,
        latent_dim=latent_dim,
        image_shape=image_shape,
        latent_distribution=config.latent_distribution,
        dataset=config.dataset,
        seed=config.seed,
        path=file,
        config=config,
        class_names=class_names,
    )


def as_generator(generator) -> Generator:
    """Wraps a bare Keras generator (N(0, 1) latents); passes a `Generator` on."""
    if isinstance(generator, Generator):
        return generator
    latent_dim, image_shape = check_generator(generator, name=generator.name)
    return Generator(
        generator, latent_dim, image_shape, class_names=class_names_of(generator)
    )


def class_index(generator: Generator, label) -> int:
    """The index of one class, given by name (any case) or index.

    Raises:
        ValueError: for an unconditional generator or a class it does not know.
    """
    names = generator.class_names
    if not names:
        where = f" {generator.path}" if generator.path else ""
        raise ValueError(
            f"The generator{where} is unconditional (trained without classes), so "
            f"it cannot be asked for class {label!r}; train with --conditional."
        )
    if isinstance(label, str) and label not in names:
        lowered = [name.lower() for name in names]
        if label.lower() in lowered:
            return lowered.index(label.lower())
        if label.strip().isdigit():
            label = int(label)
    if isinstance(label, str):
        if label in names:
            return names.index(label)
    elif isinstance(label, int | np.integer) and 0 <= label < len(names):
        return int(label)
    raise ValueError(
        f"Unknown class {label!r}; the generator knows {len(names)}: "
        f"{', '.join(f'{i} {name}' for i, name in enumerate(names))}."
    )


def resolve_labels(generator, labels, shape) -> np.ndarray | None:
    """The class input for latents of leading shape `shape`: float32 one-hot
    (or mixed) vectors `shape + (num_classes,)`, or None when unconditional.

    Args:
        generator: a `Generator` or a Keras generator.
        labels: None (a conditional generator then draws its classes in turn,
            0, 1, 2, ...: every class equally often), one class (a name or an
            index) for all, one class per latent (a sequence of `shape`), or
            class vectors `shape + (num_classes,)` (such as mixes of classes).
        shape: the leading shape of the latents.

    Raises:
        ValueError: for labels given to an unconditional generator, a class
            the generator does not know, or labels of the wrong shape.
    """
    generator = as_generator(generator)
    shape = tuple(shape)
    count = int(np.prod(shape, dtype=np.int64))
    if labels is None:
        if not generator.num_classes:
            return None
        flat = np.arange(count) % generator.num_classes
        return one_hot(flat, generator.num_classes).reshape(shape + (-1,))
    if isinstance(labels, str | int | np.integer):
        index = class_index(generator, labels)
        return one_hot(np.full(shape, index), generator.num_classes)
    array = np.asarray(labels)
    if array.dtype.kind == "f" and array.shape == shape + (generator.num_classes,):
        return array.astype(np.float32)
    if array.shape != shape:
        raise ValueError(
            f"Expected one label per latent, {shape}, or class vectors "
            f"{shape + (generator.num_classes,)}; got labels of shape {array.shape}."
        )
    indices = [class_index(generator, label) for label in array.reshape(-1).tolist()]
    return one_hot(np.reshape(indices, shape), generator.num_classes)
