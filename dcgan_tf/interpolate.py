"""Walks the latent space of a trained generator (Radford et al. 2015 §6.1).

Smooth transitions between samples show that the generator has learnt a
continuous map rather than memorised its training images. Either random
pairs of latents, one grid row per pair, or a walk through samples chosen
by their index in an earlier grid (`--from grid.npz --indices 3 17 42`), one
row per leg of the walk. A conditional generator walks in one class
(`--class`), or from one class to another with each row's latent fixed
(`--classes sandal sneaker`).
"""

import argparse
import sys
import types

from dcgan_tf import cli
from dcgan_tf.cli import outputs
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import (  # noqa: F401 (bounce: its old home)
    animation_frames,
    bounce,
    grid_shape,
    save_gif,
    save_grid,
    to_uint8,
)

PROG = "python -m dcgan_tf.interpolate"
EPILOG = """examples:
  python -m dcgan_tf.interpolate checkpoints/00001-fashion_mnist --pairs 5 \\
      --steps 10 --method slerp --out walk.png --gif walk.gif
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --seed 3 --out grid.png
  python -m dcgan_tf.interpolate checkpoints/00001-fashion_mnist --from grid.npz \\
      --indices 3 17 42 --loop --steps 16 --out tour.png --gif tour.gif

  python -m dcgan_tf.interpolate checkpoints/00002-fashion_mnist --class sneaker \\
      --pairs 4 --out sneakers.png
  python -m dcgan_tf.interpolate checkpoints/00002-fashion_mnist --classes sandal \\
      sneaker --pairs 4 --gif morph.gif

The GIF shows the rows side by side (random pairs) or the whole walk in one
image (--from); it plays forth and back, or round and round with --loop.
"""
# A GIF stores a frame's time in hundredths of a second in 16 bits (655.35 s
# at most), and `images.save_gif` holds the last frame 3 times as long.
MAX_SECONDS_PER_FRAME = 200


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Interpolate between latents of a trained generator: a grid\n"
        "with one row per pair, its latents (.npz, in grid order) and a GIF.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_generator_arguments(parser)
    parser.add_argument(
        "--pairs",
        type=int,
        default=None,
        help="Number of random pairs of latents, one grid row each (default: 5).",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=10,
        help="Images per row, both ends included (default: %(default)s).",
    )
    parser.add_argument(
        "--method",
        choices=latent_space.METHODS,
        default="slerp",
        help="slerp: along the sphere, which keeps the norm Gaussian latents "
        "have; linear: a straight line, whose middle has a smaller norm "
        "(default: %(default)s).",
    )
    cli.add_source_arguments(
        parser,
        from_help="Walk between latents of an earlier .npz (from generate, "
        "interpolate or neighbours), chosen with --indices.",
        indices_help="The walk visits them in order (at least 2).",
    )
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument(
        "--class",
        dest="class_",
        metavar="CLASS",
        default=None,
        help="A conditional generator keeps this class (name or index) along "
        "every path (default: each row a class in turn).",
    )
    classes.add_argument(
        "--classes",
        nargs=2,
        metavar=("FROM", "TO"),
        default=None,
        help="A conditional generator walks from one class to the other, each "
        "row with its latent fixed (--pairs random latents, or --from --indices).",
    )
    parser.add_argument(
        "--loop",
        action="store_true",
        help="With --from: walk from the last index back to the first too.",
    )
    parser.add_argument(
        "--out",
        default="walk.png",
        help="The grid to write, .png or .jpg (default: %(default)s); the "
        "latents go to the same name with .npz. An --out whose files would "
        "replace the --from file or land in a run directory is refused.",
    )
    parser.add_argument(
        "--gif", default=None, help="Also write the walk as an animated GIF here."
    )
    parser.add_argument(
        "--seconds-per-frame",
        type=float,
        default=0.1,
        help="Display time of each GIF frame in seconds, above 0 and at most "
        f"{MAX_SECONDS_PER_FRAME:g} (default: %(default)s).",
    )
    return parser


def check_arguments(parser: argparse.ArgumentParser, args) -> None:
    """Rejects values and combinations of flags that cannot work, in one line."""
    cli.check_positive(parser, args, "pairs", "forward_batch")
    cli.check_positive_finite(parser, args, "seconds_per_frame")
    if args.seconds_per_frame > MAX_SECONDS_PER_FRAME:
        cli.fail(
            parser.prog,
            f"--seconds-per-frame must be at most {MAX_SECONDS_PER_FRAME:g} (a GIF "
            f"holds frames of up to 655 s, and the last is shown 3 times as long), "
            f"got {args.seconds_per_frame:g}.",
        )
    if args.steps < 2:
        cli.fail(
            parser.prog, f"--steps must be at least 2 (both ends), got {args.steps}."
        )
    if args.source is not None:
        if args.pairs is not None:
            cli.fail(parser.prog, "--pairs and --from exclude each other.")
        if args.classes is not None:
            if args.indices is None or args.loop:
                cli.fail(
                    parser.prog,
                    "--classes with --from needs --indices (one row each), no --loop.",
                )
        elif args.indices is None or len(args.indices) < 2:
            cli.fail(
                parser.prog, "--from needs --indices with at least 2 indices to walk."
            )
    elif args.indices is not None:
        cli.fail(parser.prog, "--indices needs --from LATENTS.npz to pick from.")
    elif args.loop:
        cli.fail(
            parser.prog, "--loop needs --from and --indices (random pairs do not loop)."
        )


