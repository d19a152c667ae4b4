"""The flags the commands share (generator, latent source, seed, the training
configuration's fields) and their checks, each failing in one line."""

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

from dcgan_tf import presets
from dcgan_tf.cli.errors import fail
from dcgan_tf.config import LATENT_DISTRIBUTIONS
from dcgan_tf.sampling import latents as latent_space

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


INDICES_HELP = (
    "Indices of samples in the --from grid as the grid shows them: counted "
    "from 0 along the first row, left to right, then row after row."
)


# Seeds numpy's legacy seeding, Keras' `set_random_seed`, scikit-learn's
# `random_state` and TensorFlow all take: [0, 2**32), as training's --seed.
MAX_SEED = 2**32 - 1


def seed_value(text: str) -> int:
    """The `type` of a `--seed` flag: 0 to `MAX_SEED`, what every random
    generator the commands seed takes (and the `.npz` latents files store)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {seed}")
    if seed > MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"must be at most 2**32 - 1 = {MAX_SEED}, got {seed}; pick a smaller seed"
        )
    return seed


def generator_help(root=None) -> str:
    """The help of a command's generator argument, naming the shipped presets."""
    return (
        "A run directory of dcgan_tf.train (its generator.keras is used), a "
        "generator .keras file, or the name of a shipped preset (shipped: "
        f"{presets.listing(root)}); a run directory or file of that name here "
        "wins."
    )


def locate_generator(
    prog: str, text: str, member: str = presets.GENERATOR, root=None
) -> Path:
    """The path that a command's generator (or discriminator) argument names
    (`dcgan_tf.presets.locate`), said once: the note when a path here wins
    over a preset of its name goes to stderr as `PROG: note: ...`; a name
    that is no path and no preset fails in one line (exit 2)."""

    def note(line):
        print(f"{prog}: note: {line}", file=sys.stderr)

    try:
        return presets.locate(text, root=root, member=member, note=note)
    except presets.PresetError as error:
        fail(prog, str(error))


def add_generator_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the generator path and the options of drawing latents."""
    parser.add_argument("generator", metavar="RUN_OR_FILE", help=generator_help())
    parser.add_argument(
        "--seed",
        type=seed_value,
        default=None,
        help="Seed of the latents; the same seed draws the same samples "
        "(default: a random seed, printed and saved in the .npz).",
    )
    parser.add_argument(
        "--latent-distribution",
        choices=LATENT_DISTRIBUTIONS,
        default=None,
        help="Distribution of the latents (default: the run's config.json, "
        "else normal).",
    )
    parser.add_argument(
        "--forward-batch",
        type=int,
        default=64,
        help="Latents per forward pass of the generator, to bound memory; "
        "the images do not depend on it (default: %(default)s).",
    )


def add_source_arguments(
    parser: argparse.ArgumentParser, from_help: str = "", indices_help: str = ""
) -> None:
    """Adds `--from LATENTS.npz` and `--indices`, to reuse an earlier grid's latents.

    Args:
        parser: the command's parser.
        from_help: what the command does with the file's latents.
        indices_help: what it does with the indices, after `INDICES_HELP`.
    """
    parser.add_argument(
        "--from",
        dest="source",
        metavar="LATENTS.npz",
        default=None,
        help=from_help
        or "Draw the latents of an earlier .npz (from generate, interpolate "
        "or neighbours) instead of new ones.",
    )
    parser.add_argument(
        "--indices",
        type=int,
        nargs="+",
        default=None,
        help=" ".join(filter(None, (INDICES_HELP, indices_help))),
    )


def check_positive(parser: argparse.ArgumentParser, args, *names: str) -> None:
    """Rejects flags below 1 with a one-line error (exit code 2)."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            fail(parser.prog, f"{flag} must be at least 1, got {value}.")


def check_positive_finite(parser: argparse.ArgumentParser, args, *names: str) -> None:
    """Rejects number flags (or lists of them) that are not above 0 and finite,
    in one line: `float` takes `nan` and `inf`, which pass a `<= 0` check."""
    for name in names:
        value = getattr(args, name)
        values = value if isinstance(value, list | tuple) else [value]
        for number in values:
            if number is not None and not (math.isfinite(number) and number > 0):
                flag = "--" + name.replace("_", "-")
                fail(
                    parser.prog,
                    f"{flag} must be positive and finite (a number above 0), "
                    f"got {number}.",
                )


