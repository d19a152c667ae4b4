"""The DCGAN model: both networks, both optimisers and the adversarial train step.

`DCGAN` is a `keras.Model` subclass in the style of the Keras guides
("Customizing what happens in fit()"), so a run is an ordinary `model.fit`
with callbacks, under TensorFlow, JAX or PyTorch (`KERAS_BACKEND`). Its
`call(latents)` is the generator. The networks and losses are written in
`keras.ops`; only the train step differs by backend, one small module each
in `dcgan_tf.model.steps`, all running the same algorithm. The model holds
its parts as gan_ada does: the `Augmenter` of D's images and the
`AveragedGenerator`.

A conditional DCGAN (Mirza and Osindero 2014) is the same model with
networks built with `num_classes`: the batches are `(images, labels)`, the
generated images' labels are drawn from the data's class frequencies, and
both networks take the classes as one-hot vectors beside their usual input.

It is one file on purpose: `DCGAN` is one class whose parts (what a step
draws, G's and D's inputs, D's loss, the metrics) a reader follows from
`__init__` to the train step; the reading of checkpoints made before the
model held its parts is `dcgan_tf.model.old_checkpoints`'s. The few-shot
recipe's self-supervised D (its decoders, their trainable variables, the
quadrant drawn each step, their loss term) took it from about 320 lines to
about 390; held as one part, as the `Augmenter` is, it would leave again.
"""

import collections
import tempfile
from pathlib import Path

import keras
import numpy as np
from keras import ops

from dcgan_tf.model import steps
from dcgan_tf.model.augment import Augmenter
from dcgan_tf.model.ema import AveragedGenerator
from dcgan_tf.model.losses import adversarial_losses
from dcgan_tf.model.old_checkpoints import (  # noqa: F401 (its old home)
    OLD_CHECKPOINT_PATHS,
    is_old_checkpoint,
    map_old_checkpoint,
)
from dcgan_tf.model.steps.jax_state import JAXStateMixin

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


# What one step draws from the model's seed, in this order (resuming replays
# it): the latents, the generated images' classes (conditional, else None),
# and the transformations of D's three batches (None when not augmenting):
# the reals and the fakes in D's update, the fakes in G's; then the quadrant
# a self-supervised D's decoder rebuilds (the few-shot recipe, else None).
StepDraws = collections.namedtuple(
    "StepDraws",
    [
        "latents",
        "fake_classes",
        "real_augmentation",
        "fake_augmentation",
        "g_augmentation",
        "quadrant",
    ],
    defaults=(None,),
)
# A self-supervised D's decoders rebuild one of its features' 4 quadrants.
QUADRANTS = 4


