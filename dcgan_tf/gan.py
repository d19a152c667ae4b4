"""The DCGAN model: both networks, both optimisers and the adversarial train step.

`DCGAN` is a `keras.Model` subclass in the style of the Keras guides
("Customizing what happens in fit()"), so a run is an ordinary `model.fit`
with callbacks, under TensorFlow, JAX or PyTorch (`KERAS_BACKEND`). Its
`call(latents)` is the generator. The networks and losses are written in
`keras.ops`; only the train step differs by backend, one small module each
in `dcgan_tf.steps`, all running the same algorithm.

A conditional DCGAN (Mirza and Osindero 2014) is the same model with
networks built with `num_classes`: the batches are `(images, labels)`, the
generated images' labels are drawn from the data's class frequencies, and
both networks take the classes as one-hot vectors beside their usual input.
"""

import contextlib

import keras
import numpy as np
from keras import ops

from dcgan_tf import steps
from dcgan_tf.augment import AugmentationMixin
from dcgan_tf.config import TrainConfig
from dcgan_tf.distribute import replicas
from dcgan_tf.ema import AveragedGeneratorMixin
from dcgan_tf.layers import STDDEV_GROUP_SIZE
from dcgan_tf.losses import adversarial_losses
from dcgan_tf.networks import build_discriminator, build_generator
from dcgan_tf.steps.jax_state import JAXStateMixin

METRIC_NAMES = (
    "d_loss",
    "g_loss",
    "d_real_accuracy",
    "d_fake_accuracy",
    "d_real",
    "d_fake",
)
# Logged under ADA only: the augmentation probability p.
AUGMENT_METRIC = "augment_p"


def _class_logits(frequencies, num_classes) -> np.ndarray:
    """`(1, num_classes)` log-frequencies, the logits `categorical` draws from."""
    if frequencies is None:
        frequencies = np.ones(num_classes)
    frequencies = np.asarray(frequencies, np.float64)
    if frequencies.shape != (num_classes,) or not (frequencies >= 0).all():
        raise ValueError(
            f"class_frequencies must be {num_classes} shares of 0 or more, got "
            f"{frequencies.tolist()}."
        )
    # An absent class gets a vanishing share rather than log(0).
    shares = np.maximum(frequencies / frequencies.sum(), 1e-12)
    return np.log(shares)[None].astype("float32")


def class_frequencies(labels, num_classes: int) -> np.ndarray:
    """The share of each class among `labels` (int), as `DCGAN` takes them."""
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    return counts / max(1, counts.sum())