def check_image_path(
    parser: argparse.ArgumentParser, path, flag: str = "--out", suffixes=None
) -> Path:
    """Returns `path` as a Path, or exits if it cannot be written as an image.

    Refuses, before any work is done, a suffix that is not an image format
    (`suffixes`, default .png/.jpg/.jpeg) and a path `check_writable` refuses.
    """
    suffixes = suffixes or IMAGE_SUFFIXES
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        fail(parser.prog, f"{flag} must end in {' or '.join(suffixes)}, got {path}.")
    return check_writable(parser, path, flag)


def check_writable(parser: argparse.ArgumentParser, path, flag: str = "--out"):
    """Returns `path` as a Path, or exits if it plainly cannot be written.

    Catches, before any work is done, a path that is a folder, a folder that
    is a file, and a folder the user may not write into; a write can still
    fail later (a full disk), which `run_command` reports in one line.
    """
    path = Path(path)
    if path.is_dir():
        fail(parser.prog, f"{flag} {path} is a folder; give a file name.")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the writers create the missing folders
    if not folder.is_dir():
        fail(parser.prog, f"{flag} {path}: {folder} is a file, not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(parser.prog, f"{flag} {path}: the folder {folder} is not writable.")
    return path


def check_source(parser: argparse.ArgumentParser, args) -> None:
    """Rejects `--indices` without `--from`, and `--num` with it."""
    if args.source is None and args.indices is not None:
        fail(parser.prog, "--indices needs --from LATENTS.npz to pick from.")
    if args.source is not None and getattr(args, "num", None) is not None:
        fail(
            parser.prog,
            "--num and --from exclude each other: --from draws its latents.",
        )


def chosen_latents(source, indices, latent_dim: int) -> np.ndarray:
    """The latents of the `--from` file, only those at `--indices` if given.

    Raises:
        FileNotFoundError, ValueError: see `latent_space.load_latents` and
            `latent_space.pick`.
    """
    latents = latent_space.load_latents(source, latent_dim)
    return latents if indices is None else latent_space.pick(latents, indices)


def resolve_seed(seed: int | None) -> int:
    """The seed to use: the one given, or a fresh random one to print and save."""
    return int(np.random.default_rng().integers(2**31)) if seed is None else seed


def describe_generator(generator) -> str:
    """One line on a loaded `sampling.Generator`, for the commands to print."""
    height, width, channels = generator.image_shape
    where = f" {generator.path}" if generator.path else ""
    trained = f", trained on {generator.dataset}" if generator.dataset else ""
    return (
        f"Generator{where}: z of {generator.latent_dim} "
        f"({generator.latent_distribution}) -> {height}x{width}x{channels}"
        f"{trained}"
    )


def add_config_arguments(parser: argparse.ArgumentParser, config_class) -> None:
    """Adds one kebab-case flag per field of a configuration dataclass.

    Every flag defaults to None ("not given"), so that presets, resumed runs
    and the commands can tell what the user set; the help shows the field's
    own default and reason. A boolean field `name` gets `--name` and
    `--no-name`.
    """
    import dataclasses

    for field in dataclasses.fields(config_class):
        if field.metadata.get("flag") is False:
            continue  # recorded by the run (such as class_names), not chosen
        help_text = field.metadata["help"]
        if field.type in (bool, bool | None):
            if field.default is not None:
                help_text += f" (default: {'on' if field.default else 'off'})"
            parser.add_argument(
                "--" + field.name.replace("_", "-"),
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
            continue
        kind = next((k for k in (int, float) if field.type in (k, k | None)), str)
        if field.default is not None:
            help_text += f" (default: {field.default})"
        choices = field.metadata.get("choices")
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            type=kind,
            default=None,
            choices=choices,
            # argparse's {a,b} would hide a choice such as "kid,fid".
            metavar="|".join(choices) if choices else None,
            help=help_text,
        )


def config_values(args, config_class) -> dict:
    """The configuration fields given on the command line (not None)."""
    import dataclasses

    return {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(config_class)
        if getattr(args, field.name, None) is not None
    }


def write_output(path, text: str) -> Path:
    """Writes a text output of a command (such as `--json`) atomically.

    Raises:
        WriteError: when it cannot be written, naming the path.
    """
    from dcgan_tf.system.files import write_text

    return write_text(path, text)
