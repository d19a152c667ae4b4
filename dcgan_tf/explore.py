"""Explores a trained generator in the browser: a local page that draws
samples live, walks between picks, does the paper's vector arithmetic
(Radford et al. 2015 §6), slides along directions, projects an image, and
downloads PNG, GIF and the `.npz` latents `generate --from` reads.

    python -m dcgan_tf.explore checkpoints/00001-fashion_mnist

prints the page's address and serves it until Ctrl-C; it opens nothing.
"""

import argparse
import socket
from pathlib import Path

from dcgan_tf import cli

PROG = "python -m dcgan_tf.explore"
EPILOG = """examples:
  python -m dcgan_tf.explore checkpoints/00001-fashion_mnist
  python -m dcgan_tf.explore checkpoints/00001-fashion_mnist/generator_best.keras \\
      --port 9000
  python -m dcgan_tf.explore checkpoints/00001-fashion_mnist --host 0.0.0.0

The page works offline. --host 0.0.0.0 lets other machines reach it: anyone
who can reach the port can use it (it has no password). Only the page itself
may use it: requests naming another host, or sent by another site, are
refused (403).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Explore a trained generator on a local web page.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "generator",
        metavar="RUN_OR_FILE",
        help=cli.generator_help(),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8765,
        help="Port to listen on; 0 picks a free one (default: %(default)s).",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="Address to listen on (default: %(default)s, this machine only).",
    )
    return parser


def run(args) -> str:
    """Loads the generator and serves the page until Ctrl-C."""
    from dcgan_tf import explorer
    from dcgan_tf.sampling import loading as saved_generator

    generator = saved_generator.load_generator(args.generator)
    print(cli.describe_generator(generator))
    if generator.class_names:
        print("classes:", ", ".join(generator.class_names))
    app = explorer.create_app(explorer.Explorer(generator))

    def announce(address):
        print(f"Exploring at {address} (Ctrl-C stops it)", flush=True)

    try:
        explorer.serve(app, args.host, args.port, announce)
    except OSError as error:
        if isinstance(error, socket.gaierror):  # an unknown host name
            raise ValueError(f"Cannot listen on host {args.host!r}: {error}.") from None
        raise ValueError(
            f"Cannot listen on {args.host}:{args.port}: "
            f"{error.strerror or error}; pass another --port or --host."
        ) from None
    return "Stopped."  # werkzeug ends serve_forever quietly on Ctrl-C


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        cli.fail(parser.prog, f"--port must be from 0 to 65535, got {args.port}.")
    args.generator = cli.locate_generator(parser.prog, args.generator)
    if not Path(args.generator).exists():
        cli.fail(
            parser.prog,
            f"No such run directory or .keras file: {args.generator}",
        )
    cli.run_command(parser.prog, cli.check_backend)
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    print(cli.run_command(parser.prog, lambda: run(args)))


if __name__ == "__main__":
    main()