def default_optimizer(learning_rate=2e-4, beta_1=0.5):
    """Adam as Radford et al. §4 train DCGAN: lr 0.0002, beta_1 0.5."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1)


class DCGAN(AugmentationMixin, AveragedGeneratorMixin, JAXStateMixin, keras.Model):
    """A generator and a discriminator trained against each other.

    Each step draws one batch of latents and runs the generator once: the
    discriminator learns from the real batch and the generated one (cut from
    the generator's graph), then the generator learns through the freshly
    updated discriminator with the non-saturating loss, as in
    pytorch/examples' dcgan (or with the hinge loss, `loss="hinge"`).

    Args:
        generator: a model from `(batch, latent_dim)` latents to images in
            [-1, 1], such as `build_generator(...)`.
        discriminator: a model from images to one logit per image, such as
            `build_discriminator(...)`.
        latent_distribution: `"normal"` for z ~ N(0, 1), or `"uniform"` for
            z ~ U(-1, 1) as in Radford et al. §4.
        label_smoothing: one-sided smoothing of the real targets.
        seed: seed of the latents drawn in `train_step`.
        sync_batch_norm: under a `tf.distribute` strategy with several
            replicas, normalise each batch with the statistics of the whole
            global batch (as one device would) instead of each replica's
            share. Ignored on one device and by the other backends.
        class_frequencies: for conditional networks, the share of each class
            in the training data, from which the labels of generated images
            are drawn (default: uniform). Ignored for unconditional ones.
        augment: `"none"`, `"diffaugment"` (every image D sees, real and
            generated, in both updates, is transformed; `dcgan_tf.augment`)
            or `"ada"` (each transformation with probability p, a model
            variable steered by `ada_target`).
        augment_flips: also mirror images left to right when augmenting.
        ada_target: ADA's target for E[sign(D(x))] on real images
            (Karras et al. 2020 use 0.6).
        ada_kimg: thousands of images over which p can go from 0 to 1.
        ema: decay of `ema_generator`, a copy of the generator whose weights
            and batch-norm statistics follow the trained ones as an
            exponential moving average (Yazici et al. 2019); 0 for none.
        loss: "nonsaturating" (the paper's cross-entropy) or "hinge"
            (`dcgan_tf.losses`); the steps call `d_loss_fn` and `g_loss_fn`.

    Metrics (progress bar and history): `d_loss`, `g_loss`, the
    discriminator's accuracy on real and on generated images
    (`d_real_accuracy`, `d_fake_accuracy`), and the mean D(x) and D(G(z))
    (`d_real`, `d_fake`) before the discriminator's update, and under ADA
    the augmentation probability `augment_p`.
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_distribution="normal",
        label_smoothing=0.0,
        seed=None,
        sync_batch_norm=True,
        class_frequencies=None,
        augment="none",
        augment_flips=False,
        ada_target=0.6,
        ada_kimg=100,
        ema=0.0,
        loss="nonsaturating",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if latent_distribution not in ("normal", "uniform"):
            raise ValueError(
                "latent_distribution must be 'normal' or 'uniform', "
                f"got {latent_distribution!r}."
            )
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.inputs[0].shape[-1])
        # A conditional generator takes [latents, classes].
        self.num_classes = (
            int(generator.inputs[1].shape[-1]) if len(generator.inputs) == 2 else None
        )
        self.class_logits = None
        if self.num_classes:
            self.class_logits = _class_logits(class_frequencies, self.num_classes)
        self.latent_distribution = latent_distribution
        self.label_smoothing = float(label_smoothing)
        self.loss_name = loss
        self.d_loss_fn, self.g_loss_fn = adversarial_losses(loss, label_smoothing)
        self.sync_batch_norm = bool(sync_batch_norm)
        self.seed_generator = keras.random.SeedGenerator(seed)
        names = METRIC_NAMES
        self._init_augmentation(augment, augment_flips, ada_target, ada_kimg)
        if self.augment == "ada":
            names = (*names, AUGMENT_METRIC)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self._init_ema(ema)
        # Both networks are built by their Input layers, so this model is too;
        # saving and BackupAndRestore need a built model.
        self.built = True

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training.

        Args:
            d_optimizer: the discriminator's optimiser (default: Adam 2e-4, 0.5).
            g_optimizer: the generator's optimiser (default: Adam 2e-4, 0.5).
            **kwargs: passed to `keras.Model.compile` (`jit_compile`,
                `steps_per_execution`, `run_eagerly`, ...).
        """
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = d_optimizer or default_optimizer()
        self.g_optimizer = g_optimizer or default_optimizer()
        # Build the optimiser slots now, so that a checkpoint of this model
        # holds them and loads into a fresh model before the first step.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        # `latents`, or `[latents, classes]` for a conditional generator.
        return self.generator(inputs, training=training)

    def sample_classes(self, count):
        """Draws `count` one-hot classes from the class frequencies and the
        model's seed (after the latents, so resuming replays both)."""
        labels = keras.random.categorical(
            ops.convert_to_tensor(self.class_logits), count, seed=self.seed_generator
        )  # (1, count)
        return ops.one_hot(ops.reshape(labels, (-1,)), self.num_classes)

    def split_batch(self, batch):
        """`(real_images, real_classes)` of a batch; the classes one-hot, or
        None for an unconditional model."""
        if not self.num_classes:
            return batch, None
        images, labels = batch
        return images, ops.one_hot(labels, self.num_classes)

    @staticmethod
    def with_classes(inputs, classes):
        """A network's input: `inputs` alone, or `[inputs, classes]`."""
        return inputs if classes is None else [inputs, classes]

    def sample_latents(self, count):
        """Draws `count` latents from the model's distribution and seed."""
        shape = (count, self.latent_dim)
        if self.latent_distribution == "uniform":
            return keras.random.uniform(
                shape, minval=-1.0, maxval=1.0, seed=self.seed_generator
            )
        return keras.random.normal(shape, seed=self.seed_generator)

    def train_step(self, *args):
        # TensorFlow and PyTorch pass the batch and take the logs back; JAX
        # passes (state, batch) and takes (logs, state) back.
        return steps.train_step(self, *args)

    def update_metrics(
        self, d_loss, g_loss, real_logits, fake_logits, augment_probability=None
    ):
        """Adds one step's figures to the trackers; returns the logs."""
        values = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real_accuracy": ops.mean(ops.cast(real_logits > 0, "float32")),
            "d_fake_accuracy": ops.mean(ops.cast(fake_logits < 0, "float32")),
            "d_real": ops.mean(ops.sigmoid(real_logits)),
            "d_fake": ops.mean(ops.sigmoid(fake_logits)),
        }
        if augment_probability is not None:
            values[AUGMENT_METRIC] = augment_probability
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


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


def build_dcgan(config: TrainConfig, strategy=None, class_frequencies=None) -> DCGAN:
    """Builds and compiles the DCGAN that `config` describes.

    Args:
        config: the run's configuration, with `steps_per_epoch` resolved
            (and `class_names` when conditional).
        strategy: a `tf.distribute` strategy to build it under (see
            `dcgan_tf.distribute.make_strategy`), or None.
        class_frequencies: for a conditional run, each class's share of the
            training data (default: uniform).
    """
    class_names = config.class_names if config.conditional else None
    num_classes = len(class_names) if class_names else None
    _check_stddev_groups(config, strategy)
    with strategy.scope() if strategy else contextlib.nullcontext():
        with _dtype_policy(config.mixed_precision):
            generator = build_generator(
                config.image_shape,
                config.latent_dim,
                config.generator_filters,
                class_names=class_names,
                upsample=config.upsample or "transposed",
            )
            discriminator = build_discriminator(
                config.image_shape,
                config.discriminator_filters,
                num_classes,
                norm=config.discriminator_norm or "batch",
                minibatch_stddev=bool(config.minibatch_stddev),
            )
        model = DCGAN(
            generator,
            discriminator,
            latent_distribution=config.latent_distribution,
            label_smoothing=config.label_smoothing,
            seed=config.seed,
            class_frequencies=class_frequencies,
            augment=config.augment,
            augment_flips=config.augment_flips,
            ada_target=config.ada_target,
            ada_kimg=config.ada_kimg,
            ema=config.ema,
            loss=config.loss or "nonsaturating",
        )
        d_rate, g_rate = config.learning_rates
        model.compile(
            d_optimizer=_optimizer(config, d_rate),
            g_optimizer=_optimizer(config, g_rate),
            steps_per_execution=steps_per_execution(config, strategy),
            jit_compile="auto" if config.jit_compiled is None else config.jit_compiled,
        )
    return model


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
