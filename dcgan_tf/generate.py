"""Draws a grid of samples from a trained generator, with the latents behind it.

    python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --num 64 --seed 3

writes `samples.png` and `samples.npz`; the latents in the `.npz` are in grid
order, so `--from samples.npz --indices 3 17` draws samples 3 and 17 again
(with this or another checkpoint of the run), and `dcgan_tf.interpolate` walks
between them. The helpers at the bottom are shared by the other commands of
this kind (`interpolate`, `neighbours`).
"""

import argparse
from pathlib import Path

import numpy as np

from dcgan_tf import latent, latent_space
from dcgan_tf.images import save_grid, save_image, to_uint8

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
INDICES_HELP = (
    "Indices of samples in the --from grid as the grid shows them: counted "
    "from 0 along the first row, left to right, then row after row."
)

EPILOG = """examples:
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --num 64 --seed 3 \\
      --out grid.png
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist/generator_best.keras \\
      --num 16 --individual --out best/grid.png
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --from grid.npz \\
      --indices 3 17 42 --individual --out picked.png
"""


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
        type=int,
        default=None,
        help="Seed of the latents; the same seed draws the same samples "
        "(default: a random seed, printed and saved in the .npz).",
    )
    parser.add_argument(
        "--latent-distribution",
        choices=latent_space.LATENT_DISTRIBUTIONS,
        default=None,
        help="Distribution of the latents (default: the run's config.json, "
        "else normal).",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="Latents per forward pass of the generator (default: %(default)s).",
    )


def check_positive(parser, args, *names: str) -> None:
    """Rejects flags below 1 with parser.error (exit code 2)."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            parser.error(f"{flag} must be at least 1, got {value}.")


def check_image_path(parser, path: str, flag: str = "--out", suffixes=None):
    """Returns `path` as a Path, or exits if its suffix is not an image format."""
    suffixes = suffixes or IMAGE_SUFFIXES
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        parser.error(f"{flag} must end in {' or '.join(suffixes)}, got {path}.")
    return path


def resolve_seed(seed: int | None) -> int:
    """The seed to use: the one given, or a fresh random one to print and save."""
    return int(np.random.default_rng().integers(2**31)) if seed is None else seed


def describe_generator(generator: latent.Generator) -> str:
    """One line on what was loaded, for the commands to print."""
    height, width, channels = generator.image_shape
    trained = f", trained on {generator.dataset}" if generator.dataset else ""
    return (
        f"Generator {generator.path}: z of {generator.latent_dim} "
        f"({generator.latent_distribution}) -> {height}x{width}x{channels}"
        f"{trained}"
    )


def chosen_latents(source, indices, latent_dim: int) -> np.ndarray:
    """The latents of the `--from` file, only those at `--indices` if given."""
    latents = latent_space.load_latents(source, latent_dim)
    return latents if indices is None else latent_space.pick(latents, indices)


def check_source(parser, args) -> None:
    """Rejects `--indices` without `--from`, and `--num` with it."""
    if args.source is None and args.indices is not None:
        parser.error("--indices needs --from LATENTS.npz to pick from.")
    if args.source is not None and getattr(args, "num", None) is not None:
        parser.error("--num and --from exclude each other: --from draws its latents.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcgan_tf.generate",
        description="Draw a grid of samples from a trained generator and save\n"
        "the latents that made them (.npz, in grid order) beside it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_generator_arguments(parser)
    parser.add_argument(
        "--num", type=int, default=None, help="Number of samples (default: 64)."
    )
    parser.add_argument(
        "--columns",
        type=int,
        default=None,
        help="Images per row of the grid (default: a near-square grid).",
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="LATENTS.npz",
        default=None,
        help="Draw the latents of an earlier .npz (from generate or "
        "interpolate) instead of new ones.",
    )
    parser.add_argument(
        "--indices", type=int, nargs="+", default=None, help=INDICES_HELP
    )
    parser.add_argument(
        "--out",
        default="samples.png",
        help="The grid to write, .png or .jpg (default: %(default)s); the "
        "latents go to the same name with .npz.",
    )
    parser.add_argument(
        "--individual",
        action="store_true",
        help="Also write each image as OUT_STEM/NNNN.png, numbered by its "
        "index in the grid.",
    )
    return parser


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_positive(parser, args, "num", "columns", "batch_size")
    out = check_image_path(parser, args.out)
    check_source(parser, args)
    try:
        generator = latent.load_generator(args.generator)
        print(describe_generator(generator))
        seed = None
        if args.source is not None:
            latents = chosen_latents(args.source, args.indices, generator.latent_dim)
            distribution = generator.latent_distribution
        else:
            seed = resolve_seed(args.seed)
            distribution = args.latent_distribution or generator.latent_distribution
            latents = latent_space.sample_latents(
                args.num or 64, generator.latent_dim, seed, distribution
            )
        images = to_uint8(latent.generate(generator, latents, args.batch_size))
        save_grid(images, out, columns=args.columns)
        npz = latent_space.save_latents(
            out.with_suffix(".npz"), latents, seed, distribution, args.columns
        )
        written = [str(out), str(npz)]
        if args.individual:
            folder = out.with_suffix("")
            for index, image in enumerate(images):
                save_image(image, folder / f"{index:04d}.png")
            written.append(f"{folder}/ ({len(images)} images)")
    except (ValueError, OSError) as error:  # OSError covers FileNotFoundError
        parser.error(" ".join(str(error).split()))
    seed_note = f" with seed {seed}" if seed is not None else f" from {args.source}"
    print(f"Drew {len(images)} samples{seed_note}; wrote {', '.join(written)}")


if __name__ == "__main__":
    main()
