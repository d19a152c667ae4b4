"""Exports a trained generator for serving, checked against Keras first.

    python -m dcgan_tf.export checkpoints/00001-fashion_mnist --format onnx \\
        --out generator.onnx

writes ONNX (`--format onnx`), a TensorFlow SavedModel folder
(`saved_model`) or a LiteRT flatbuffer (`litert`, `.tflite`) through Keras'
own `Model.export`, runs it with its own runtime on fixed latents (and every
class of a conditional generator), and puts it at `--out` only if its
images are within `dcgan_tf.exporting.TOLERANCE` of Keras'. The library is
`dcgan_tf.exporting`; the converters and runtimes are the `export` extra.
"""

import argparse
import sys
from pathlib import Path

from dcgan_tf import cli
from dcgan_tf.cli import outputs
from dcgan_tf.exporting import FORMATS, TOLERANCE

PROG = "python -m dcgan_tf.export"
EPILOG = """examples:
  python -m dcgan_tf.export checkpoints/00001-fashion_mnist --format onnx \\
      --out exports/generator.onnx
  python -m dcgan_tf.export checkpoints/00001-fashion_mnist/generator_best.keras \\
      --format saved_model --out exports/generator_saved_model
  python -m dcgan_tf.export checkpoints/00001-fashion_mnist --format litert \\
      --out exports/generator.tflite --overwrite

formats and the Keras backends that export them: onnx (tensorflow, jax, torch),
saved_model (tensorflow, jax), litert (tensorflow). Install the converters and
runtimes with: pip install -e ".[export]" (and ".[export-jax]" for onnx on jax).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Export a trained generator as ONNX, a TensorFlow SavedModel "
        "or LiteRT,\nafter its own runtime has drawn the same images as Keras "
        f"(within {TOLERANCE:g}).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "generator",
        metavar="RUN_OR_FILE",
        help=cli.generator_help(),
    )
    parser.add_argument(
        "--format",
        required=True,
        choices=tuple(FORMATS),
        help="onnx (a .onnx file, for onnxruntime), saved_model (a folder, for "
        "TensorFlow Serving and tf.saved_model.load) or litert (a .tflite "
        "file, for the LiteRT interpreter).",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="Where the export goes: a .onnx or .tflite file, or the "
        "SavedModel's folder. One inside a run directory, or that is a link, "
        "is refused.",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="Replace an export of the same format already at --out (never "
        "another kind of file or folder).",
    )
    cli.add_backend_argument(parser)
    return parser


def check_format(args) -> None:
    """Refuses a format the backend cannot export, or whose converter or
    runtime is missing, before the generator is loaded."""
    import keras

    from dcgan_tf.exporting import check_dependencies, check_supported

    backend = keras.backend.backend()
    check_dependencies(check_supported(args.format, backend), backend)


def run(args, out: Path) -> str:
    """Exports the generator; returns the line that says what was written."""
    from dcgan_tf.exporting import RoundTripError, export_generator
    from dcgan_tf.sampling import load_generator

    generator = load_generator(args.generator)
    print(cli.describe_generator(generator))
    try:
        exported = export_generator(generator, args.format, out, args.overwrite)
    except RoundTripError as error:
        # Not the user's input: the converter's output is wrong.
        print(f"{PROG}: error: {error}", file=sys.stderr)
        sys.exit(1)
    kind = "folder" if exported.path.is_dir() else "file"
    return (
        f"Wrote {exported.path} ({args.format} {kind}, {_size(exported.size)}); "
        f"{FORMATS[args.format].served_by} drew the Keras images within "
        f"{exported.difference:.2g} (largest difference; tolerance {TOLERANCE:g})"
    )


def _size(size: int) -> str:
    for unit in ("bytes", "kB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.generator = cli.locate_generator(parser.prog, args.generator)
    out = Path(args.out)
    folder = FORMATS[args.format].suffix == ""
    written = [outputs.Output("--out", out, folder=folder)]
    read = outputs.generator_inputs(args.generator)
    cli.run_command(parser.prog, lambda: outputs.check_outputs(written, read))
    from dcgan_tf.exporting import check_out

    cli.run_command(parser.prog, lambda: check_out(out, args.format, args.overwrite))
    if not out.is_dir():
        cli.check_writable(parser, out, "--out")
    cli.run_command(parser.prog, lambda: cli.use_backend(args.backend))
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    cli.run_command(parser.prog, lambda: check_format(args))
    print(cli.run_command(parser.prog, lambda: run(args, out)))


if __name__ == "__main__":
    main()
