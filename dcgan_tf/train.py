"""Train a DCGAN: `python -m dcgan_tf.train --dataset fashion_mnist` (or `dcgan-train`).

Every flag is generated from a `TrainConfig` field; see `--help`.
"""

import argparse
import json
import sys

from dcgan_tf import cli
from dcgan_tf.config import TrainConfig
from dcgan_tf.system.console import KeptOutput
from dcgan_tf.training.interrupt import (
    Interrupted,
    Interruptions,
    describe,
    exit_code,
    ignore_further,
)

PROG = "python -m dcgan_tf.train"
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
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train a DCGAN (Radford et al. 2015) and write a run directory "
        "of sample grids, a GIF, a metrics CSV and plot, and checkpoints.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_config_arguments(parser, TrainConfig)
    cli.add_backend_argument(parser)
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="Continue the run in RUN_DIR from its last completed epoch. Flags "
        "equal to the recorded ones may be repeated; --epochs, the learning "
        "rates (--learning-rate, --d-/--g-learning-rate) and --beta-1 may change.",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Train two steps on synthetic images and write every artifact.",
    )
    return parser


def main(argv=None):
    """The command: a signal at any moment (while TensorFlow imports too) and
    a stdout that closes or breaks end it with one line at most, never a
    traceback, and never before the epoch it trained is saved."""
    started = []  # the prepared run, once its directory exists
    try:
        # As the command, the signals stay caught to the process's end.
        with KeptOutput(PROG), Interruptions(argv is None) as interruptions:
            _main(argv, interruptions, started)
    except Interrupted as stop:  # outside `run_command`'s own catch
        print(_stopped_line(stop.signum, started), file=sys.stderr, flush=True)
        sys.exit(exit_code(stop.signum))
    finally:
        if argv is None:
            # The command's process ends now, its run saved: a signal while
            # Python shuts down must not kill it without a word.
            ignore_further()


def _main(argv, interruptions, started):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume and args.dry_run:
        cli.fail(
            PROG, "--dry-run trains on synthetic images: it cannot --resume a run."
        )
    given = cli.config_values(args, TrainConfig)
    backend = args.backend or _recorded_backend(args.resume)
    cli.run_command(PROG, lambda: cli.use_backend(backend))
    cli.quiet_tensorflow()
    cli.show_warnings_in_one_line()

    from dcgan_tf import rundir
    from dcgan_tf.config import resume_config
    from dcgan_tf.data import find
    from dcgan_tf.system.files import WriteError

    def start():
        # The configuration is resolved and checked here, once; the run adds
        # what only it knows (`dcgan_tf.config.resolving.complete`).
        resumed = None
        if args.resume:
            resumed = rundir.RunDir(args.resume)
            config = resume_config(resumed.read_config(), given)
        else:
            config = TrainConfig(**given).resolve(dry_run=args.dry_run)
        config.validate()
        if resumed is not None:
            done = resumed.completed_epochs()
            if done >= config.epochs and resumed.generator_behind(done):
                _rewrite_generator(resumed, config, done)
            if "epochs" not in given and done >= config.epochs:
                print(
                    f"{resumed} has completed its {done} epochs; pass --epochs "
                    f"above {done} to train it further."
                )
                sys.exit(0)
        if not args.dry_run:  # a data error in a second, before TensorFlow loads
            print("data:", find(config.dataset, config.data_dir), flush=True)
        from dcgan_tf.training import run as training

        run = training.prepare(config, resume=resumed, dry_run=args.dry_run)
        started.append(run)
        print("configuration:", json.dumps(run.config.to_dict(), indent=2))
        print(run.execution.line())
        print(f"run directory: {run.run_dir}", flush=True)
        if args.resume:
            print(_resume_line(run), flush=True)
        return run

    run = cli.run_command(
        PROG, start, stopped=lambda signum: _stopped_line(signum, started)
    )
    from dcgan_tf.training import run as training

    verbose = "auto" if sys.stdout.isatty() else 2
    # From here a signal only asks: training saves the step it stops at, and
    # after training everything is saved.
    interruptions.deferring = True
    try:
        run = training.fit(run, verbose=verbose)
    except (rundir.RunDirError, WriteError) as error:
        cli.fail(PROG, f"{error} Resume with: {PROG} --resume {run.run_dir}")
    except Exception as error:
        if not cli.out_of_memory(error):
            raise  # a bug: its traceback is what a report needs
        cli.fail(
            PROG,
            f"out of memory ({type(error).__name__}); the completed epochs are "
            f"saved: free memory and resume with {PROG} --resume {run.run_dir}, "
            f"or start again and {cli.OUT_OF_MEMORY_ADVICE}.",
        )
    late = None
    if run.interrupted and _finished(run):
        # The signal came after the last epoch's checkpoint: nothing to resume.
        late, run.interrupted = run.interrupted, None
    late = late or interruptions.signum  # after training returned
    if run.interrupted:
        ignore_further()  # the step is saved: a repeated signal changes nothing
        # On a line of its own: Keras' progress bar may have left one open.
        print(file=sys.stderr)
        print(_interrupted_line(run), file=sys.stderr, flush=True)
        sys.exit(exit_code(run.interrupted))
    if run.diverged:
        if run.saved_epoch:
            kept = (
                f"the last good checkpoint (epoch {run.saved_epoch}) is kept; resume "
                f"it with {PROG} --resume {run.run_dir} --learning-rate LOWER"
            )
        else:
            kept = "no epoch had completed, so nothing was saved"
        print(
            f"A loss or a weight became NaN or infinite and training stopped; {kept}.",
            file=sys.stderr,
        )
        sys.exit(1)
    print(f"done: trained to epoch {run.config.epochs} in {run.run_dir}")
    if late:
        print(
            f"{describe(late)} came after the last epoch was saved: the run is "
            "complete.",
            file=sys.stderr,
        )


