"""Draws a grid of samples from a trained generator, with the latents behind it.

    python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --num 64 --seed 3

writes `samples.png` and `samples.npz`; the latents in the `.npz` are in grid
order, so `--from samples.npz --indices 3 17` draws samples 3 and 17 again
(with this or another checkpoint of the run), and `dcgan_tf.interpolate` walks
between them. A conditional generator draws the class asked for: `--class
sneaker` (or its index), or `--classes all` for one row per class with the
same latent down each column.
"""

import argparse

import numpy as np

from dcgan_tf import cli
from dcgan_tf.cli import outputs
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import grid_shape, save_grid, save_image, to_uint8

PROG = "python -m dcgan_tf.generate"
EPILOG = """examples:
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --num 64 --seed 3 \\
      --out grid.png
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist/generator_best.keras \\
      --num 16 --individual --out best/grid.png
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --from grid.npz \\
      --indices 3 17 42 --individual --out picked.png
  python -m dcgan_tf.generate checkpoints/00002-fashion_mnist --class sneaker \\
      --num 16 --out sneakers.png
  python -m dcgan_tf.generate checkpoints/00002-fashion_mnist --classes all --num 8 \\
      --seed 3 --out classes.png
"""
# Latents per row of a --classes grid when --num is not given.
CLASS_GRID_COLUMNS = 8
NUM_ADVICE = "ask for fewer samples with --num"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Draw a grid of samples from a trained generator and save\n"
        "the latents that made them (.npz, in grid order) beside it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_generator_arguments(parser)
    parser.add_argument(
        "--num", type=int, default=None, help="Number of samples (default: 64)."
    )
    parser.add_argument(
        "--columns",
        type=int,
        default=None,
        help="Images per row of the grid (default: a near-square grid).",
    )
    cli.add_source_arguments(parser)
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument(
        "--class",
        dest="class_",
        metavar="CLASS",
        default=None,
        help="A conditional generator draws every sample of this class, by name "
        "(sneaker, any case) or index.",
    )
    classes.add_argument(
        "--classes",
        nargs="+",
        metavar="CLASS",
        default=None,
        help="A conditional generator draws one row per class (all: every "
        "class, in label order) with the same --num latents (default: "
        f"{CLASS_GRID_COLUMNS}) down each column, each row's class name "
        "written at its left.",
    )
    parser.add_argument(
        "--out",
        default="samples.png",
        help="The grid to write, .png or .jpg (default: %(default)s); the "
        "latents go to the same name with .npz. An --out whose files would "
        "replace the --from file or land in a run directory is refused.",
    )
    parser.add_argument(
        "--individual",
        action="store_true",
        help="Also write each image as OUT_STEM/NNNN.png, numbered by its "
        "index in the grid, or with --indices by its index in the --from grid.",
    )
    return parser


def run(args, out) -> str:
    """Draws and writes the samples; returns the line that says what was written."""
    from dcgan_tf.sampling import drawing as sampling

    generator = sampling.load_generator(args.generator)
    print(cli.describe_generator(generator))
    if generator.class_names:
        print("classes:", ", ".join(generator.class_names))
    seed, labels, columns = None, args.class_, args.columns
    if args.source is not None:
        latents = cli.chosen_latents(args.source, args.indices, generator.latent_dim)
        distribution = generator.latent_distribution
        stored = latent_space.load_labels(args.source)
        if labels is None and stored is not None and generator.num_classes:
            labels = stored if args.indices is None else stored[args.indices]
    else:
        seed = cli.resolve_seed(args.seed)
        distribution = args.latent_distribution or generator.latent_distribution
        count = args.num or (CLASS_GRID_COLUMNS if args.classes else 64)
        # A grid no image file can hold is refused before any sample is made.
        rows = len(class_rows(generator, args.classes)) if args.classes else 1
        wide = count if args.classes else columns
        grid_shape(count * rows, generator.image_shape, wide, advice=NUM_ADVICE)
        latents = latent_space.sample_latents(
            count, generator.latent_dim, seed, distribution
        )
    row_labels = None
    if args.classes:
        rows = class_rows(generator, args.classes)
        columns = len(latents)
        latents = np.tile(latents, (len(rows), 1))
        labels = np.repeat(rows, columns)
        row_labels = [generator.class_names[row] for row in rows]
    images = to_uint8(sampling.generate(generator, latents, args.forward_batch, labels))
    if columns is None and args.indices is not None:
        columns = grid_columns(len(images))  # a few picked: no empty cell
    classes = sampling.resolve_labels(generator, labels, latents.shape[:-1])
    record = latent_space.latents_record(
        latents,
        seed,
        distribution,
        columns,
        labels=None if classes is None else classes.argmax(axis=-1),
    )
    npz = latent_space.save_grid_and_latents(
        out,
        lambda: save_grid(images, out, columns=columns, row_labels=row_labels),
        record,
    )
    written = [str(out), str(npz)]
    if args.individual:
        folder = out.with_suffix("")
        numbers = args.indices or range(len(images))
        for number, image in zip(numbers, images):
            save_image(image, folder / f"{number:04d}.png")
        written.append(f"{folder}/ ({len(images)} images)")
    source = f"with seed {seed}" if seed is not None else f"from {args.source}"
    if args.class_ is not None:
        name = generator.class_names[sampling.class_index(generator, args.class_)]
        source += f" of class {name}"
    elif args.classes:
        source += f", one row per class ({len(images) // columns} rows)"
    return f"Drew {len(images)} samples {source}; wrote {', '.join(written)}"


def grid_columns(count: int) -> int:
    """Columns of a near-square grid of `count` images with no empty cell (3:
    one row of 3), when one is at most three times as wide as square."""
    square = int(np.ceil(np.sqrt(count)))
    fits = [c for c in range(square, 3 * square + 1) if count % c == 0]
    return fits[0] if fits else square


def class_rows(generator, classes) -> list[int]:
    """The class index of each row of a `--classes` grid.

    Raises:
        ValueError: for an unconditional generator or an unknown class.
    """
    from dcgan_tf.sampling import drawing as sampling

    if [c.lower() for c in classes] == ["all"]:
        sampling.class_index(generator, 0)  # one line for an unconditional one
        return list(range(generator.num_classes))
    return [sampling.class_index(generator, c) for c in classes]


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.generator = cli.locate_generator(parser.prog, args.generator)
    cli.check_positive(parser, args, "num", "columns", "forward_batch")
    out = cli.check_image_path(parser, args.out)
    cli.check_writable(parser, out.with_suffix(".npz"), "--out")
    cli.check_source(parser, args)
    folder = out.with_suffix("") if args.individual else None
    individual = outputs.Output("--out", folder, f"--individual {folder}/", True)
    written = [*outputs.grid_outputs(out), individual]
    read = [("the --from file", args.source), *outputs.generator_inputs(args.generator)]
    cli.run_command(parser.prog, lambda: outputs.check_outputs(written, read))
    cli.run_command(parser.prog, cli.check_backend)
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    print(cli.run_command(parser.prog, lambda: run(args, out)))


if __name__ == "__main__":
    main()