class DCGAN(JAXStateMixin, keras.Model):
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
            `build_discriminator(...)`; with `decoders`, to `[logits,
            features_8, features_16]` (`build_fewshot_discriminator`).
        augmenter: the `Augmenter` of every image D sees (default: none).
        ema: decay of the `AveragedGenerator` (Yazici et al. 2019), whose
            weights and batch-norm statistics follow the trained ones as an
            exponential moving average; 0 for none.
        loss: "nonsaturating" (the paper's cross-entropy) or "hinge"
            (`dcgan_tf.model.losses`); the steps call `d_loss_fn`, `g_loss_fn`.
        label_smoothing: one-sided smoothing of the real targets.
        latent_distribution: `"normal"` for z ~ N(0, 1), or `"uniform"` for
            z ~ U(-1, 1) as in Radford et al. §4.
        class_frequencies: for conditional networks, the share of each class
            in the training data, from which the labels of generated images
            are drawn (default: uniform). Ignored for unconditional ones.
        seed: seed of what `train_step` draws (`StepDraws`).
        sync_batch_norm: under a `tf.distribute` strategy with several
            replicas, normalise each batch with the statistics of the whole
            global batch (as one device would) instead of each replica's
            share. Ignored on one device and by the other backends.
        decoders: a self-supervised D's `(decoder_8, decoder_16)`
            (`build_fewshot_decoders`, the few-shot recipe), trained by D's
            optimiser on `self_supervised_loss` added to D's loss; default
            none.
        self_supervised_loss: with `decoders`, their term of D's loss,
            `f(real_input, real_outputs, decoders, quadrant)`
            (`dcgan_tf.model.fewshot_loss.self_supervised_loss`).

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
        augmenter=None,
        ema=0.0,
        loss="nonsaturating",
        label_smoothing=0.0,
        latent_distribution="normal",
        class_frequencies=None,
        seed=None,
        sync_batch_norm=True,
        decoders=(),
        self_supervised_loss=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if latent_distribution not in ("normal", "uniform"):
            raise ValueError(
                "latent_distribution must be 'normal' or 'uniform', "
                f"got {latent_distribution!r}."
            )
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {ema}.")
        self.generator = generator
        self.discriminator = discriminator
        self.self_supervised = bool(decoders)
        if decoders and self_supervised_loss is None:
            raise ValueError("decoders need their self_supervised_loss.")
        self.self_supervised_loss = self_supervised_loss
        if decoders:
            # Attributes, so tracked: saved in checkpoints, in D's state under
            # JAX. Set only when given: the other recipes' files are unchanged.
            self.decoder_8, self.decoder_16 = decoders
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
        self.augmenter = augmenter or Augmenter()
        names = METRIC_NAMES
        if self.augmenter.kind == "ada":
            names = (*names, AUGMENT_METRIC)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self.ema = float(ema)
        self.averaged_generator = AveragedGenerator(generator, ema) if ema else None
        # Both networks are built by their Input layers, so this model is too;
        # saving and BackupAndRestore need a built model.
        self.built = True

    @property
    def decoders(self):
        """A self-supervised D's decoders, or ()."""
        if not self.self_supervised:
            return ()
        return (self.decoder_8, self.decoder_16)

    @property
    def d_trainable_variables(self):
        """What D's optimiser trains: D's weights, then its decoders'."""
        return self.discriminator.trainable_variables + [
            v for decoder in self.decoders for v in decoder.trainable_variables
        ]

    @property
    def ema_generator(self):
        """The averaged generator's network, or None."""
        return self.averaged_generator and self.averaged_generator.generator

    @property
    def sampling_generator(self):
        """The generator to sample from: the averaged one when there is one."""
        return self.ema_generator or self.generator

    @property
    def augment_probability(self):
        """ADA's p (a variable), or None."""
        return self.augmenter.probability

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
        self.d_optimizer.build(self.d_trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        # `latents`, or `[latents, classes]` for a conditional generator.
        return self.generator(inputs, training=training)

    def train_step(self, *args):
        # TensorFlow and PyTorch pass the batch and take the logs back; JAX
        # passes (state, batch) and takes (logs, state) back.
        return steps.train_step(self, *args)

    def split_batch(self, batch):
        """`(real_images, real_classes)` of a batch; the classes one-hot, or
        None for an unconditional model."""
        if not self.num_classes:
            return batch, None
        images, labels = batch
        return images, ops.one_hot(labels, self.num_classes)

    def draw_step(self, count, share=None, augment_probability=None):
        """Everything random in one step of `count` images (`StepDraws`).

        Args:
            count: images per batch.
            share: `share(draw, count)` gives this replica's part of what
                `draw(global_count)` draws (TensorFlow's replicas); default
                `draw(count)`.
            augment_probability: ADA's p (default: the variable's value).
        """
        share = share or (lambda draw, count: draw(count))
        latents = share(self.sample_latents, count)
        fake_classes = None
        if self.num_classes:
            fake_classes = share(self.sample_classes, count)
        augmentations = (None, None, None)
        if self.augmenter.active:
            size = self.discriminator.inputs[0].shape[1]
            augmentations = tuple(
                share(
                    lambda n: self.augmenter.draw(
                        n, size, self.seed_generator, augment_probability
                    ),
                    count,
                )
                for _ in range(3)
            )
        quadrant = None
        if self.decoders:
            quadrant = keras.random.randint(
                (), 0, QUADRANTS, dtype="int32", seed=self.seed_generator
            )
        return StepDraws(latents, fake_classes, *augmentations, quadrant)

    def sample_latents(self, count):
        """Draws `count` latents from the model's distribution and seed."""
        shape = (count, self.latent_dim)
        if self.latent_distribution == "uniform":
            return keras.random.uniform(
                shape, minval=-1.0, maxval=1.0, seed=self.seed_generator
            )
        return keras.random.normal(shape, seed=self.seed_generator)

    def sample_classes(self, count):
        """Draws `count` one-hot classes from the class frequencies and the
        model's seed (after the latents, so resuming replays both)."""
        labels = keras.random.categorical(
            ops.convert_to_tensor(self.class_logits), count, seed=self.seed_generator
        )  # (1, count)
        return ops.one_hot(ops.reshape(labels, (-1,)), self.num_classes)

    def generator_input(self, latents, classes):
        """G's input: the latents, beside their classes when conditional."""
        return latents if classes is None else [latents, classes]

    def discriminator_input(self, images, classes, augmentation):
        """D's input: `images` as D sees them (transformed by `augmentation`
        from `draw_step`), beside their classes when conditional."""
        images = self.augmenter.transform(images, augmentation)
        return images if classes is None else [images, classes]

    @staticmethod
    def logits(outputs):
        """D's logits from its outputs: the first of a self-supervised D's
        `[logits, features_8, features_16]`, else the outputs."""
        return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

    def discriminator_loss(self, real_outputs, fake_outputs, real_input, quadrant):
        """D's loss, the one place each recipe's terms are summed.

        Args:
            real_outputs, fake_outputs: D's outputs on the real batch and the
                fakes (logits, or a self-supervised D's three outputs).
            real_input: D's input on the real batch (`discriminator_input`:
                the augmented images, beside classes when conditional).
            quadrant: `StepDraws.quadrant`.

        Returns:
            `(loss, real_logits, fake_logits)`: the adversarial loss, plus
            under the few-shot recipe the reconstruction of the real images
            as D saw them (Liu et al. 2021, §3.2).
        """
        real_logits, fake_logits = self.logits(real_outputs), self.logits(fake_outputs)
        loss = self.d_loss_fn(real_logits, fake_logits)
        if self.decoders:
            loss = loss + self.self_supervised_loss(
                real_input, real_outputs, self.decoders, quadrant
            )
        return loss, real_logits, fake_logits

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

    def load_weights(self, filepath, *args, **kwargs):
        """`keras.Model.load_weights`, which also reads checkpoints written
        before the model held its parts (`OLD_CHECKPOINT_PATHS`)."""
        filepath = Path(filepath)
        if filepath.name.endswith(".weights.h5") and is_old_checkpoint(filepath):
            with tempfile.TemporaryDirectory() as scratch:
                mapped = Path(scratch) / "mapped.weights.h5"
                map_old_checkpoint(filepath, mapped)
                return super().load_weights(mapped, *args, **kwargs)
        return super().load_weights(filepath, *args, **kwargs)
