"""A compiled `DCGAN` from a resolved `TrainConfig`: the one place the
configuration becomes networks, parts, optimisers and compile options.

The configuration must be resolved (`TrainConfig.resolve`): every preset
field and recipe option is read as it is, never filled here again.
"""

import collections
import contextlib

import keras

from dcgan_tf.config import TrainConfig
from dcgan_tf.config.resolving import is_resolved
from dcgan_tf.model.augment import Augmenter
from dcgan_tf.model.dcgan import DCGAN, default_optimizer
from dcgan_tf.model.distribute import replicas
from dcgan_tf.model.layers import STDDEV_GROUP_SIZE
from dcgan_tf.model.networks import (
    build_discriminator,
    build_generator,
    check_image_size,
)
from dcgan_tf.model.subpixel import use_subpixel

# The networks of one recipe: `build(config, class_names)` returns
# `(generator, discriminator, decoders)`, decoders () or those of a
# self-supervised D (which D's optimiser trains with it); `check(config)`
# raises ValueError for an image shape they cannot be built for; `loss`, the
# decoders' term of D's loss (`DCGAN`'s `self_supervised_loss`), or None.
RecipeNetworks = collections.namedtuple(
    "RecipeNetworks", ["build", "check", "loss"], defaults=(None,)
)
# Recipes whose networks are not `networks`' ladder with its tables' layers,
# by name, each registered by its module (`RECIPE_MODULES`): the few-shot
# recipe (`dcgan_tf.model.fewshot`). Every other recipe builds the paper's
# networks with its options (`paper`, `modern`).
RECIPE_NETWORKS = {}


def build_dcgan(config: TrainConfig, strategy=None, class_frequencies=None) -> DCGAN:
    """Builds and compiles the DCGAN that `config` describes.

    Args:
        config: the run's resolved configuration (`TrainConfig.resolve`),
            with `steps_per_epoch` set (and `class_names` when conditional).
        strategy: a `tf.distribute` strategy to build it under (see
            `dcgan_tf.model.distribute.make_strategy`), or None.
        class_frequencies: for a conditional run, each class's share of the
            training data (default: uniform).

    Raises:
        ValueError: for a configuration that is not resolved, or
            minibatch-stddev groups that would straddle two replicas.
    """
    if not is_resolved(config):
        raise ValueError(
            "build_dcgan takes a resolved configuration (TrainConfig.resolve()), "
            "whose preset and recipe options are all set; some are None."
        )
    class_names = config.class_names if config.conditional else None
    _check_stddev_groups(config, strategy)
    with strategy.scope() if strategy else contextlib.nullcontext():
        with _dtype_policy(config.mixed_precision):
            recipe = RECIPE_NETWORKS.get(config.recipe)
            build = recipe.build if recipe else _dcgan_networks
            generator, discriminator, decoders = build(config, class_names)
        augmenter = Augmenter(
            config.augment,
            flips=config.augment_flips,
            target=config.ada_target,
            kimg=config.ada_kimg,
        )
        model = DCGAN(
            generator,
            discriminator,
            augmenter=augmenter,
            ema=config.ema,
            loss=config.loss,
            label_smoothing=config.label_smoothing,
            latent_distribution=config.latent_distribution,
            class_frequencies=class_frequencies,
            seed=config.seed,
            decoders=decoders,
            self_supervised_loss=recipe.loss if recipe else None,
        )
        if config.g_upsample_formulation == "subpixel":
            # G's and its average's transposed convolutions, before any step
            # is traced; their variables and saved files stay as they are.
            use_subpixel(model)
        model.compile(
            d_optimizer=_optimizer(config, config.d_learning_rate),
            g_optimizer=_optimizer(config, config.g_learning_rate),
            steps_per_execution=steps_per_execution(config, strategy),
            jit_compile="auto" if config.jit_compiled is None else config.jit_compiled,
        )
    return model


def _dcgan_networks(config: TrainConfig, class_names):
    """The paper's ladder with the recipe's options (`paper`, `modern`)."""
    generator = build_generator(
        config.image_shape,
        config.latent_dim,
        config.generator_filters,
        class_names=class_names,
        upsample=config.upsample,
    )
    discriminator = build_discriminator(
        config.image_shape,
        config.discriminator_filters,
        len(class_names) if class_names else None,
        norm=config.discriminator_norm,
        minibatch_stddev=config.minibatch_stddev,
    )
    return generator, discriminator, ()


def check_networks(config: TrainConfig) -> None:
    """Raises `ValueError`, one line saying what to do, for an image size
    the configuration's recipe cannot build its networks for (before any
    data is loaded)."""
    check_image_size(config.image_size)
    recipe = RECIPE_NETWORKS.get(config.recipe)
    if recipe:
        recipe.check(config)


@contextlib.contextmanager
def _dtype_policy(mixed_precision: str):
    """Builds layers under the run's precision, without changing the global
    policy for later models."""
    previous = keras.config.dtype_policy()
    if mixed_precision != "off":
        keras.config.set_dtype_policy(f"mixed_{mixed_precision}")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _optimizer(config: TrainConfig, learning_rate: float):
    optimizer = default_optimizer(learning_rate, config.beta_1)
    if config.mixed_precision == "float16":
        # float16 gradients underflow; a dynamic loss scale keeps them
        # representable and skips the rare step that overflows.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _check_stddev_groups(config: TrainConfig, strategy) -> None:
    """Refuses minibatch-stddev groups that would straddle two replicas,
    where one device would compute another statistic."""
    count = replicas(strategy)
    if (
        config.minibatch_stddev
        and count > 1
        and (config.batch_size // count % STDDEV_GROUP_SIZE)
    ):
        raise ValueError(
            f"--minibatch-stddev takes groups of {STDDEV_GROUP_SIZE} images within "
            f"each replica's share of the batch; use a --batch-size that is a "
            f"multiple of {STDDEV_GROUP_SIZE * count}."
        )


def steps_per_execution(config: TrainConfig, strategy=None) -> int:
    """The largest number of steps per call into the graph, up to the
    configured one, that divides an epoch (Keras would otherwise run whole
    executions past the epoch's end) and `--checkpoint-every-steps`.

    1 under PyTorch, whose trainer has no multi-step calls, and under
    tf.distribute, where they fail (keras-team/keras#19246).
    """
    if keras.backend.backend() == "torch" or strategy is not None:
        return 1
    steps = config.steps_per_epoch or 1
    # A step checkpoint comes only after a whole execution: dividing its
    # interval too puts it exactly at every N steps (15 with 10 at a time
    # would checkpoint at 20, 30, 50, and a kill could lose 19 steps).
    every = config.checkpoint_every_steps or steps
    wanted = min(config.steps_per_execution, steps)
    return next(n for n in range(wanted, 0, -1) if steps % n == 0 and every % n == 0)
