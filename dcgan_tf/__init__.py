"""DCGAN (Radford, Metz and Chintala 2015) in Keras 3."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) hides the run's own
# output; warnings and errors still show. Set it yourself to override.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from dcgan_tf.config import TrainConfig
from dcgan_tf.networks import build_discriminator, build_generator

__all__ = ["TrainConfig", "build_discriminator", "build_generator"]
__version__ = "0.1.0"
