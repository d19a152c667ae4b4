"""DCGAN (Radford, Metz and Chintala 2015) in Keras 3."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) hides the run's own
# output; warnings and errors still show. Set it yourself to override.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from dcgan_tf.config import TrainConfig
from dcgan_tf.gan import DCGAN
from dcgan_tf.latent import (
    Generator,
    Samples,
    interpolate,
    load_generator,
    sample,
    slerp,
    walk,
)
from dcgan_tf.networks import build_discriminator, build_generator

__all__ = [
    "DCGAN",
    "Generator",
    "Samples",
    "TrainConfig",
    "build_discriminator",
    "build_generator",
    "interpolate",
    "load_generator",
    "sample",
    "slerp",
    "walk",
]
__version__ = "0.1.0"
