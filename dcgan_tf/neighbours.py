"""Shows generated samples beside their nearest training images.

A generator that copies its data makes samples that sit on top of training
images; one that generalises makes samples whose nearest training images
differ in detail (Radford et al. 2015 §6.1 on memorisation). Each row of the
grid is a sample, a gap, then its nearest training images, closest first.
Distances are root-mean-square pixel differences on a 0..1 scale, printed
beside the same distance from training images to their nearest other
training image: samples much closer to the data than that are copies.
"""

import argparse

import numpy as np

from dcgan_tf import latent, latent_space
from dcgan_tf.config import DATASETS
from dcgan_tf.data import load_images
from dcgan_tf.generate import (
    INDICES_HELP,
    add_generator_arguments,
    check_image_path,
    check_positive,
    check_source,
    chosen_latents,
    describe_generator,
    resolve_seed,
)
from dcgan_tf.images import make_grid, save_image, to_uint8

# Distances are computed against this many bytes of float32 training images
# at a time, so that 60,000 images (or 128x128 colour ones) fit in memory.
CHUNK_BYTES = 64 * 2**20
GAP = 8

EPILOG = """examples:
  python -m dcgan_tf.neighbours checkpoints/00001-fashion_mnist
  python -m dcgan_tf.neighbours checkpoints/00001-fashion_mnist/generator.keras \\
      --dataset fashion_mnist --data-dir data/fashion-mnist --num 8 --neighbours 6
  python -m dcgan_tf.neighbours checkpoints/00001-fashion_mnist --from grid.npz \\
      --indices 3 17 42 --out picked_neighbours.png
"""


