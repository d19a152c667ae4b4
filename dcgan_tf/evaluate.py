"""Measure a trained generator (or a real split) with FID, KID, IS, and
precision and recall.

`python -m dcgan_tf.evaluate RUN_OR_FILE` samples the generator of a run
directory (or a `.keras` generator file), compares its images with a real
split of the data set (`dcgan_tf.quality.evaluation`), prints a table and
optionally writes the numbers as JSON. `--compare-real train` measures the
real training split instead of a generator: the floor a perfect generator
would reach. `--metrics artifacts` adds both artifact measures (checkerboard
and periodic texture); `--memorisation` the memorisation check. The table it prints is
`dcgan_tf.quality.table`'s (`format_table`, importable from here too).
"""

import argparse
import datetime
import functools
import sys

from dcgan_tf import cli
from dcgan_tf.cli import outputs
from dcgan_tf.config import DATASETS, LATENT_DISTRIBUTIONS
from dcgan_tf.quality.artifacts import NAME as ARTIFACTS
from dcgan_tf.quality.distances import METRICS
from dcgan_tf.quality.features import FEATURES, INCEPTION_FILE
from dcgan_tf.quality.periodic import NAME as PERIODIC
from dcgan_tf.quality.precision_recall import K
from dcgan_tf.quality.table import format_classes, format_table  # noqa: F401

# Precision and recall (`dcgan_tf.quality.precision_recall`), as one choice.
PR = "pr"

