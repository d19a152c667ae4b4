"""TensorFlow imported without its C++ start-up lines, for commands and Python alike.

TensorFlow 2.21 prints absl's "All log messages before absl::InitializeLog()",
oneDNN's notice, cudart_stub's "Could not find cuda drivers" (twice: two of its
libraries print them) and, when the devices are first listed, cuInit's error
straight to file descriptor 2, whatever `TF_CPP_MIN_LOG_LEVEL` says (measured
with levels unset and 0 to 3). So descriptor 2 itself points at /dev/null while
TensorFlow is imported and its devices listed, then is restored; later info
messages are hidden by `TF_CPP_MIN_LOG_LEVEL=1` (set when unset), warnings and
errors still show. `TF_CPP_MIN_LOG_LEVEL=0` shows everything.

`import dcgan_tf` installs `QuietImport`, which does this for the first import
of `tensorflow` in the process (by dcgan_tf, Keras or the user), so nothing is
imported before it is needed.
"""

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys


def wanted() -> bool:
    """Whether TensorFlow's start-up lines are to be hidden: unless the user set
    `TF_CPP_MIN_LOG_LEVEL=0`, asking for everything."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() != "0"


class _Silenced:
    """Points file descriptor 2 at /dev/null for the duration of a `with`."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)

    def __exit__(self, *error):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's loader, then lists its devices, with descriptor 2 silenced."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        uninstall()  # the first import only
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        with _Silenced():
            self.loader.exec_module(module)
            module.config.list_physical_devices()  # probes CUDA: cuInit's line

    def __getattr__(self, name):  # get_resource_reader, is_package, ...
        return getattr(self.loader, name)


class QuietImport(importlib.abc.MetaPathFinder):
    """A finder that hands the first import of `tensorflow` to `_QuietLoader`."""

    def find_spec(self, name, path=None, target=None):
        # Not uninstalled here: a library may only look for TensorFlow
        # (`importlib.util.find_spec`, as Keras and torch do under the torch
        # backend) before it is imported.
        if name != "tensorflow" or not wanted() or name in sys.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Hides the start-up lines of TensorFlow's first import in this process
    (nothing when it is already imported)."""
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, QuietImport) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, QuietImport())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, QuietImport)]


class _Kept:
    """A text stream whose failures to write (its reader gone: a broken pipe;
    a closed descriptor) are caught: its descriptor is pointed at /dev/null,
    as Python's documentation advises for SIGPIPE, and what follows is
    discarded. `on_break(error)` is called the first time."""

    def __init__(self, stream, on_break=None):
        self.stream = stream
        self.on_break = on_break
        self.broken = False

    def write(self, text):
        if not self.broken:
            try:
                return self.stream.write(text)
            except UnicodeError:
                raise  # the text, not the stream: Keras falls back to ASCII
            except (OSError, ValueError) as error:
                self._break(error)
        return len(text)

    def flush(self):
        if not self.broken:
            try:
                self.stream.flush()
            except (OSError, ValueError) as error:
                self._break(error)

    def _break(self, error):
        self.broken = True
        try:
            _to_null(self.stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # not a real descriptor (a test's capture): only discarded
        if self.on_break is not None:
            self.on_break(error)

    def __getattr__(self, name):  # isatty, fileno, encoding, ...
        return getattr(self.stream, name)


def _to_null(fd: int) -> None:
    """Points descriptor `fd` at /dev/null (whatever it was, or closed)."""
    null = os.open(os.devnull, os.O_WRONLY)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


class KeptOutput:
    """Within a `with`: a stdout or stderr that breaks never stops the work.

    A closed stdout (`>&-`) or stderr, or one whose reader goes away (`| head`),
    would end a long run in a traceback at its next line, perhaps before the
    epoch it just trained is saved. Within, a descriptor found closed is
    reopened on /dev/null (so that no file opened later takes its number and
    receives the lines), and a stream that fails is sent to /dev/null from
    then on; one line on stderr says so, the first time (when stderr still
    works). What was printed is only a view: the run directory records it.

    Args:
        prog: the command's name, for the line.
    """

    def __init__(self, prog: str):
        self.prog = prog
        self.told = False

    def _tell(self, what: str) -> None:
        if self.told:
            return
        self.told = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            print(
                f"{self.prog}: {what}; the work goes on and its output is "
                "discarded (the run directory records it).",
                file=sys.stderr,
                flush=True,
            )

    def __enter__(self):
        self.saved = (sys.stdout, sys.stderr)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            if not _is_open(fd):
                _to_null(fd)
                setattr(sys, name, open(fd, "w", closefd=False))  # noqa: SIM115
        if self.saved[1] is None:
            self.told = True  # nowhere to say it
        if self.saved[0] is None:
            self._tell("stdout is closed")
        sys.stderr = _Kept(sys.stderr, lambda error: setattr(self, "told", True))
        sys.stdout = _Kept(
            sys.stdout,
            lambda error: self._tell(
                f"stdout is gone ({getattr(error, 'strerror', None) or error})"
            ),
        )
        return self

    def __exit__(self, *exc):
        stdout, stderr = sys.stdout, sys.stderr
        with contextlib.suppress(OSError, ValueError):
            stdout.flush()
            stderr.flush()
        sys.stdout = stdout.stream if isinstance(stdout, _Kept) else stdout
        sys.stderr = stderr.stream if isinstance(stderr, _Kept) else stderr
        return False
