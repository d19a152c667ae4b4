"""DCGAN (Radford, Metz and Chintala 2015) in Keras 3.

The public names below are imported on first use (PEP 562), so that
`import dcgan_tf` and `python -m dcgan_tf.COMMAND --help` load no Keras or
TensorFlow. Importing the package does one thing: it hides the C++ start-up
lines of TensorFlow's first import, whoever imports it (`dcgan_tf.console`;
`TF_CPP_MIN_LOG_LEVEL=0` shows them).
"""

import importlib
import importlib.abc
import importlib.util
import sys

from dcgan_tf import console

console.install()

# Modules that moved, each old import path and its home now: `import
# dcgan_tf.gan` (and `dcgan_tf.steps.jax_step`, below an old package) gives
# the module at the new path, so users' imports keep working.
MOVED_MODULES = {
    "dcgan_tf.augment": "dcgan_tf.model.augment",
    "dcgan_tf.distribute": "dcgan_tf.model.distribute",
    "dcgan_tf.ema": "dcgan_tf.model.ema",
    "dcgan_tf.gan": "dcgan_tf.model",
    "dcgan_tf.layers": "dcgan_tf.model.layers",
    "dcgan_tf.losses": "dcgan_tf.model.losses",
    "dcgan_tf.networks": "dcgan_tf.model.networks",
    "dcgan_tf.steps": "dcgan_tf.model.steps",
}


def _new_home(name: str) -> str | None:
    """The present path of module `name` imported by a path in `MOVED_MODULES`."""
    for old, new in MOVED_MODULES.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old) :]
    return None


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a moved module's old path as the module at its new path."""

    def __init__(self):
        self.specs = {}  # each module's own spec, while its old path loads

    def find_spec(self, name, path=None, target=None):
        home = _new_home(name)
        return importlib.util.spec_from_loader(name, self) if home else None

    def create_module(self, spec):
        module = importlib.import_module(_new_home(spec.name))
        self.specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module):
        # The import system set the old path's spec on the module: give it
        # its own back (so reload and pickling see the real module).
        module.__spec__ = self.specs.pop(module.__name__, module.__spec__)
        module.__loader__ = module.__spec__.loader


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedModuleFinder())

# Each public name and the module that is its home.
_HOMES = {
    "DCGAN": "dcgan_tf.model",
    "Generator": "dcgan_tf.sampling",
    "Samples": "dcgan_tf.sampling",
    "TrainConfig": "dcgan_tf.config",
    "build_discriminator": "dcgan_tf.model",
    "build_generator": "dcgan_tf.model",
    "interpolate": "dcgan_tf.sampling",
    "load_generator": "dcgan_tf.sampling",
    "sample": "dcgan_tf.sampling",
    "slerp": "dcgan_tf.latent_space",
    "walk": "dcgan_tf.sampling",
}

__all__ = sorted(_HOMES)
__version__ = "0.1.0"


def __getattr__(name):
    # `dcgan_tf.interpolate` is also a command module: once that is imported
    # it takes this name, and stays callable as the function (see its end).
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dcgan_tf' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOMES))
