"""How a command ends: one line on stderr and exit code 2 for what the user can
mend (the library's expected errors, running out of memory), the shell's code
for a signal, a traceback only for a bug; warnings in one line; TensorFlow's
start-up lines hidden."""

import signal
import sys
import warnings

from dcgan_tf.rundir import RunDirError
from dcgan_tf.system.files import WriteError
from dcgan_tf.training.interrupt import Interrupted, describe, exit_code


def quiet_tensorflow() -> None:
    """Hides TensorFlow's C++ start-up lines (absl, oneDNN, CUDA) when it is imported.

    Imports nothing: TensorFlow is imported when a command first needs it, so
    that an error found before (a flag, the data) answers at once. Importing
    `dcgan_tf` already does this (`dcgan_tf.system.console`); kept so that each
    command says so where it starts. `TF_CPP_MIN_LOG_LEVEL=0` shows the lines.
    """
    from dcgan_tf.system import console

    console.install()


def show_warnings_in_one_line() -> None:
    """Shows Python warnings as `warning: MESSAGE` on stderr, without source
    lines, each message once (a file read twice is damaged only once)."""
    shown = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text not in shown:
            shown.add(text)
            print(f"warning: {text}", file=file or sys.stderr)

    warnings.showwarning = show


def fail(prog: str, message: str):
    """Prints `PROG: error: MESSAGE` as one line on stderr and exits with 2.

    For bad values and failed work; argparse's usage block is kept for
    mistakes in the flags' syntax.
    """
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)


def _expected_errors() -> tuple:
    errors = [ValueError, OSError, RunDirError, WriteError]
    # DataError is a ValueError today; named in case that changes. Only a
    # command that imported dcgan_tf.data can raise it, so it is looked up
    # rather than imported (which would import TensorFlow for every command).
    data = sys.modules.get("dcgan_tf.data")
    if data is not None and isinstance(getattr(data, "DataError", None), type):
        errors.append(data.DataError)
    return tuple(errors)


# What each backend raises when an allocation fails (numpy's is MemoryError;
# XLA says RESOURCE_EXHAUSTED in the message of a generic runtime error).
OUT_OF_MEMORY = ("MemoryError", "ResourceExhaustedError", "OutOfMemoryError")


OUT_OF_MEMORY_ADVICE = (
    "lower --batch-size, --image-size, --latent-dim or the networks' --*-filters"
)


def out_of_memory(error: BaseException) -> bool:
    """Whether `error` is a failed allocation, on any backend."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & set(OUT_OF_MEMORY)) or "RESOURCE_EXHAUSTED" in str(error)


def _describe(error: BaseException) -> str:
    """The message of an expected error, with its file for a bare OSError."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"Cannot use {error.filename}: {error.strerror}."
    return str(error) or type(error).__name__


def run_command(prog: str, body, stopped=None):
    """Runs `body()` and turns the library's expected errors into one line.

    Args:
        prog: the command's name, as its parser shows it.
        body: the work, a function of no arguments.
        stopped: a function from a signal's number to the line it prints
            (default `PROG: stopped by SIGNAL`).

    Returns:
        What `body` returns.

    Raises:
        SystemExit: 2 after a ValueError (DataError included), an OSError
            (FileNotFoundError), a RunDirError or a WriteError (writing a file),
            or running out of memory, printed as `PROG: error: MESSAGE`; 130
            after Ctrl-C.
    """
    stoppers = _stop_on_signals()
    try:
        return body()
    except KeyboardInterrupt as error:
        signum = getattr(error, "signum", signal.SIGINT)
        line = stopped(signum) if stopped else f"{prog}: stopped by {describe(signum)}"
        print(f"\n{line}", file=sys.stderr)
        sys.exit(exit_code(signum))
    except Exception as error:
        if out_of_memory(error):
            fail(
                prog, f"out of memory ({type(error).__name__}); {OUT_OF_MEMORY_ADVICE}."
            )
        # Looked up now: body() may have imported dcgan_tf.data.
        if not isinstance(error, _expected_errors()):
            raise  # a bug: its traceback is what a report needs
        fail(prog, _describe(error))
    finally:
        for signum, previous in stoppers.items():
            signal.signal(signum, previous)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def _stop_on_signals() -> dict:
    """SIGTERM and SIGHUP stop the work as Ctrl-C does (a file half written
    is removed, one line is printed), where nothing else handles them: a
    scheduler's or a closed terminal's signal would otherwise kill the
    command with no word and its temporary files left. A signal ignored
    (nohup) stays ignored, and `train`'s own handlers stay in place.

    Returns:
        The handlers replaced, by signal, to put back.
    """
    replaced = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(signum) is signal.SIG_DFL:
                replaced[signum] = signal.signal(signum, _raise_interrupted)
        except ValueError:  # not the main thread: signals are not ours
            break
    return replaced