def _finished(run) -> bool:
    """Whether the run's last checkpoint is its last epoch's."""
    saved = run.saved
    return saved is not None and not saved.step and saved.epoch >= run.config.epochs


def _stopped_line(signum, started) -> str:
    """What a signal before training says (`started`: the prepared run, once
    its directory exists)."""
    stopped = f"{PROG}: stopped by {describe(signum)} before training started"
    if not started:
        return f"{stopped}; nothing was written."
    return f"{stopped}; resume with: {PROG} --resume {started[0].run_dir}"


def _rewrite_generator(run, config, done) -> None:
    """A finished run whose `generator.keras` a kill left missing, damaged or
    an epoch old: written again from its last checkpoint, said in one line."""
    from dcgan_tf.training import run as training

    behind = run.generator_behind(done)
    checkpoint = training.rewrite_generator(run, config)
    print(
        f"{behind}; rewritten from {checkpoint.weights.name} (epoch "
        f"{checkpoint.epoch}).",
        flush=True,
    )
    sys.exit(0)


def _recorded_backend(resume) -> str | None:
    """For `--resume` with neither `--backend` nor `KERAS_BACKEND`: the
    backend the run's last checkpoint was trained under, so that the resumed
    run goes on bit for bit (another backend draws other numbers). None for
    a new run, a choice already made, or a run that recorded none."""
    import os

    if resume is None or os.environ.get("KERAS_BACKEND"):
        return None
    import warnings

    from dcgan_tf import rundir

    try:
        with warnings.catch_warnings():
            # The resume reads the run again and warns then, in one line.
            warnings.simplefilter("ignore")
            checkpoint = rundir.RunDir(resume).latest_checkpoint()
    except (OSError, ValueError, rundir.RunDirError):
        return None  # the resume itself says what is wrong, in one line
    backend = getattr(checkpoint, "backend", None)
    if backend is not None:
        print(f"backend: {backend}, the one this run was trained under", flush=True)
    return backend


def _resume_line(run) -> str:
    if run.saved is None:
        return f"resuming {run.run_dir} from its start: no step was checkpointed."
    return (
        f"resuming {run.run_dir} from {run.saved.describe()} "
        f"({run.saved.weights.name})."
    )


def _interrupted_line(run) -> str:
    from dcgan_tf import rundir

    saved = (
        f"checkpointed at {run.saved.describe()} ({run.saved.weights.name})"
        if run.saved
        else "no step had been checkpointed"
    )
    generator = run.run_dir.file(rundir.INTERRUPTED_GENERATOR)
    kept = f", the generator as it was in {generator}" if generator.is_file() else ""
    return (
        f"Stopped by {describe(run.interrupted)}: {saved}{kept}. Resume with: "
        f"{PROG} --resume {run.run_dir}"
    )


if __name__ == "__main__":
    main()
