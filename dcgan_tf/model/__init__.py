"""The DCGAN: the paper's networks, each recipe's additions, the losses, the
`keras.Model` with its parts, one train step per backend, and building one
from a resolved configuration.

Read in this order:

- `networks`: the generator and discriminator of Radford et al. (2015), top
  to bottom; `layers`: the custom layers some recipes use.
- `modern`: the modern recipe's layers, plugged into `networks` by name.
- `fewshot`, `fewshot_loss`: the few-shot recipe's own networks (FastGAN's
  excitation and self-supervised D), registered in
  `building.RECIPE_NETWORKS`, and its decoders and reconstruction loss.
- `losses`: the non-saturating and the hinge loss.
- `dcgan`: `DCGAN`, the `keras.Model`, which holds its parts: the
  `augment.Augmenter` of D's images and the `ema.AveragedGenerator`.
- `steps`: its train step, one short module per Keras backend.
- `building`: `build_dcgan(config)`, from a resolved `TrainConfig`.
- `distribute`: `tf.distribute` strategies (TensorFlow only).

A third recipe is one new module beside `modern`, say `model/progressive.py`,
which adds its layers to `networks`' tables under new names:

    from dcgan_tf.model import networks

    def pixel_shuffle(width, prefix, use_bias):
        return [...]  # the layers that double the resolution

    networks.UPSAMPLINGS["pixel-shuffle"] = pixel_shuffle
    networks.DISCRIMINATOR_LAYERS["layer"] = networks.DiscriminatorLayers(...)
    networks.DISCRIMINATOR_ADDITIONS["noise"] = lambda: GaussianNoise(...)

its name in `RECIPE_MODULES` below, and its option values as a recipe in
`dcgan_tf.config.presets.RECIPES` (with the new names among the config's
choices). The paper's file stays as it is.
"""

import importlib

from dcgan_tf.model.building import build_dcgan, steps_per_execution
from dcgan_tf.model.dcgan import (
    AUGMENT_METRIC,
    DCGAN,
    METRIC_NAMES,
    class_frequencies,
    default_optimizer,
)
from dcgan_tf.model.networks import (
    build_discriminator,
    build_generator,
    check_image_size,
    supported_sizes,
)

# The modules that add a recipe's layers to `networks`' tables (or its
# networks to `building.RECIPE_NETWORKS`), imported
# with this package so that every table is full before a network is built.
RECIPE_MODULES = ("dcgan_tf.model.modern", "dcgan_tf.model.fewshot_loss")
for _module in RECIPE_MODULES:
    importlib.import_module(_module)

__all__ = [
    "AUGMENT_METRIC",
    "DCGAN",
    "METRIC_NAMES",
    "build_dcgan",
    "build_discriminator",
    "build_generator",
    "check_image_size",
    "class_frequencies",
    "default_optimizer",
    "steps_per_execution",
    "supported_sizes",
]
