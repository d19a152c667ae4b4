"""A saved generator: its `.keras` file loaded and checked, the run settings
it was trained with, and the class input it takes.

A saved generator is a plain `.keras` file, usually the `generator.keras` of
a run directory next to its `config.json`, which tells how its latents were
drawn. `load_generator` is the one loader every command uses; drawing from
the `Generator` it returns is `dcgan_tf.sampling`'s.

A conditional generator (Mirza and Osindero 2014) also takes a class:
`resolve_labels` turns a class name, an index, one per sample, or mixes of
one-hot vectors into that input. The class names travel inside the `.keras`
file (`dcgan_tf.model.networks.LabelEmbedding`).
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.latent_space import one_hot

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


def check_generator(model: keras.Model, name: str = "model") -> tuple[int, tuple]:
    """Checks that a Keras model is a generator and returns its geometry.

    Args:
        model: the model to check.
        name: what to call it in error messages (such as its file name).

    Returns:
        `(latent_dim, (height, width, channels))`.

    Raises:
        ValueError: for anything but one `(None, latent_dim)` input (and,
            conditional, a `(None, num_classes)` one) and one `(None, height,
            width, 1 or 3)` output, naming what it found.
    """
    # Subclassed models may have no symbolic inputs at all.
    inputs = getattr(model, "inputs", None) or []
    outputs = getattr(model, "outputs", None) or []
    conditional = len(inputs) == 2 and len(tuple(inputs[1].shape)) == 2
    if not (len(inputs) == 1 or conditional) or len(outputs) != 1:
        raise ValueError(
            f"{name} is not a generator: it has {len(inputs)} inputs and "
            f"{len(outputs)} outputs, a generator has one of each (or latents "
            "and classes in)."
        )
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    found = f"{in_shape} -> {out_shape}"
    if len(in_shape) == 4 and len(out_shape) == 2:
        raise ValueError(
            f"{name} is a discriminator ({found}), not a generator; pass the "
            f"run's {rundir.GENERATOR}."
        )
    if (
        len(in_shape) != 2
        or in_shape[1] is None
        or len(out_shape) != 4
        or None in out_shape[1:]
        or out_shape[3] not in (1, 3)
    ):
        raise ValueError(
            f"{name} is not a generator: it maps {found}, a generator maps "
            "(None, latent_dim) -> (None, height, width, 1 or 3)."
        )
    return int(in_shape[1]), tuple(int(d) for d in out_shape[1:])


def class_names_of(model: keras.Model) -> tuple[str, ...] | None:
    """The classes of a conditional generator, from its `label_embedding`
    layer ("0", "1", ... if it has none); None for an unconditional one."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 2:
        return None
    layer = next((x for x in model.layers if x.name == "label_embedding"), None)
    names = getattr(layer, "class_names", None)
    return tuple(names) if names else tuple(map(str, range(inputs[1].shape[-1])))


