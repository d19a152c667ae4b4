"""Walks the latent space of a trained generator (Radford et al. 2015 §6.1).

Smooth transitions between samples show that the generator has learnt a
continuous map rather than memorised its training images. Either random
pairs of latents, one grid row per pair, or a walk through samples chosen
by their index in an earlier grid (`--from grid.npz --indices 3 17 42`), one
row per leg of the walk.
"""

import argparse
import sys
import types

from dcgan_tf import latent, latent_space
from dcgan_tf.generate import (
    INDICES_HELP,
    add_generator_arguments,
    check_image_path,
    check_positive,
    chosen_latents,
    describe_generator,
    resolve_seed,
)
from dcgan_tf.images import make_grid, save_gif, save_grid, to_uint8

EPILOG = """examples:
  python -m dcgan_tf.interpolate checkpoints/00001-fashion_mnist --pairs 5 \\
      --steps 10 --method slerp --out walk.png --gif walk.gif
  python -m dcgan_tf.generate checkpoints/00001-fashion_mnist --seed 3 --out grid.png
  python -m dcgan_tf.interpolate checkpoints/00001-fashion_mnist --from grid.npz \\
      --indices 3 17 42 --loop --steps 16 --out tour.png --gif tour.gif

The GIF shows the rows side by side (random pairs) or the whole walk in one
image (--from); it plays forth and back, or round and round with --loop.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcgan_tf.interpolate",
        description="Interpolate between latents of a trained generator: a grid\n"
        "with one row per pair, its latents (.npz, in grid order) and a GIF.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_generator_arguments(parser)
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
    parser.add_argument(
        "--from",
        dest="source",
        metavar="LATENTS.npz",
        default=None,
        help="Walk between latents of an earlier .npz from generate or "
        "interpolate, chosen with --indices.",
    )
    parser.add_argument(
        "--indices",
        type=int,
        nargs="+",
        default=None,
        help=INDICES_HELP + " The walk visits them in order (at least 2).",
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
        "latents go to the same name with .npz.",
    )
    parser.add_argument(
        "--gif", default=None, help="Also write the walk as an animated GIF here."
    )
    parser.add_argument(
        "--seconds-per-frame",
        type=float,
        default=0.1,
        help="Display time of each GIF frame (default: %(default)s).",
    )
    return parser


def bounce(frames: list) -> list:
    """Frames played forth and back, so a looping GIF never jumps."""
    return frames + frames[-2:0:-1]


def animation_frames(images, joined: bool, loop: bool) -> list:
    """The GIF frames of a `(rows, steps, h, w, c)` uint8 walk.

    Args:
        images: the walk's images, one row per pair or per leg.
        joined: play the rows one after another as one walk (keyframes)
            rather than side by side (independent pairs).
        loop: the joined walk ends where it starts, so play it round.
    """
    if joined:
        tracks = latent_space.join_segments(images, loop)[:, None]  # (frames, 1, ...)
    else:
        tracks = images.swapaxes(0, 1)  # (steps, rows, ...)
    frames = [make_grid(track, columns=len(track)) for track in tracks]
    return frames if joined and loop else bounce(frames)


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_positive(parser, args, "pairs", "batch_size")
    if args.steps < 2:
        parser.error(f"--steps must be at least 2 (both ends), got {args.steps}.")
    if args.seconds_per_frame <= 0:
        parser.error("--seconds-per-frame must be positive.")
    out = check_image_path(parser, args.out)
    gif = args.gif and check_image_path(parser, args.gif, "--gif", (".gif",))
    if args.source is not None:
        if args.pairs is not None:
            parser.error("--pairs and --from exclude each other.")
        if args.indices is None or len(args.indices) < 2:
            parser.error("--from needs --indices with at least 2 indices to walk.")
    elif args.indices is not None:
        parser.error("--indices needs --from LATENTS.npz to pick from.")
    elif args.loop:
        parser.error("--loop needs --from and --indices (random pairs do not loop).")
    try:
        generator = latent.load_generator(args.generator)
        print(describe_generator(generator))
        seed = None
        distribution = args.latent_distribution or generator.latent_distribution
        if args.source is not None:
            keyframes = chosen_latents(args.source, args.indices, generator.latent_dim)
            result = latent.walk(
                generator,
                keyframes,
                args.steps,
                args.method,
                args.loop,
                args.batch_size,
            )
        else:
            seed = resolve_seed(args.seed)
            pairs = args.pairs or 5
            ends = latent_space.sample_latents(
                2 * pairs, generator.latent_dim, seed, distribution
            )
            result = latent.interpolate(
                generator,
                ends[:pairs],
                ends[pairs:],
                args.steps,
                args.method,
                args.batch_size,
            )
        images = to_uint8(result.images)  # (rows, steps, h, w, c)
        rows = len(images)
        save_grid(images.reshape(-1, *images.shape[2:]), out, columns=args.steps)
        npz = latent_space.save_latents(
            out.with_suffix(".npz"), result.latents, seed, distribution, args.steps
        )
        written = [f"{out} ({rows} rows of {args.steps})", str(npz)]
        if gif:
            frames = animation_frames(images, args.source is not None, args.loop)
            save_gif(frames, gif, seconds_per_frame=args.seconds_per_frame)
            written.append(f"{gif} ({len(frames)} frames)")
    except (ValueError, OSError) as error:  # OSError covers FileNotFoundError
        parser.error(" ".join(str(error).split()))
    source = f"seed {seed}" if seed is not None else f"{args.source} {args.indices}"
    print(f"Interpolated ({args.method}, {source}); wrote {', '.join(written)}")


class _CallableModule(types.ModuleType):
    """Importing this command module rebinds `dcgan_tf.interpolate` from the
    API function to the module; calling the module keeps that name working."""

    def __call__(self, *args, **kwargs):
        return latent.interpolate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


if __name__ == "__main__":
    main()
