"""Trains the small domain classifier whose features measure generated images.

    python -m dcgan_tf.train_classifier --dataset fashion_mnist \\
        --data-dir ~/data/fashion-mnist \\
        --out dcgan_tf/weights/fashion_mnist_classifier.weights.h5

writes the weights (`dcgan_tf.quality.classifiers`) and records their test
accuracy, the command and the date in `classifiers.json` beside them.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

from dcgan_tf import cli
from dcgan_tf.cli import outputs
from dcgan_tf.quality.classifiers import (
    IMAGE_SHAPES,
    TRAIN_COMMAND,
    TRAINING,
    record_path,
)

PROG = TRAIN_COMMAND
EPILOG = f"""examples:
  {PROG} --dataset fashion_mnist --data-dir ~/data/fashion-mnist \\
      --out dcgan_tf/weights/fashion_mnist_classifier.weights.h5
  {PROG} --dataset cifar10 --data-dir /tmp/cifar \\
      --out dcgan_tf/weights/cifar10_classifier.weights.h5
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train the small domain classifier whose features "
        "dcgan_tf.evaluate and the training's quality monitor use for FID, KID "
        "and the Inception Score.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dataset", required=True, choices=sorted(IMAGE_SHAPES), help="Data set."
    )
    parser.add_argument(
        "--data-dir",
        help="Where the data set's labelled files are (default: the usual "
        "places, then a download).",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="Weights file to write (must end in .weights.h5); the test accuracy "
        "is recorded in classifiers.json beside it.",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help="Epochs (default: "
        + ", ".join(f"{v['epochs']} {k}" for k, v in sorted(TRAINING.items()))
        + ").",
    )
    parser.add_argument(
        "--batch-size", type=int, default=128, help="Images per step (default: 128)."
    )
    parser.add_argument("--seed", type=cli.seed_value, default=0, help="Random seed.")
    return parser


def run(args, out: Path, argv) -> str:
    """Trains, writes the weights and the record; returns what to print."""
    import keras

    from dcgan_tf.quality.classifiers import (
        read_records,
        save_classifier,
        train_classifier,
        write_record,
    )

    record = record_path(out)
    read_records(record)  # a damaged record fails now, not after training
    start = time.time()
    model, accuracy = train_classifier(
        args.dataset, args.data_dir, args.epochs, args.batch_size, args.seed
    )
    save_classifier(model, out)
    entry = {
        "weights": out.name,
        "test_accuracy": round(accuracy, 4),
        "epochs": args.epochs or TRAINING[args.dataset]["epochs"],
        "batch_size": args.batch_size,
        "seed": args.seed,
        "parameters": model.count_params(),
        "train_minutes": round((time.time() - start) / 60, 1),
        "cpu_cores": os.cpu_count(),
        "command": f"{PROG} {' '.join(argv)}",
        "date": datetime.date.today().isoformat(),
        "keras": keras.__version__,
    }
    write_record(record, args.dataset, entry)
    return f"test accuracy {accuracy:.4f}; wrote {out} and {record}"


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    if not args.out.endswith(".weights.h5"):
        cli.fail(PROG, "--out must end in .weights.h5 (Keras 3 requires it).")
    out = cli.check_image_path(parser, args.out, suffixes=(".h5",))
    cli.check_positive(parser, args, "epochs", "batch_size")
    written = [
        outputs.Output("--out", out),
        outputs.Output("--out", record_path(out), f"the record {record_path(out)}"),
    ]
    read = [("the --data-dir", args.data_dir)]
    cli.run_command(PROG, lambda: outputs.check_outputs(written, read))
    cli.run_command(PROG, cli.check_backend)
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    print(cli.run_command(PROG, lambda: run(args, out, argv)))


if __name__ == "__main__":
    main()