def load_model_file(file: Path, hint: str = "pass a whole model saved as .keras"):
    """The whole Keras model in `file`, or a one-line ValueError saying why not
    and, in `hint`, what to pass instead. Every loader of a saved network
    (generator or discriminator) reads its `.keras` file here.
    """
    if file.name.endswith(".weights.h5"):
        raise ValueError(f"{file} holds weights only; {hint}.")
    if file.suffix != ".keras":
        raise ValueError(f"{file} is not a .keras file or a run directory; {hint}.")
    # Keras reports a truncated or foreign file as "File not found"; say what
    # is wrong instead.
    if not zipfile.is_zipfile(file):
        raise ValueError(
            f"{file} is not a Keras model file (not a zip archive; truncated?); {hint}."
        )
    check_archive(file, hint)
    try:
        # safe_mode stays on: a .keras file from elsewhere must not run code
        # (a Lambda layer's pickled function) just by being loaded.
        return keras.models.load_model(file, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for broken archives.
        lines = str(error).strip().splitlines()
        raise ValueError(
            f"Cannot load {file} as a Keras model: {type(error).__name__}: "
            f"{lines[0] if lines else ''}"
        ) from None


# What Keras puts in a `.keras` archive (saving_lib): the model's config, its
# metadata, then its weights (and assets, which our networks have none of).
KERAS_MEMBERS = ("config.json", "metadata.json")
# Keras stores the members uncompressed, so a model's unpacked size is its
# file's size. Allowed: this many times the file plus a margin, generous for
# a file someone deflated again, tiny beside a zip bomb (a 400 KB archive of
# 1.5 GB of zeros, ratio 3,750, which Keras would unpack into memory).
UNPACKED_RATIO = 20
UNPACKED_MARGIN_BYTES = 16 << 20


def check_archive(file: Path, hint: str) -> None:
    """Refuses a zip archive that is not a `.keras` model's, or that would
    unpack to far more than its size, before Keras reads any of it.

    Raises:
        ValueError: in one line, naming what is missing or the sizes.
    """
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise ValueError(
            f"{file} is not a Keras model file ({error}); {hint}."
        ) from None
    names = {member.filename for member in members}
    missing = [name for name in KERAS_MEMBERS if name not in names]
    if missing or not any(n.startswith("model.weights.") for n in names):
        raise ValueError(
            f"{file} is a zip archive but not a Keras model file (it lacks "
            f"{', '.join(missing) or 'model.weights.h5'}); {hint}."
        )
    unpacked = sum(member.file_size for member in members)
    allowed = UNPACKED_RATIO * file.stat().st_size + UNPACKED_MARGIN_BYTES
    if unpacked > allowed:
        raise ValueError(
            f"{file} would unpack to {unpacked / 2**20:,.0f} MiB from "
            f"{file.stat().st_size / 2**20:,.1f} MiB (a zip bomb?); a Keras model "
            f"file unpacks to about its own size, so it was not opened; {hint}."
        )


def check_finite(model: keras.Model, name: str = "model") -> None:
    """Refuses a generator whose weights or output are not finite.

    A run that diverged can save NaN or infinite weights; its images would be
    junk and its FID a number. One forward pass on z = 0 and a few normal and
    uniform latents (`finite_check_inputs`) also catches finite weights whose
    output overflows, at z = 0 or only away from it.

    Raises:
        ValueError: naming the first non-finite variable, or the output.
    """
    for variable in model.weights:
        if not np.isfinite(keras.ops.convert_to_numpy(variable)).all():
            raise ValueError(
                f"{name} has weights that are not finite (NaN or inf, in "
                f"{variable.path}): its training diverged; use an earlier "
                "generator of the run (generator_best.keras or a "
                "generator_epoch_NNNN.keras)."
            )
    output = model(finite_check_inputs(model), training=False)
    if not np.isfinite(keras.ops.convert_to_numpy(output)).all():
        raise ValueError(
            f"{name} makes images that are not finite (NaN or inf): its training "
            "diverged; use an earlier generator of the run."
        )


# Latents of the finiteness check beside z = 0: a few of each distribution,
# seeded so that the check is the same at every load, and few so that it
# costs one small forward pass.
FINITE_CHECK_LATENTS = 8
FINITE_CHECK_SEED = 0


def finite_check_inputs(model: keras.Model):
    """The inputs `check_finite` runs `model` on: z = 0, then normal and
    uniform latents (the distributions training draws from); a conditional
    generator gets its classes in turn."""
    latent_dim = int(tuple(model.inputs[0].shape)[-1])
    rng = np.random.default_rng(FINITE_CHECK_SEED)
    half = FINITE_CHECK_LATENTS // 2
    latents = np.concatenate(
        [
            np.zeros((1, latent_dim)),
            rng.standard_normal((half, latent_dim)),
            rng.uniform(-1.0, 1.0, (half, latent_dim)),
        ]
    ).astype(np.float32)
    if len(model.inputs) == 1:
        return latents
    num_classes = int(tuple(model.inputs[1].shape)[-1])
    return [latents, one_hot(np.arange(len(latents)) % num_classes, num_classes)]


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
    """Loads a generator from a run directory or a `.keras` file.

    A run directory holds `generator.keras` (the latest epoch) and a
    `config.json` whose `latent_distribution`, `dataset` and `seed` are kept;
    a `.keras` file picks up the `config.json` beside it, if any. A
    conditional generator's class names come from the `.keras` file itself.

    Args:
        path: a run directory of `dcgan_tf.train`, or a `.keras` file.

    Returns:
        A `Generator`.

    Raises:
        FileNotFoundError: when the path, or a run directory's
            `generator.keras`, does not exist.
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
