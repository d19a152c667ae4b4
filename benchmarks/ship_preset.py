"""Ships a trained run as a preset (issue #31): its generator copied into
`dcgan_tf/presets/NAME/`, measured (FID, KID, IS on the data set's shipped
classifier), with its model card (card.json, card.md) and sample grid.

A maintainer's tool, not a command of the package: it writes into the
package's own data folder, which only the repository's maintainers change
(an installed package's users load presets, they never ship them), so it is
kept with the benchmarks, like the scripts that train the shipped
classifiers. The work is `dcgan_tf.shipping.ship.ship`'s.

    python benchmarks/ship_preset.py /work/runs/ship-fashion_mnist \\
        --name fashion_mnist --command "python -m dcgan_tf.train \\
        --run-dir /work/runs/ship-fashion_mnist" --machine "..."

then `git add dcgan_tf/presets/fashion_mnist`.
"""

import argparse
import sys

from dcgan_tf import cli
from dcgan_tf.shipping import ship as shipping

PROG = "python benchmarks/ship_preset.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Ship a trained run's generator as a preset, with its card.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="A run directory.")
    parser.add_argument("--name", required=True, help="The preset's name.")
    parser.add_argument(
        "--root",
        default=None,
        help="The folder of presets (default: the package's, dcgan_tf/presets).",
    )
    parser.add_argument(
        "--discriminator",
        action="store_true",
        help="Also ship the run's D (its newest checkpoint's), for represent.",
    )
    parser.add_argument(
        "--num-samples",
        type=int,
        default=shipping.NUM_SAMPLES,
        help="Samples the figures are measured on (default: %(default)s).",
    )
    parser.add_argument(
        "--num-real",
        type=int,
        default=None,
        help="Real test images compared with (default: all).",
    )
    parser.add_argument(
        "--seed",
        type=cli.seed_value,
        default=shipping.EVALUATION_SEED,
        help="Seed of the evaluation's latents (default: %(default)s).",
    )
    parser.add_argument(
        "--data-dir", default=None, help="The data set (default: the run's)."
    )
    parser.add_argument(
        "--command",
        default=None,
        help="The exact command that trained it (default: one rebuilt from "
        "its config.json, marked as such).",
    )
    parser.add_argument(
        "--machine",
        default=None,
        help="The machine that trained it (default: this one's CPU, marked as "
        "the machine that shipped it).",
    )
    parser.add_argument(
        "--licence",
        default=None,
        help="The data's licence, for a data set whose licence is not recorded.",
    )
    parser.add_argument(
        "--replace", action="store_true", help="Replace a preset of that name."
    )
    return parser


def run(args) -> str:
    import json

    folder = shipping.ship(
        args.run_dir,
        args.name,
        root=args.root,
        discriminator=args.discriminator,
        num_samples=args.num_samples,
        num_real=args.num_real,
        seed=args.seed,
        data_dir=args.data_dir,
        command=args.command,
        machine_text=args.machine,
        licence=args.licence,
        replace=args.replace,
    )
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    sizes = ", ".join(
        f"{path.name} {path.stat().st_size / 2**20:.2f} MiB"
        for path in sorted(folder.iterdir())
    )
    figures = ", ".join(
        f"{label} {text}"
        for label, text in shipping.cards.figures_rows(card["evaluation"])
    )
    return f"Shipped {folder}: {sizes}; {figures}"


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    cli.check_positive(parser, args, "num_samples", "num_real")
    cli.quiet_tensorflow()
    cli.show_warnings_in_one_line()
    print(cli.run_command(PROG, lambda: run(args)))


if __name__ == "__main__":
    sys.exit(main())