def run(args, out, gif) -> str:
    """Walks and writes the grid, latents and GIF; returns what was written."""
    from dcgan_tf.sampling import drawing as sampling

    generator = sampling.load_generator(args.generator)
    print(cli.describe_generator(generator))
    if generator.class_names:
        print("classes:", ", ".join(generator.class_names))
    seed = None
    distribution = args.latent_distribution or generator.latent_distribution
    # A grid no image file can hold is refused before any image is made.
    if args.source is None:
        rows = args.pairs or 5
    elif args.classes is not None or args.loop:
        rows = len(args.indices)  # one per index, or a walk back to the first
    else:
        rows = len(args.indices) - 1  # one per leg of the walk
    advice = "ask for fewer with --steps or " + (
        "--indices" if args.source else "--pairs"
    )
    grid_shape(rows * args.steps, generator.image_shape, args.steps, advice=advice)
    if args.classes is not None:
        if args.source is not None:
            latents = cli.chosen_latents(
                args.source, args.indices, generator.latent_dim
            )
        else:
            seed = cli.resolve_seed(args.seed)
            latents = latent_space.sample_latents(
                args.pairs or 5, generator.latent_dim, seed, distribution
            )
        result = sampling.interpolate_classes(
            generator, latents, *args.classes, args.steps, args.forward_batch
        )
    elif args.source is not None:
        keyframes = cli.chosen_latents(args.source, args.indices, generator.latent_dim)
        label = args.class_
        stored = latent_space.load_labels(args.source)
        if label is None and stored is not None and generator.num_classes:
            label = int(stored[args.indices[0]])  # the first keyframe's class
        result = sampling.walk(
            generator,
            keyframes,
            args.steps,
            args.method,
            args.loop,
            args.forward_batch,
            labels=label,
        )
    else:
        seed = cli.resolve_seed(args.seed)
        pairs = args.pairs or 5
        ends = latent_space.sample_latents(
            2 * pairs, generator.latent_dim, seed, distribution
        )
        result = sampling.interpolate(
            generator,
            ends[:pairs],
            ends[pairs:],
            args.steps,
            args.method,
            args.forward_batch,
            labels=args.class_,
        )
    images = to_uint8(result.images)  # (rows, steps, h, w, c)
    classes = result.classes
    record = latent_space.latents_record(
        result.latents,
        seed,
        distribution,
        args.steps,
        # Each image's class (the nearer one on a path between two classes)
        # and its exact class input.
        labels=None if classes is None else classes.argmax(axis=-1),
        classes=classes,
    )
    grid = images.reshape(-1, *images.shape[2:])
    npz = latent_space.save_grid_and_latents(
        out, lambda: save_grid(grid, out, columns=args.steps), record
    )
    written = [f"{out} ({len(images)} rows of {args.steps})", str(npz)]
    if gif:
        frames = animation_frames(images, args.source is not None, args.loop)
        save_gif(frames, gif, seconds_per_frame=args.seconds_per_frame)
        written.append(f"{gif} ({len(frames)} frames)")
    source = f"seed {seed}" if seed is not None else f"{args.source} {args.indices}"
    if args.classes is not None:
        names = [
            generator.class_names[sampling.class_index(generator, c)]
            for c in args.classes
        ]
        return (
            f"Interpolated from class {names[0]} to {names[1]} ({source}); "
            f"wrote {', '.join(written)}"
        )
    return f"Interpolated ({args.method}, {source}); wrote {', '.join(written)}"


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.generator = cli.locate_generator(parser.prog, args.generator)
    check_arguments(parser, args)
    out = cli.check_image_path(parser, args.out)
    cli.check_writable(parser, out.with_suffix(".npz"), "--out")
    gif = args.gif and cli.check_image_path(parser, args.gif, "--gif", (".gif",))
    written = [*outputs.grid_outputs(out), outputs.Output("--gif", gif or None)]
    read = [("the --from file", args.source), *outputs.generator_inputs(args.generator)]
    cli.run_command(parser.prog, lambda: outputs.check_outputs(written, read))
    cli.run_command(parser.prog, cli.check_backend)
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    print(cli.run_command(parser.prog, lambda: run(args, out, gif)))


class _CallableModule(types.ModuleType):
    """`from dcgan_tf import interpolate` is the function `sampling.interpolate`
    (the public API), but importing this command module rebinds that package
    attribute to the module, as Python does for every submodule; calling the
    module keeps the name working in either order of imports."""

    def __call__(self, *args, **kwargs):
        from dcgan_tf.sampling import drawing as sampling

        return sampling.interpolate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


if __name__ == "__main__":
    main()
