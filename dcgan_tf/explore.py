"""Explores a trained generator in the browser: a local page that draws
samples live, walks between picks, does the paper's vector arithmetic
(Radford et al. 2015 §6), slides along directions, projects an image, and
downloads PNG, GIF and the `.npz` latents `generate --from` reads.

    python -m dcgan_tf.explore checkpoints/00001-fashion_mnist

prints the page's address and serves it until Ctrl-C; it opens nothing.

    python -m dcgan_tf.explore checkpoints/00001-fashion_mnist --static site

writes the page as a folder that needs no server (the generator as ONNX,
run in the browser by onnxruntime-web; `dcgan_tf.explorer.static_site`).
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
  python -m dcgan_tf.explore checkpoints/00001-fashion_mnist --static site

The page works offline. --host 0.0.0.0 lets other machines reach it: anyone
who can reach the port can use it (it has no password). Only the page itself
may use it: requests naming another host, or sent by another site, are
refused (403).

--static DIR writes the page as files any static host serves (python -m
http.server -d DIR): the generator runs in the browser (ONNX, onnxruntime-web);
projecting an image and the downloads need the server.
"""
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"


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
        help=f"Port to listen on; 0 picks a free one (default: {DEFAULT_PORT}).",
    )
    parser.add_argument(
        "--host",
        help=f"Address to listen on (default: {DEFAULT_HOST}, this machine only).",
    )
    parser.add_argument(
        "--static",
        metavar="DIR",
        help="Write the page as a folder of static files that needs no server "
        "(the generator as ONNX, run by onnxruntime-web in the browser) "
        "instead of serving it. An existing DIR must be empty.",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="With --static: replace a page that --static wrote in DIR before.",
    )
    parser.add_argument(
        "--onnxruntime-web",
        metavar="PATH",
        help="With --static: onnxruntime-web's files, the .tgz of `npm pack "
        "onnxruntime-web@VERSION` or its package folder (default: the cache, "
        "else downloaded from registry.npmjs.org).",
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
    except KeyboardInterrupt:
        # Ctrl-C while a request was being answered, or while the server
        # closed: it stops the server all the same.
        pass
    except OSError as error:
        if isinstance(error, socket.gaierror):  # an unknown host name
            raise ValueError(f"Cannot listen on host {args.host!r}: {error}.") from None
        raise ValueError(
            f"Cannot listen on {args.host}:{args.port}: "
            f"{error.strerror or error}; pass another --port or --host."
        ) from None
    return "Stopped."


def write_static(args, ort_files) -> str:
    """Writes the static page; returns what to tell the user."""
    from dcgan_tf.explorer import Explorer
    from dcgan_tf.explorer.static_site import write_static_site
    from dcgan_tf.sampling import loading as saved_generator

    generator = saved_generator.load_generator(args.generator)
    print(cli.describe_generator(generator))
    site = write_static_site(
        Explorer(generator), args.static, ort_files, args.overwrite
    )
    return (
        f"Wrote {site.path} ({site.size / 1e6:.1f} MB); serve it with "
        f"`python -m http.server -d {site.path}` and open http://localhost:8000/ "
        "(from a file:// address the browser cannot run it)"
    )


def check_static(parser, args):
    """Checks --static's folder and gets onnxruntime-web, before any work."""
    from dcgan_tf.cli import outputs
    from dcgan_tf.explorer import ortweb, static_site

    written = [outputs.Output("--static", args.static, folder=True)]
    read = outputs.generator_inputs(args.generator)
    cli.run_command(parser.prog, lambda: outputs.check_outputs(written, read))
    cli.run_command(
        parser.prog, lambda: static_site.check_folder(args.static, args.overwrite)
    )
    cli.check_writable(parser, Path(args.static) / "index.html", "--static")
    return cli.run_command(
        parser.prog, lambda: ortweb.onnxruntime_web(args.onnxruntime_web)
    )


def check_onnx():
    import keras

    from dcgan_tf.exporting import check_dependencies, check_supported

    backend = keras.backend.backend()
    check_dependencies(check_supported("onnx", backend), backend)


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.static is None and (args.overwrite or args.onnxruntime_web):
        cli.fail(parser.prog, "--overwrite and --onnxruntime-web go with --static.")
    if args.static and (args.port is not None or args.host is not None):
        cli.fail(
            parser.prog,
            "--static writes files and serves nothing; drop --port and --host.",
        )
    args.port = DEFAULT_PORT if args.port is None and not args.static else args.port
    args.host = DEFAULT_HOST if args.host is None and not args.static else args.host
    if args.port is not None and not 0 <= args.port <= 65535:
        cli.fail(parser.prog, f"--port must be from 0 to 65535, got {args.port}.")
    args.generator = cli.locate_generator(parser.prog, args.generator)
    if not Path(args.generator).exists():
        cli.fail(
            parser.prog,
            f"No such run directory or .keras file: {args.generator}",
        )
    ort_files = check_static(parser, args) if args.static else None
    cli.run_command(parser.prog, cli.check_backend)
    cli.quiet_tensorflow()  # after the checks, so that --help answers at once
    cli.show_warnings_in_one_line()
    if args.static:
        cli.run_command(parser.prog, check_onnx)
        print(cli.run_command(parser.prog, lambda: write_static(args, ort_files)))
        return
    print(cli.run_command(parser.prog, lambda: run(args)))


if __name__ == "__main__":
    main()