PROG = "python -m dcgan_tf.evaluate"
EPILOG = """examples:
  python -m dcgan_tf.evaluate checkpoints/00000-fashion_mnist --num-samples 10000 \\
      --json fid.json
  python -m dcgan_tf.evaluate checkpoints/00001-cifar10/generator_best.keras \\
      --features inception --inception-weights ~/inception_v3_weights.h5
  python -m dcgan_tf.evaluate --compare-real train --dataset fashion_mnist \\
      --data-dir ~/data/fashion-mnist --num-samples 10000
  python -m dcgan_tf.evaluate checkpoints/00002-folder --metrics fid pr artifacts \\
      --memorisation --num-samples 2000
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Measure a generator's images against a real split with FID, "
        "KID, the Inception Score, and precision and recall.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "generator",
        nargs="?",
        metavar="RUN_OR_FILE",
        help=cli.generator_help(),
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        metavar="|".join(DATASETS),
        help="Data set to compare with (default: the run's).",
    )
    parser.add_argument(
        "--data-dir", help="Where the data set's files are (default: the run's)."
    )
    parser.add_argument(
        "--split",
        default="test",
        choices=("train", "test"),
        help="Real split compared against (default: test, which training never saw).",
    )
    parser.add_argument(
        "--compare-real",
        choices=("train", "test"),
        help="Measure this real split instead of a generator (the floor of the "
        "metrics); RUN_OR_FILE is then not needed.",
    )
    parser.add_argument(
        "--features",
        default="classifier",
        choices=FEATURES,
        help="Feature network: 'classifier' (shipped, offline; fashion_mnist and "
        "cifar10) or 'inception' (InceptionV3 ImageNet, the literature's).",
    )
    parser.add_argument(
        "--inception-weights",
        metavar="PATH",
        help=f"Local copy of {INCEPTION_FILE} (default: download it once).",
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=[*METRICS, PR],
        choices=(*METRICS, PR, ARTIFACTS, PERIODIC),
        help="Metrics to compute (default: fid kid is pr); 'pr': precision "
        "(the share of samples inside the real images' k-nearest-neighbour "
        "manifold: realism) and recall (the share of real images inside the "
        "samples': coverage), on the FID features, each in [0, 1]; "
        "'artifacts': the artifact measures, which need no feature network: "
        "the samples' spectral power at stride-2 checkerboard frequencies "
        "over the real images' ('artifacts'), and their share of power in "
        "spectral peaks of any period over the real images' ('periodic', "
        "also alone); both about 1 for real images.",
    )
    parser.add_argument(
        "--memorisation",
        action="store_true",
        help="Also check for copies of training images: the RMS pixel distance "
        "of up to 1,000 samples to their nearest training image, over the same "
        "of held-out real images (the test split; for a folder, which is "
        "trained on whole, each of 1,000 training images against the others, "
        "as the neighbours command's reference): about 1 or more, no copying; "
        "well below 1, copies.",
    )
    parser.add_argument(
        "--num-samples",
        type=int,
        default=10_000,
        help="Generated (or --compare-real) images the metrics use "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--num-real",
        type=int,
        help="Random subset of the real split to use (default: all of it).",
    )
    parser.add_argument(
        "--latent-distribution",
        choices=LATENT_DISTRIBUTIONS,
        help="Distribution of the latents (default: the run's, else normal).",
    )
    parser.add_argument(
        "--forward-batch",
        type=int,
        default=250,
        help="Latents per forward pass of the generator, to bound memory; the "
        "numbers do not depend on it (default: %(default)s).",
    )
    parser.add_argument(
        "--seed", type=cli.seed_value, default=0, help="Seed of latents and subsets."
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="Also write the results here (.json); never over an input or into "
        "a run directory.",
    )
    return parser


def run(args, argv) -> dict:
    """Measures what the command line names, prints it, writes the JSON."""
    from dcgan_tf.quality.evaluation import evaluate
    from dcgan_tf.sampling import drawing as sampling
    from dcgan_tf.system import files

    generator = None
    if args.generator is not None:
        generator = sampling.load_generator(args.generator)
        print(cli.describe_generator(generator))
    measure = functools.partial(
        evaluate,
        generator,
        dataset=args.dataset,
        data_dir=args.data_dir,
        split=args.split,
        compare_real=args.compare_real,
        features=args.features,
        inception_weights=args.inception_weights,
        metrics=args.metrics,
        num_samples=args.num_samples,
        num_real=args.num_real,
        latent_distribution=args.latent_distribution,
        seed=args.seed,
        forward_batch=args.forward_batch,
        memorisation=args.memorisation,
    )
    try:
        record = measure()
    except Exception as error:
        if not cli.out_of_memory(error):
            raise
        # A ValueError: `cli.run_command` prints it as it is, with this
        # command's flags rather than training's.
        raise ValueError(
            f"out of memory ({type(error).__name__}); lower --num-samples, "
            "--num-real or --forward-batch."
        ) from None
    record["command"] = f"{PROG} {' '.join(argv)}"
    record["date"] = datetime.date.today().isoformat()
    print(format_table(record))
    if args.json:
        print(f"wrote {files.write_json(args.json, record)}")
    return record


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    if args.generator is None and args.compare_real is None:
        cli.fail(PROG, "pass a run directory or .keras file, or --compare-real.")
    if args.generator is not None:
        args.generator = cli.locate_generator(PROG, args.generator)
    for name in ("num_samples", "num_real"):
        value = getattr(args, name)
        if value is not None and value < 2:
            cli.fail(PROG, f"--{name.replace('_', '-')} must be at least 2.")
    cli.check_positive(parser, args, "forward_batch")
    if ARTIFACTS in args.metrics and PERIODIC not in args.metrics:
        args.metrics.append(PERIODIC)
    for name in ("num_samples", "num_real"):
        value = getattr(args, name)
        if PR in args.metrics and value is not None and value <= K:
            cli.fail(
                PROG,
                f"precision and recall (pr) need more than {K} images in each set "
                f"(k = {K} neighbours); raise --{name.replace('_', '-')} or leave pr "
                "out of --metrics.",
            )
    if args.json:
        cli.check_image_path(parser, args.json, "--json", suffixes=(".json",))
    read = [
        ("the --data-dir", args.data_dir),
        ("the --inception-weights", args.inception_weights),
    ]
    if args.generator is not None:
        read += outputs.generator_inputs(args.generator)
    written = [outputs.Output("--json", args.json)]
    cli.run_command(PROG, lambda: outputs.check_outputs(written, read))
    cli.run_command(PROG, cli.check_backend)
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    return cli.run_command(PROG, lambda: run(args, argv))


if __name__ == "__main__":
    main()
