"""A saved network's `.keras` file read safely and checked: the archive
before Keras opens it, the model's shape (a generator's geometry), and its
weights and output finite.

Every loader of a saved network reads its file through `load_model_file`;
`dcgan_tf.sampling.loading.load_generator` adds the run's settings. These
names are importable from `dcgan_tf.sampling.loading` too.
"""

import zipfile
from pathlib import Path

import keras
import numpy as np

from dcgan_tf import rundir
from dcgan_tf.sampling.latents import one_hot


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
