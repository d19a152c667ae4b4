"""Measures a trained discriminator as a feature extractor (Radford et al.
2015, §5): a linear classifier on its max-pooled block outputs, against raw
pixels, the same D untrained and the same architecture trained on the labels
alone, for a few numbers of labels per class.
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

from dcgan_tf import cli, presets
from dcgan_tf.cli import outputs
from dcgan_tf.config import DATASETS

PROG = "python -m dcgan_tf.represent"
EPILOG = """examples:
  python -m dcgan_tf.represent checkpoints/00000-fashion_mnist
  python -m dcgan_tf.represent checkpoints/00001-cifar10 --dataset cifar10 \\
      --data-dir data/cifar10 --labels-per-class 10 100 all --per-layer \\
      --json represent.json
  python -m dcgan_tf.represent discriminator.keras --dataset mnist \\
      --methods dcgan pixels
"""
METHODS = ("dcgan", "pixels", "untrained", "supervised")
CLASSIFIERS = ("logistic", "svm")


def labels_value(text: str):
    """The `type` of `--labels-per-class`: a count of 1 or more, or `all`."""
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number or 'all', got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Measure a trained discriminator's features with a linear "
        "classifier, against raw pixels, the same D untrained and the same D "
        "trained on the labels alone (Radford et al. 2015, section 5).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "discriminator",
        metavar="RUN_OR_DISCRIMINATOR",
        help="A run directory of dcgan_tf.train (its newest checkpoint's D), "
        "a discriminator saved as .keras, or the name of a shipped preset that "
        f"ships its D (shipped: {presets.listing(member=presets.DISCRIMINATOR)}); "
        "a run directory or file "
        "of that name here wins.",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="Labelled data set to classify (default: the run's).",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="Where the data set's files are (default: the run's, then the "
        "usual places).",
    )
    parser.add_argument(
        "--labels-per-class",
        type=labels_value,
        nargs="+",
        default=[100, None],
        metavar="N|all",
        help="Labelled training images per class, each measured on its own "
        "(default: 100 all).",
    )
    parser.add_argument(
        "--draws",
        type=int,
        default=3,
        help="Random draws of the labels averaged per count; 'all' has one "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--seed",
        type=cli.seed_value,
        default=0,
        help="Seed of the first draw, the splits and the untrained weights "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="What to measure (default: all).",
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        default=None,
        help="Block outputs whose features to use, e.g. block2_lrelu (default: "
        "every block).",
    )
    parser.add_argument(
        "--per-layer",
        action="store_true",
        help="Also measure each layer's features alone.",
    )
    parser.add_argument(
        "--grid",
        type=int,
        default=4,
        help="Side of the grid each block is max-pooled to (default: the "
        "paper's %(default)s).",
    )
    parser.add_argument(
        "--classifier",
        choices=CLASSIFIERS,
        default="logistic",
        help="'logistic' regression or the paper's L2-'svm' (default: %(default)s).",
    )
    parser.add_argument(
        "--c-values",
        type=float,
        nargs="+",
        default=None,
        help="Inverse regularisation strengths tried on the validation split "
        "(default: 1e-4 1e-3 1e-2 0.1 1).",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads of the linear fits (default: all cores; 1 is faster "
        "on a machine other jobs keep busy).",
    )
    parser.add_argument(
        "--train-limit",
        type=int,
        default=None,
        help="Use only the first this many training images (faster).",
    )
    parser.add_argument(
        "--test-limit",
        type=int,
        default=None,
        help="Use only the first this many test images (faster).",
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        default=None,
        help="Also write the table's figures, settings and this command here.",
    )
    cli.add_backend_argument(parser)
    return parser


def check_json(parser, args) -> Path | None:
    """Refuses a `--json` inside a run directory or over an input (the shared
    check of every command, `dcgan_tf.cli.outputs`)."""
    if args.json is None:
        return None
    path = cli.check_image_path(parser, args.json, "--json", suffixes=(".json",))
    read = [
        ("the discriminator", args.discriminator),
        ("the --data-dir", args.data_dir),
    ]
    written = [outputs.Output("--json", path)]
    cli.run_command(PROG, lambda: outputs.check_outputs(written, read))
    return path


def run(args, json_path) -> str:
    from dcgan_tf import probe
    from dcgan_tf.probe import data as probe_data
    from dcgan_tf.system import files, machine

    start, load = time.perf_counter(), machine.load_average()
    loaded = probe.load_discriminator(args.discriminator)
    print(probe_data.describe(loaded))
    train, test, dataset = probe_data.load_splits(
        loaded, args.dataset, args.data_dir, args.train_limit, args.test_limit
    )
    print(f"{dataset}: {len(train[0]):,} training and {len(test[0]):,} test images")
    options = {} if args.c_values is None else {"c_values": args.c_values}
    report = probe.probe(
        loaded.model,
        train,
        test,
        labels_per_class=list(dict.fromkeys(args.labels_per_class)),
        methods=args.methods,
        layers=args.layers,
        per_layer=args.per_layer,
        grid=args.grid,
        draws=args.draws,
        seed=args.seed,
        classifier=args.classifier,
        threads=args.threads,
        progress=print,
        **options,
    )
    print(probe.format_table(report))
    if json_path is None:
        return ""
    record = {
        "command": " ".join(
            ["python -m dcgan_tf.represent", *map(shlex.quote, args.argv)]
        ),
        "discriminator": str(loaded.source),
        "epoch": loaded.epoch,  # completed; "step" more into the next one
        "step": loaded.step,
        "dataset": dataset,
        **report.to_dict(),
        # How long it took, where: fits and feature extraction are CPU-bound.
        "seconds": round(time.perf_counter() - start, 1),
        "load_average": {"start": load, "end": machine.load_average()},
        "machine": machine.cpu_info(),
    }
    return f"Wrote {files.write_json(json_path, record)}"


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.discriminator = cli.locate_generator(
        parser.prog, args.discriminator, member=presets.DISCRIMINATOR
    )
    cli.check_positive(
        parser, args, "draws", "grid", "threads", "train_limit", "test_limit"
    )
    cli.check_positive_finite(parser, args, "c_values")
    if args.seed + args.draws - 1 > cli.MAX_SEED:
        cli.fail(
            parser.prog,
            f"--seed {args.seed} with --draws {args.draws} seeds draws up to "
            f"{args.seed + args.draws - 1}, past {cli.MAX_SEED}; pick a smaller "
            "--seed.",
        )
    json_path = check_json(parser, args)
    cli.run_command(PROG, lambda: cli.use_backend(args.backend))
    cli.quiet_tensorflow()
    cli.show_warnings_in_one_line()
    message = cli.run_command(PROG, lambda: run(args, json_path))
    if message:
        print(message)


if __name__ == "__main__":
    main()