def nearest_neighbours(queries, images, k: int = 5, exclude=None):
    """Finds the `k` training images nearest to each query, by L2 in pixels.

    Args:
        queries: uint8 images `(n, h, w, c)`, such as generated samples.
        images: uint8 training images `(m, h, w, c)`; may be memory-mapped.
        k: neighbours per query.
        exclude: optional `(n,)` indices into `images` to skip, one per query
            (a training image's own index when queries are training images).

    Returns:
        `(indices, distances)`, each `(n, k)`, closest first; distances are
        root-mean-square differences with pixels scaled to [0, 1].

    Raises:
        ValueError: for images of different shapes, or k out of 1..m.
    """
    queries, images = np.asarray(queries), np.asarray(images)
    if queries.shape[1:] != images.shape[1:]:
        raise ValueError(
            f"Samples of shape {queries.shape[1:]} cannot be compared with "
            f"training images of shape {images.shape[1:]}."
        )
    available = len(images) - (exclude is not None)
    if not 1 <= k <= available:
        raise ValueError(f"Neighbours must be in 1..{available}, got {k}.")
    flat = queries.reshape(len(queries), -1).astype(np.float32) / 255.0
    flat_norms = np.sum(flat**2, axis=1)
    best_distances = np.full((len(queries), 0), np.inf, np.float32)
    best_indices = np.zeros((len(queries), 0), np.int64)
    # Each chunk costs rows * (pixels + queries) floats: the images, then
    # their distances to every query.
    rows = max(1, CHUNK_BYTES // (4 * (flat.shape[1] + len(queries))))
    for start in range(0, len(images), rows):
        chunk = images[start : start + rows].reshape(-1, flat.shape[1])
        chunk = chunk.astype(np.float32) / 255.0
        # |q - x|^2 = |q|^2 + |x|^2 - 2 q.x, one matrix product per chunk.
        squared = flat_norms[:, None] + np.sum(chunk**2, axis=1) - 2.0 * flat @ chunk.T
        indices = np.broadcast_to(np.arange(start, start + len(chunk)), squared.shape)
        if exclude is not None:
            squared = np.where(indices == np.asarray(exclude)[:, None], np.inf, squared)
        squared = np.concatenate([best_distances, squared], axis=1)
        indices = np.concatenate([best_indices, indices], axis=1)
        keep = np.argsort(squared, axis=1, kind="stable")[:, :k]
        best_distances = np.take_along_axis(squared, keep, axis=1)
        best_indices = np.take_along_axis(indices, keep, axis=1)
    # The expanded form loses precision; measure the winners exactly.
    difference = queries[:, None].astype(np.float64) - images[best_indices]
    distances = np.sqrt(np.mean((difference / 255.0) ** 2, axis=(2, 3, 4)))
    order = np.argsort(distances, axis=1, kind="stable")
    return (
        np.take_along_axis(best_indices, order, axis=1),
        np.take_along_axis(distances, order, axis=1),
    )


def reference_distances(images, count: int, seed: int = 0) -> np.ndarray:
    """Distances of `count` random training images to their nearest other one.

    The scale to judge samples by: a sample much closer to a training image
    than training images are to each other is a copy.
    """
    if len(images) < 2:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    probe = rng.choice(len(images), min(count, len(images)), replace=False)
    _, distances = nearest_neighbours(images[probe], images, 1, exclude=probe)
    return distances[:, 0]


def neighbour_grid(queries, images, indices) -> np.ndarray:
    """One row per query: the query, a gap, then its neighbours in order."""
    k = indices.shape[1]
    left = make_grid(queries, columns=1)
    right = make_grid(images[indices.reshape(-1)], columns=k)
    gap = np.full((left.shape[0], GAP, left.shape[2]), 255, np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def load_training_images(dataset, data_dir, generator: latent.Generator, limit=None):
    """The training images at the generator's size, as the run saw them."""
    size = generator.image_shape[0]
    fit = generator.config.get("fit", "crop")
    images = load_images(
        dataset, data_dir=data_dir, image_size=size, fit=fit, limit=limit
    )
    if images.shape[1:] != generator.image_shape:
        raise ValueError(
            f"The generator makes {'x'.join(map(str, generator.image_shape))} "
            f"images but {dataset} has {'x'.join(map(str, images.shape[1:]))}; "
            "pass the data set it was trained on with --dataset."
        )
    return images


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcgan_tf.neighbours",
        description="Show generated samples next to their nearest training images\n"
        "(L2 in pixel space), to see whether the generator copies its data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_generator_arguments(parser)
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
    parser.add_argument(
        "--from",
        dest="source",
        metavar="LATENTS.npz",
        default=None,
        help="Check samples of an earlier .npz (from generate or interpolate), "
        "chosen with --indices, instead of new ones.",
    )
    parser.add_argument(
        "--indices", type=int, nargs="+", default=None, help=INDICES_HELP
    )
    parser.add_argument(
        "--out",
        default="neighbours.png",
        help="The grid to write, .png or .jpg (default: %(default)s); the "
        "samples' latents go to the same name with .npz.",
    )
    return parser


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_positive(parser, args, "num", "neighbours", "limit", "batch_size")
    out = check_image_path(parser, args.out)
    check_source(parser, args)
    try:
        generator = latent.load_generator(args.generator)
        print(describe_generator(generator))
        dataset = args.dataset or generator.dataset
        if dataset is None:
            parser.error(
                f"{generator.path} has no config.json beside it; pass --dataset."
            )
        data_dir = args.data_dir or generator.config.get("data_dir")
        seed = None
        distribution = args.latent_distribution or generator.latent_distribution
        if args.source is not None:
            latents = chosen_latents(args.source, args.indices, generator.latent_dim)
        else:
            seed = resolve_seed(args.seed)
            latents = latent_space.sample_latents(
                args.num or 8, generator.latent_dim, seed, distribution
            )
        samples = to_uint8(latent.generate(generator, latents, args.batch_size))
        images = load_training_images(dataset, data_dir, generator, args.limit)
        print(f"Searching {len(images)} {dataset} training images")
        indices, distances = nearest_neighbours(samples, images, args.neighbours)
        reference = reference_distances(images, len(samples))
        save_image(neighbour_grid(samples, images, indices), out)
        npz = latent_space.save_latents(
            out.with_suffix(".npz"), latents, seed, distribution
        )
    except (ValueError, OSError) as error:  # DataError is a ValueError
        parser.error(" ".join(str(error).split()))
    for row, (found, distance) in enumerate(zip(indices, distances, strict=True)):
        pairs = ", ".join(f"#{i} {d:.3f}" for i, d in zip(found, distance, strict=True))
        print(f"  sample {row}: {pairs}")
    scale = f", {reference.mean():.3f} from a training image" if reference.size else ""
    print(
        f"Nearest training image: {distances[:, 0].mean():.3f} on average from a "
        f"sample{scale} (RMS, 0..1 pixels)"
    )
    print(f"Wrote {out}, {npz}")


if __name__ == "__main__":
    main()
