"""Shows generated samples beside their nearest training images.

Each row of the grid is a sample, a gap, then its nearest training images,
closest first (`dcgan_tf.quality.nearest`); the distances are printed
beside the distance from training images to their nearest other training
image: samples much closer to the data than that are copies (Radford et al.
2015 §6.1 on memorisation).
"""

import argparse

from dcgan_tf import cli
from dcgan_tf.cli import outputs
from dcgan_tf.config import DATASETS
from dcgan_tf.sampling import latents as latent_space

PROG = "python -m dcgan_tf.neighbours"
EPILOG = """examples:
  python -m dcgan_tf.neighbours checkpoints/00001-fashion_mnist
  python -m dcgan_tf.neighbours checkpoints/00001-fashion_mnist/generator.keras \\
      --dataset fashion_mnist --data-dir data/fashion-mnist --num 8 --neighbours 6
  python -m dcgan_tf.neighbours checkpoints/00001-fashion_mnist --from grid.npz \\
      --indices 3 17 42 --out picked_neighbours.png
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Show generated samples next to their nearest training images\n"
        "(L2 in pixel space), to see whether the generator copies its data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_generator_arguments(parser)
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="Training images to search (default: the run's config.json).",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="Where the data set's files are (default: the run's config.json, "
        "then the usual places).",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="Search only the first this many training images (faster).",
    )
    parser.add_argument(
        "--num", type=int, default=None, help="Samples, one row each (default: 8)."
    )
    parser.add_argument(
        "--neighbours",
        type=int,
        default=5,
        help="Training images per sample (default: %(default)s).",
    )
    cli.add_source_arguments(
        parser,
        from_help="Check samples of an earlier .npz (from generate, interpolate "
        "or neighbours), chosen with --indices, instead of new ones.",
    )
    parser.add_argument(
        "--out",
        default="neighbours.png",
        help="The grid to write, .png or .jpg (default: %(default)s); the "
        "samples' latents go to the same name with .npz. An --out whose files "
        "would replace the --from file or land in a run directory or the data "
        "is refused.",
    )
    return parser


def run(args, out) -> str:
    """Finds and draws the neighbours; returns the line that says what was written."""
    from dcgan_tf.quality.nearest import (
        load_training_images,
        nearest_neighbours,
        neighbour_grid,
        reference_distances,
    )
    from dcgan_tf.sampling import drawing as sampling
    from dcgan_tf.sampling.images import grid_shape, save_image, to_uint8

    generator = sampling.load_generator(args.generator)
    print(cli.describe_generator(generator))
    seed = None
    distribution = args.latent_distribution or generator.latent_distribution
    if args.source is not None:
        latents = cli.chosen_latents(args.source, args.indices, generator.latent_dim)
    else:
        seed = cli.resolve_seed(args.seed)
        # A grid no image file can hold is refused before any image is made.
        grid_shape(
            (args.num or 8) * args.neighbours,
            generator.image_shape,
            args.neighbours,
            advice="ask for fewer with --num or --neighbours",
        )
        latents = latent_space.sample_latents(
            args.num or 8, generator.latent_dim, seed, distribution
        )
    images = load_training_images(generator, args.dataset, args.data_dir, args.limit)
    samples = to_uint8(sampling.generate(generator, latents, args.forward_batch))
    dataset = args.dataset or generator.dataset
    print(f"Searching {len(images)} {dataset} training images")
    indices, distances = nearest_neighbours(samples, images, args.neighbours)
    reference = reference_distances(images, len(samples))
    save_image(neighbour_grid(samples, images, indices), out)
    npz = latent_space.save_latents(
        out.with_suffix(".npz"), latents, seed, distribution
    )
    for row, (found, distance) in enumerate(zip(indices, distances, strict=True)):
        pairs = ", ".join(f"#{i} {d:.3f}" for i, d in zip(found, distance, strict=True))
        print(f"  sample {row}: {pairs}")
    scale = f", {reference.mean():.3f} from a training image" if reference.size else ""
    print(
        f"Nearest training image: {distances[:, 0].mean():.3f} on average from a "
        f"sample{scale} (RMS, 0..1 pixels)"
    )
    drawn = f" (samples drawn with seed {seed})" if seed is not None else ""
    return f"Wrote {out}, {npz}{drawn}"


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.generator = cli.locate_generator(parser.prog, args.generator)
    cli.check_positive(parser, args, "num", "neighbours", "limit", "forward_batch")
    out = cli.check_image_path(parser, args.out)
    cli.check_writable(parser, out.with_suffix(".npz"), "--out")
    cli.check_source(parser, args)
    read = [
        ("the --from file", args.source),
        ("the --data-dir", args.data_dir),
        *outputs.generator_inputs(args.generator),
    ]
    written = outputs.grid_outputs(out)
    cli.run_command(PROG, lambda: outputs.check_outputs(written, read))
    cli.run_command(PROG, cli.check_backend)
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    print(cli.run_command(PROG, lambda: run(args, out)))


if __name__ == "__main__":
    main()
