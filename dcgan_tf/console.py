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
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        with _Silenced():
            self.loader.exec_module(module)
            module.config.list_physical_devices()  # probes CUDA: cuInit's line

    def __getattr__(self, name):  # get_resource_reader, is_package, ...
        return getattr(self.loader, name)


class QuietImport(importlib.abc.MetaPathFinder):
    """A finder that hands the first import of `tensorflow` to `_QuietLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or not wanted():
            return None
        uninstall()
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
