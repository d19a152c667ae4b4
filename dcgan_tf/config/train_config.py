"""`TrainConfig`: everything that defines a training run, saved as its
`config.json`; the command line is generated from its fields (see
`dcgan_tf.cli`), so the two cannot drift."""

import dataclasses
from dataclasses import dataclass, field

from dcgan_tf.config import checks, recorded, resolving
from dcgan_tf.config.presets import (
    AUGMENTS,
    DATASETS,
    DISCRIMINATOR_NORMS,
    FIT_MODES,
    G_FORMULATIONS,
    JIT_COMPILES,
    LATENT_DISTRIBUTIONS,
    LOSSES,
    PRECISIONS,
    PRESETS,
    QUALITY_METRICS,
    RECIPES,
    STRATEGIES,
    UPSAMPLES,
)


def _field(default, help, **kwargs):
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as the run's `config.json`.

    Fields left at `None` are filled from `PRESETS[dataset]` and the recipe
    by `resolve()` (each network's learning rate among them); what only the
    run knows (its steps, classes, compiled step and directory) is added once
    by `dcgan_tf.config.resolving.complete` when it starts.
    """

    dataset: str = _field("fashion_mnist", "Data set to train on.", choices=DATASETS)
    data_dir: str | None = _field(
        None,
        "Where the data set's files are (IDX .gz files, CIFAR-10's python archive "
        "or a folder of images). Searched before the usual caches.",
    )
    image_size: int | None = _field(
        None,
        "Side of the square images in pixels (preset: 28 for (fashion_)mnist, 32 "
        "for cifar10, 128 for biked, 64 for folder).",
    )
    fit: str = _field(
        "crop",
        "How folder images reach a square: 'crop' the centre, or 'pad' with the "
        "border colour (keeps BIKED's wide side views whole).",
        choices=FIT_MODES,
    )
    epochs: int | None = _field(None, "Number of epochs (preset per data set).")
    steps_per_epoch: int | None = _field(
        None, "Batches per epoch (default: one pass over the data)."
    )
    batch_size: int | None = _field(None, "Images per batch (preset per data set).")
    # Radford et al. §4: Adam with learning rate 0.0002 and beta_1 = 0.5
    # (0.9 "resulted in training oscillation and instability").
    learning_rate: float | None = _field(
        None,
        "Adam learning rate of both networks (default: 2e-4, or the --recipe's "
        "own rate for each network).",
    )
    beta_1: float = _field(0.5, "Adam beta_1 of both networks.")
    # Heusel et al. 2017 (TTUR): D and G may learn at their own rates.
    d_learning_rate: float | None = _field(
        None, "Adam learning rate of the discriminator (default: --learning-rate)."
    )
    g_learning_rate: float | None = _field(
        None, "Adam learning rate of the generator (default: --learning-rate)."
    )
    # The cures of DCGAN's artifacts (docs/recipes.md); None: the recipe's.
    recipe: str | None = _field(
        None,
        "The options below at once: 'paper' (Radford et al.'s DCGAN), "
        "'modern' (resize upsampling, spectral norm, hinge loss, D at 4e-4 and "
        "G at 1e-4, minibatch stddev) or 'fewshot' (modern's options with "
        "FastGAN's G and self-supervised D; 32 px and up; no preset's: on "
        "flowers at 128 px it drew a stronger periodic texture). Flags "
        "given override it (default: the data set's preset; docs/recipes.md "
        "says which and why).",
        choices=tuple(RECIPES),
    )
    upsample: str | None = _field(
        None,
        "How G doubles its resolution: 'transposed' convolutions (the paper), "
        "or 'resize' (nearest neighbour) or 'resize-bilinear' then a "
        "convolution, against checkerboards (default: the recipe's).",
        choices=UPSAMPLES,
    )
    discriminator_norm: str | None = _field(
        None,
        "D's normalisation: 'batch' (the paper), 'spectral' (spectral norm of "
        "every weight, no batch norm) or 'none' (default: the recipe's).",
        choices=DISCRIMINATOR_NORMS,
    )
    loss: str | None = _field(
        None,
        "The GAN loss: 'nonsaturating' (the paper's cross-entropy) or 'hinge' "
        "(default: the recipe's).",
        choices=LOSSES,
    )
    minibatch_stddev: bool | None = _field(
        None,
        "Give D the spread of each group of 4 images as one more feature map "
        "before its last block (default: the recipe's: off for paper, on for "
        "modern).",
    )
    # Radford et al. use a 100-dimensional uniform z; the Keras and TF
    # tutorials draw it from a normal distribution, which suits slerp.
    latent_dim: int = _field(100, "Size of the latent vector z.")
    latent_distribution: str = _field(
        "normal",
        "Distribution of z: 'normal' N(0, 1) or 'uniform' U(-1, 1).",
        choices=LATENT_DISTRIBUTIONS,
    )
    # pytorch/examples dcgan: ngf = ndf = 64.
    generator_filters: int = _field(
        64, "Width of the generator's last block; it doubles at each block back."
    )
    discriminator_filters: int = _field(
        64, "Width of the discriminator's first block; it doubles at each block."
    )
    # Salimans et al. (2016) §3.4: smooth only the real labels (one-sided).
    label_smoothing: float = _field(
        0.0, "One-sided label smoothing: real targets become 1 - this value."
    )
    # Mirza and Osindero (2014): both networks see the class, so a trained
    # generator draws the class it is asked for. Off: the paper's DCGAN.
    conditional: bool = _field(
        False,
        "Train a class-conditional DCGAN on the data set's labels (label files, "
        "CIFAR-10's classes, or one sub-folder per class).",
    )
    # Recorded, not chosen: filled in from the data when a conditional run
    # starts, so that config.json says which label is which class.
    class_names: list[str] | None = _field(
        None,
        "Set from the data set's labels when --conditional; recorded in "
        "config.json, not a flag to pass.",
        flag=False,
    )
    # Zhao et al. 2020 (DiffAugment), Karras et al. 2020 (ADA): on a small
    # data set D memorises the images; transforming all it sees stops that.
    augment: str | None = _field(
        None,
        "Augment every image D sees, real and generated: 'diffaugment' always "
        "(colour, translation, cut-out), 'ada' each with a probability tuned "
        "while training, 'none' (default: 'ada' for biked and folder, 'none' "
        "for the classic sets).",
        choices=AUGMENTS,
    )
    augment_flips: bool = _field(
        False, "Also mirror images left to right when augmenting."
    )
    # Karras et al. 2020 §2.3: r_t = E[sign(D(x))], target 0.6. They let p
    # move by 1 in 500k images; these runs are shorter.
    ada_target: float = _field(
        0.6, "ADA: the E[sign(D(real))] that the augmentation probability aims at."
    )
    ada_kimg: float = _field(
        100, "ADA: thousands of images over which p can go from 0 to 1."
    )
    # Yazici et al. 2019: an exponential moving average of G's weights draws
    # better images than the weights at any one step.
    ema: float | None = _field(
        None,
        "Decay of the averaged generator that samples, generator.keras and the "
        "quality monitor use (e.g. 0.999; 0: the trained generator; preset per "
        "data set).",
    )
    # Recorded, not chosen: which generator the run's .keras files hold.
    saved_generator: str | None = _field(
        None,
        "Set when a run starts: 'ema' (the averaged generator) or 'trained'; "
        "recorded in config.json, not a flag to pass.",
        flag=False,
    )
    seed: int = _field(42, "Seed of weights, data order and latents.")
    run_dir: str | None = _field(
        None, "Directory of this run (default: the next checkpoints/NNNNN-DATASET)."
    )
    grid_size: int = _field(64, "Images in each sample grid.")
    sample_every: int = _field(1, "Write a sample grid every this many epochs.")
    # A few dozen steps: a 5-epoch Fashion-MNIST run (2,340 steps) draws about
    # 100 points per curve, and writing them costs nothing beside the steps.
    log_every: int = _field(
        25,
        "Add a row to steps.csv and a TensorBoard point every this many steps (with "
        "--steps-per-execution, at the end of the call into the graph that passes "
        "each multiple; see docs/training.md).",
    )
    tensorboard: bool = _field(
        True, "Write TensorBoard event files into the run's tensorboard/ folder."
    )
    keep_every: int = _field(
        10, "Also keep generator_epoch_NNNN.keras every this many epochs (0: never)."
    )
    # Ctrl-C, SIGTERM and SIGHUP checkpoint the step they stop at; this bounds
    # what a kill without warning (kill -9, a lost machine) can cost.
    checkpoint_every_steps: int = _field(
        0,
        "Also checkpoint every this many steps within an epoch, so that a kill "
        "loses at most that many (0: at epoch ends, and where a signal stops it).",
    )
    # Quality during training (dcgan_tf.monitor): on by default where the
    # package ships a classifier for offline features (fashion_mnist, cifar10);
    # elsewhere it needs InceptionV3's weights, so it is opt-in.
    quality_every: int | None = _field(
        None,
        "Measure the generator every this many epochs, log it to metrics.csv and "
        "keep generator_best.keras (0: never; preset: 5 for fashion_mnist and "
        "cifar10, else 0).",
    )
    quality_metrics: str = _field(
        "kid", "What --quality-every measures.", choices=QUALITY_METRICS
    )
    quality_samples: int = _field(2000, "Generated images per quality measurement.")
    # How to train, not what: none of these changes the result beyond float
    # round-off (see dcgan_tf.model.steps.tensorflow_step and runs.make_strategy).
    strategy: str = _field(
        "none",
        "Data-parallel training with tf.distribute: 'mirrored' over all local "
        "GPUs, 'multiworker' over the machines in TF_CONFIG. --batch-size is the "
        "global batch, split between the replicas.",
        choices=STRATEGIES,
    )
    # Keras' fit costs about 2 ms a step outside the graph: nothing beside a
    # CPU step of 0.25 s or more, but 15 % of a 13 ms step (measured at 16x16,
    # batch 4), and GPU steps are that short. 10 steps a call removed it there
    # and changed nothing at the presets on CPU.
    steps_per_execution: int = _field(
        10,
        "Train steps per call into the compiled graph (TensorFlow, JAX). Rounded "
        "down to a divisor of the steps per epoch and of --checkpoint-every-steps, "
        "so epochs, checkpoints and resumes stay exact.",
    )
    # Off by default, as results then match across machines. bfloat16 on a
    # 2-core AVX512-BF16 CPU: `fit` at 1.94x the float32 PyTorch peer against
    # float32's 1.42x, i.e. about 1.37x (benchmarks/results/speed_bfloat16_*.json
    # and docs/speed.md's table, bench --mixed-precision bfloat16).
    mixed_precision: str = _field(
        "off",
        "Compute in 'float16' (GPUs; the losses are scaled against underflow) or "
        "'bfloat16' (recent GPUs, TPUs, some CPUs) with float32 weights.",
        choices=PRECISIONS,
    )
    # Which is faster depends on the CPU (dcgan_tf.training.execution has the figures).
    jit_compile: str = _field(
        "auto",
        "Compile the train step (XLA under TensorFlow and JAX, torch.compile "
        "under PyTorch): 'on', 'off', or 'auto': time a few steps of each way "
        "this backend allows (under TensorFlow compiled or not; JAX compiles, "
        "PyTorch does not), times each --g-formulation, on this machine at the "
        "start, and keep the fastest (cached per machine and shape).",
        choices=JIT_COMPILES,
    )
    jit_compiled: bool | None = _field(
        None,
        "Recorded, not chosen: whether --jit-compile compiled the step.",
        flag=False,
    )
    # Same weights and saved files either way; only the speed differs, by
    # backend and CPU (docs/speed.md, "What --jit-compile auto probes").
    g_formulation: str = _field(
        "auto",
        "How G's transposed convolutions compute: 'transposed' (Keras' op), "
        "'subpixel' (the same sums as four 2x2 convolutions, equal to float32 "
        "rounding), or 'auto': the faster in --jit-compile auto's probe, else "
        "transposed. Only G with --upsample transposed has them.",
        choices=G_FORMULATIONS,
    )
    g_upsample_formulation: str | None = _field(
        None,
        "Recorded, not chosen: how G's transposed convolutions computed.",
        flag=False,
    )
    execution_probe: dict | None = _field(
        None,
        "Recorded, not chosen: --jit-compile auto's measured img/s per "
        "candidate, and the candidates skipped and why.",
        flag=False,
    )

    def resolve(self, dry_run: bool = False) -> "TrainConfig":
        """Returns the configuration that runs: every `None` preset field
        filled in, and for a dry run one epoch of `DRY_RUN_STEPS` steps (see
        `dcgan_tf.config.resolving`).

        Raises:
            ValueError: for an unknown data set or recipe.
        """
        return resolving.resolve(self, dry_run)

    def differences_from_paper(self) -> list[str]:
        """The options, as `--flag value`, by which this run's network or
        training differs from Radford et al.'s DCGAN; empty for the paper's."""
        return resolving.differences_from_paper(self)

    @property
    def channels(self) -> int:
        return PRESETS[self.dataset]["channels"]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, self.channels)

    def validate(self) -> None:
        """Raises `ValueError` with a one-line message for a bad value (see
        `dcgan_tf.config.checks`)."""
        checks.validate(self)

    def to_dict(self) -> dict:
        """The fields as plain values, as `config.json` holds them."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A configuration from `to_dict`'s values, as any version wrote them
        (see `dcgan_tf.config.recorded`).

        Raises:
            ValueError: when `values` is not a mapping of field names with
                values of their types.
        """
        return cls(**recorded.config_values(cls, values))
