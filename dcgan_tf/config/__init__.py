"""Hyperparameters of a training run and the presets of each data set.

Every default follows Radford et al. (2015) or the tutorials this project
replaces; the comment beside each field says which. The command line is
generated from these fields (see `dcgan_tf.train`), so the two cannot drift.

Its parts: `presets` (the choices, recipes and data-set presets, each with its
reason), `train_config` (`TrainConfig`), `resolving` (the preset and the
recipe filling what was left out), `checks` (bad values as one line),
`recorded` (reading any version's `config.json`) and `resume` (what a resume
may change).
"""

from dcgan_tf.config.presets import (
    ADDED,
    AUGMENTS,
    DATASETS,
    DISCRIMINATOR_NORMS,
    DRY_RUN_STEPS,
    FIT_MODES,
    G_FORMULATIONS,
    JIT_COMPILES,
    LATENT_DISTRIBUTIONS,
    LEARNING_RATE,
    LIMITS,
    LOSSES,
    PRECISIONS,
    PRESETS,
    QUALITY_METRICS,
    RECIPES,
    RENAMED,
    RESUME_CHANGEABLE,
    STRATEGIES,
    UPSAMPLES,
)
from dcgan_tf.config.resume import resume_config
from dcgan_tf.config.train_config import TrainConfig

__all__ = [
    "ADDED",
    "AUGMENTS",
    "DATASETS",
    "DISCRIMINATOR_NORMS",
    "DRY_RUN_STEPS",
    "FIT_MODES",
    "G_FORMULATIONS",
    "LATENT_DISTRIBUTIONS",
    "LEARNING_RATE",
    "LIMITS",
    "LOSSES",
    "JIT_COMPILES",
    "PRECISIONS",
    "PRESETS",
    "QUALITY_METRICS",
    "RECIPES",
    "RENAMED",
    "RESUME_CHANGEABLE",
    "STRATEGIES",
    "TrainConfig",
    "UPSAMPLES",
    "resume_config",
]
