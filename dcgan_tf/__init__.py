"""DCGAN (Radford, Metz and Chintala 2015) in Keras 3.

The public names below are imported on first use (PEP 562), so that
`import dcgan_tf` and `python -m dcgan_tf.COMMAND --help` load no Keras or
TensorFlow. Importing the package does one thing: it hides the C++ start-up
lines of TensorFlow's first import, whoever imports it (`dcgan_tf.console`;
`TF_CPP_MIN_LOG_LEVEL=0` shows them).
"""

import importlib

from dcgan_tf import console

console.install()

# Each public name and the module that is its home.
_HOMES = {
    "DCGAN": "dcgan_tf.gan",
    "Generator": "dcgan_tf.sampling",
    "Samples": "dcgan_tf.sampling",
    "TrainConfig": "dcgan_tf.config",
    "build_discriminator": "dcgan_tf.networks",
    "build_generator": "dcgan_tf.networks",
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
