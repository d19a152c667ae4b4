"""Benchmark training speed: `python -m dcgan_tf.bench --dataset fashion_mnist`.

Times the `fit` path, the backend's minimal loop and a plain PyTorch loop on
the same networks, eager and under `torch.compile`, interleaved in one process
(see `dcgan_tf.speed`), on the CPU it names (`--max-isa` caps its instruction
set). Its configuration flags are `train`'s, generated from the same
`TrainConfig` fields: `--jit-compile auto` times the `fit` path as `train`
would run it (see `dcgan_tf.training.execution`).
"""

import argparse
import json
import shlex
import sys

from dcgan_tf import cli
from dcgan_tf.cli import outputs
from dcgan_tf.config import TrainConfig
from dcgan_tf.system import machine

PROG = "python -m dcgan_tf.bench"
EXAMPLES = """\
examples:
  python -m dcgan_tf.bench --dataset fashion_mnist --steps 50 --batch-size 128
  python -m dcgan_tf.bench --backend jax --dataset cifar10 --synthetic --json c.json
  python -m dcgan_tf.bench --dataset folder --image-size 64 --synthetic --steps 20
  python -m dcgan_tf.bench --dataset fashion_mnist --synthetic --max-isa avx2
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_config_arguments(parser, TrainConfig)
    cli.add_backend_argument(parser)
    parser.add_argument(
        "--steps", type=int, default=50, help="Timed steps of each path (default 50)."
    )
    parser.add_argument(
        "--block",
        type=int,
        default=10,
        help="Steps per interleaved block (default 10).",
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="Time on synthetic images."
    )
    parser.add_argument(
        "--max-isa",
        choices=sorted(machine.ISA_CAPS),
        help="Hold oneDNN, PyTorch's kernels, MKL and XLA at most at this "
        "instruction set, to see how an AVX2 machine runs (default: the CPU's own).",
    )
    parser.add_argument("--json", metavar="PATH", help="Also write the figures here.")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.steps < 1 or args.block < 1:
        cli.fail(PROG, "--steps and --block must be at least 1.")
    if args.json:
        cli.check_writable(parser, args.json, "--json")
    written = [outputs.Output("--json", args.json)]
    read = [("the --data-dir", args.data_dir)]
    cli.run_command(PROG, lambda: outputs.check_outputs(written, read))
    given = cli.config_values(args, TrainConfig)
    # The peers train the paper's plain DCGAN; so does the bench unless asked
    # otherwise (the small folders' presets augment and take --recipe modern).
    given.setdefault("augment", "none")
    given.setdefault("ema", 0.0)
    given.setdefault("recipe", "paper")
    if args.max_isa:  # before any framework loads: they read the caps then
        cli.run_command(PROG, lambda: machine.cap_isa(args.max_isa))
    cli.run_command(PROG, lambda: cli.use_backend(args.backend))
    cli.quiet_tensorflow()

    from dcgan_tf import speed

    def measure():
        config = TrainConfig(**given).resolve()
        config.validate()
        return speed.run_benchmark(config, args.steps, args.block, args.synthetic)

    result = cli.run_command(PROG, measure)
    command = sys.argv[1:] if argv is None else list(argv)
    result["command"] = shlex.join([*PROG.split(), *command])
    print(speed.format_table(result), flush=True)
    if args.json:
        cli.run_command(
            PROG, lambda: cli.write_output(args.json, json.dumps(result, indent=2))
        )
    return result


if __name__ == "__main__":
    main()
