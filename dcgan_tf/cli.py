"""The argument helpers the commands share, so that commands never import each other.

Each command's `main()` parses and checks its flags, calls `quiet_tensorflow()`
before anything imports Keras, then runs its body through `run_command`, which
turns the library's expected errors into one line on stderr and exit code 2
(stylegan2-ada's discipline: scripts share one module of helpers). Heavy
modules (TensorFlow, Keras, the generator loader) are imported inside the
functions that need them, so that `--help` and flag errors answer at once.
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from dcgan_tf import latent_space
from dcgan_tf.config import LATENT_DISTRIBUTIONS
from dcgan_tf.files import WriteError
from dcgan_tf.rundir import RunDirError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
INDICES_HELP = (
    "Indices of samples in the --from grid as the grid shows them: counted "
    "from 0 along the first row, left to right, then row after row."
)
# The exit status of a command stopped by Ctrl-C: 128 + SIGINT, as shells do.
INTERRUPTED = 130


def quiet_tensorflow() -> None:
    """Imports TensorFlow and Keras with their C++ start-up messages hidden.

    TensorFlow 2.21 prints absl's "All log messages before
    absl::InitializeLog()", oneDNN's notice, cudart_stub's "Could not find
    cuda drivers" and cuInit errors straight to file descriptor 2, some of
    them before it reads `TF_CPP_MIN_LOG_LEVEL`; so descriptor 2 itself is
    pointed at /dev/null while TensorFlow and Keras are imported and the
    devices listed (which probes CUDA), then restored. Later info messages
    are hidden by `TF_CPP_MIN_LOG_LEVEL=1`; warnings and errors still show.

    Call it before the first import of Keras, TensorFlow or a module that
    imports them (`dcgan_tf.sampling`, `dcgan_tf.data`): messages printed
    before it cannot be taken back. Does nothing when the user set
    `TF_CPP_MIN_LOG_LEVEL` (they chose what to see), when `KERAS_BACKEND` is
    not tensorflow, or when TensorFlow is already imported.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "1"
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import keras  # noqa: F401  (imports TensorFlow, the default backend)
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def show_warnings_in_one_line() -> None:
    """Shows Python warnings as `warning: MESSAGE` on stderr, without source lines."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"warning: {text}", file=file or sys.stderr)

    warnings.showwarning = show


def fail(prog: str, message: str):
    """Prints `PROG: error: MESSAGE` as one line on stderr and exits with 2.

    For bad values and failed work; argparse's usage block is kept for
    mistakes in the flags' syntax.
    """
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)


def _expected_errors() -> tuple:
    errors = [ValueError, OSError, RunDirError, WriteError]
    # DataError is a ValueError today; named in case that changes. Only a
    # command that imported dcgan_tf.data can raise it, so it is looked up
    # rather than imported (which would import TensorFlow for every command).
    data = sys.modules.get("dcgan_tf.data")
    if data is not None and isinstance(getattr(data, "DataError", None), type):
        errors.append(data.DataError)
    return tuple(errors)


# What each backend raises when an allocation fails (numpy's is MemoryError;
# XLA says RESOURCE_EXHAUSTED in the message of a generic runtime error).
OUT_OF_MEMORY = ("MemoryError", "ResourceExhaustedError", "OutOfMemoryError")
OUT_OF_MEMORY_ADVICE = (
    "lower --batch-size, --image-size, --latent-dim or the networks' --*-filters"
)


def out_of_memory(error: BaseException) -> bool:
    """Whether `error` is a failed allocation, on any backend."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & set(OUT_OF_MEMORY)) or "RESOURCE_EXHAUSTED" in str(error)


def _describe(error: BaseException) -> str:
    """The message of an expected error, with its file for a bare OSError."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"Cannot use {error.filename}: {error.strerror}."
    return str(error) or type(error).__name__


def run_command(prog: str, body):
    """Runs `body()` and turns the library's expected errors into one line.

    Args:
        prog: the command's name, as its parser shows it.
        body: the work, a function of no arguments.

    Returns:
        What `body` returns.

    Raises:
        SystemExit: 2 after a ValueError (DataError included), an OSError
            (FileNotFoundError), a RunDirError or a WriteError (writing a file),
            or running out of memory, printed as `PROG: error: MESSAGE`; 130
            after Ctrl-C.
    """
    try:
        return body()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except Exception as error:
        if out_of_memory(error):
            fail(
                prog, f"out of memory ({type(error).__name__}); {OUT_OF_MEMORY_ADVICE}."
            )
        # Looked up now: body() may have imported dcgan_tf.data.
        if not isinstance(error, _expected_errors()):
            raise  # a bug: its traceback is what a report needs
        fail(prog, _describe(error))


def seed_value(text: str) -> int:
    """The `type` of a `--seed` flag: numpy's generators take 0 or more."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {seed}")
    return seed


def add_generator_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the generator path and the options of drawing latents."""
    parser.add_argument(
        "generator",
        metavar="RUN_OR_FILE",
        help="A run directory of dcgan_tf.train (its generator.keras is used) "
        "or a generator .keras file.",
    )
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
    from dcgan_tf.files import write_text

    return write_text(path, text)


BACKENDS = ("tensorflow", "jax", "torch")


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    """Adds `--backend`, the Keras backend a command runs on."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend to run on (default: KERAS_BACKEND if set, else "
        "tensorflow).",
    )


def use_backend(backend: str | None) -> None:
    """Sets `KERAS_BACKEND` to `backend` before Keras is first imported.

    Call it right after parsing, before `quiet_tensorflow()` and any import of
    Keras: a backend is fixed at the first `import keras`. None keeps the
    environment's choice.

    Raises:
        ValueError: when Keras is already imported with another backend.
    """
    if backend is None:
        return
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise ValueError(
                f"Keras is already running on {current}; --backend {backend} must "
                "be chosen before Keras is imported."
            )
        return
    os.environ["KERAS_BACKEND"] = backend
