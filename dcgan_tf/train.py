"""Train a DCGAN: `python -m dcgan_tf.train --dataset fashion_mnist` (or `dcgan-train`).

Every flag is generated from a `TrainConfig` field; see `--help`.
"""

import argparse
import dataclasses
import json
import sys
import warnings

EXAMPLES = """\
examples:
  # Fashion-MNIST with the tutorial's presets (batch 128, 50 epochs)
  python -m dcgan_tf.train

  # five quick epochs, a look at samples/ and progress.gif after each
  python -m dcgan_tf.train --dataset fashion_mnist --epochs 5

  # CIFAR-10 from a local folder of JPEGs (train/<class>/*.jpg)
  python -m dcgan_tf.train --dataset cifar10 --data-dir ~/data/cifar10

  # BIKED bicycles at 128x128x3, padded to keep the wide side views whole
  python -m dcgan_tf.train --dataset biked --data-dir ~/data/biked --fit pad

  # any folder of images, at 64x64
  python -m dcgan_tf.train --dataset folder --data-dir ~/photos --image-size 64

  # continue a stopped run from its last completed epoch (or to more epochs)
  python -m dcgan_tf.train --resume checkpoints/00003-fashion_mnist --epochs 80

  # two steps on synthetic images, writing every artifact
  python -m dcgan_tf.train --dry-run
"""


def build_parser() -> argparse.ArgumentParser:
    from dcgan_tf.config import TrainConfig

    parser = argparse.ArgumentParser(
        prog="python -m dcgan_tf.train",
        description="Train a DCGAN (Radford et al. 2015) and write a run directory "
        "of sample grids, a GIF, a metrics CSV and plot, and checkpoints.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for field in dataclasses.fields(TrainConfig):
        kind = next((k for k in (int, float) if field.type in (k, k | None)), str)
        default = field.default
        help_text = field.metadata["help"]
        if default is not None:
            help_text += f" (default: {default})"
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            type=kind,
            default=None,
            choices=field.metadata.get("choices"),
            help=help_text,
        )
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="Continue the run in RUN_DIR from its last completed epoch; only "
        "--epochs may change.",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Train two steps on synthetic images and write every artifact.",
    )
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)

    from dcgan_tf.config import TrainConfig
    from dcgan_tf.data import DataError, describe

    values = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name) is not None
    }
    if args.resume and set(values) - {"epochs"}:
        flags = ", ".join("--" + k.replace("_", "-") for k in sorted(values))
        parser.error(f"with --resume only --epochs may be given, not {flags}.")
    config = TrainConfig(**values)

    from dcgan_tf import runs

    warnings.showwarning = _show_warning
    try:
        if args.resume:
            shown = runs.load_run_config(args.resume, epochs=config.epochs)
        else:
            shown = config.resolve()
            shown.validate()
        print("configuration:", json.dumps(dataclasses.asdict(shown), indent=2))
        print(f"seed: {shown.seed}")
        if not args.dry_run:
            print("data:", describe(shown.dataset, shown.data_dir), flush=True)
        run = runs.train(
            config,
            resume=args.resume,
            dry_run=args.dry_run,
            verbose="auto" if sys.stdout.isatty() else 2,
        )
    except (ValueError, FileNotFoundError, DataError) as error:
        parser.error(str(error))
    print(f"run directory: {run.run_dir}")
    if run.interrupted:
        print(
            f"Interrupted. Resume from the last completed epoch with: "
            f"python -m dcgan_tf.train --resume {run.run_dir}"
        )
        sys.exit(130)
    if run.stopped_on_nan:
        print(
            "A loss became NaN; training stopped and the last good checkpoint is "
            f"kept in {run.run_dir}. Try a lower --learning-rate.",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
