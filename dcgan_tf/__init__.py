"""DCGAN (Radford, Metz and Chintala 2015) in Keras 3."""

from dcgan_tf.config import TrainConfig
from dcgan_tf.networks import build_discriminator, build_generator

__all__ = ["TrainConfig", "build_discriminator", "build_generator"]
__version__ = "0.1.0"
