"""Hyperparameters of a training run and the presets of each data set.

Every default follows Radford et al. (2015) or the tutorials this project
replaces; the comment beside each field says which. The command line is
generated from these fields (see `dcgan_tf.train`), so the two cannot drift.
"""

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

DATASETS = ("fashion_mnist", "mnist", "cifar10", "biked", "folder")
LATENT_DISTRIBUTIONS = ("normal", "uniform")
FIT_MODES = ("crop", "pad")
STRATEGIES = ("none", "mirrored", "multiworker")
PRECISIONS = ("off", "float16", "bfloat16")
AUGMENTS = ("none", "diffaugment", "ada")
# The cures of DCGAN's artifacts (docs/recipes.md): G's upsampling, D's
# normalisation, the loss.
UPSAMPLES = ("transposed", "resize", "resize-bilinear")
DISCRIMINATOR_NORMS = ("batch", "spectral", "none")
LOSSES = ("nonsaturating", "hinge")
# Radford et al. §4: Adam's learning rate, of both networks.
LEARNING_RATE = 2e-4
# `--recipe`: each name sets these options at once; a flag given beside it
# overrides its value (and --learning-rate sets both networks' rates).
# "paper" is Radford et al.'s DCGAN exactly (None: --learning-rate).
# PROVISIONAL: "modern" is a first guess from the literature, not yet
# measured here; the benchmarks of issue #19 will fix it (and the presets'
# recipes). Its sources: resize-then-convolve upsampling (Odena, Dumoulin and
# Olah 2016); spectral norm instead of batch norm in D and the hinge loss
# (Miyato et al. 2018, Table 2: FID 56.3 -> 29.3 -> 25.5 on CIFAR-10); two
# time-scales, D faster (Heusel et al. 2017; Zhang et al. 2019's 4e-4 and
# 1e-4); the minibatch standard deviation (Karras et al. 2018, §3).
RECIPES = {
    "paper": {
        "upsample": "transposed",
        "discriminator_norm": "batch",
        "loss": "nonsaturating",
        "minibatch_stddev": False,
        "d_learning_rate": None,
        "g_learning_rate": None,
    },
    "modern": {
        "upsample": "resize",
        "discriminator_norm": "spectral",
        "loss": "hinge",
        "minibatch_stddev": True,
        "d_learning_rate": 4e-4,
        "g_learning_rate": 1e-4,
    },
}

# Per data set: the image geometry and the tutorials' batch size and length.
# Fashion-MNIST follows the TensorFlow DCGAN tutorial (batch 128, 50 epochs);
# the bicycles follow the 128x128 BIKED tutorials (batch 64). The small folders
# (BIKED's 4,512 images) train with ADA: where a plain D came to call 98 % of a
# small set real (600 Fashion-MNIST images, 12,000 steps), ADA held it near 80 %
# and led from 4,000 steps on; the averaged generator measured at most 2 %
# better, and worse on 64x64 photos (the README's "Small data sets" has the runs).
PRESETS = {
    "fashion_mnist": {
        "image_size": 28,
        "channels": 1,
        "batch_size": 128,
        "epochs": 50,
        "quality_every": 5,
        "augment": "none",
        "ema": 0.0,
    },
    "mnist": {
        "image_size": 28,
        "channels": 1,
        "batch_size": 128,
        "epochs": 50,
        "quality_every": 0,
        "augment": "none",
        "ema": 0.0,
    },
    "cifar10": {
        "image_size": 32,
        "channels": 3,
        "batch_size": 128,
        "epochs": 30,
        "quality_every": 5,
        "augment": "none",
        "ema": 0.0,
    },
    "biked": {
        "image_size": 128,
        "channels": 3,
        "batch_size": 64,
        "epochs": 100,
        "quality_every": 0,
        "augment": "ada",
        "ema": 0.0,
    },
    "folder": {
        "image_size": 64,
        "channels": 3,
        "batch_size": 64,
        "epochs": 50,
        "quality_every": 0,
        "augment": "ada",
        "ema": 0.0,
    },
}
QUALITY_METRICS = ("kid", "fid", "kid,fid", "kid,artifacts", "kid,fid,artifacts")
# Upper bounds on the sizes that allocate memory, far above any DCGAN's (the
# paper: batches of 128, z of 100, 64x64 images): a typo of a few digits is one
# line, not minutes of allocating before running out (or TensorFlow refusing a
# tensor over 2 GB with a traceback).
LIMITS = {
    "batch_size": 4096,
    "latent_dim": 4096,
    "image_size": 1024,
    "generator_filters": 1024,
    "discriminator_filters": 1024,
    "grid_size": 1024,
}
# A dry run trains this many steps on synthetic images: enough to write every
# file of a run in seconds.
DRY_RUN_STEPS = 2
# What a resumed run may change: more epochs, and the optimiser's settings
# (the advice after a divergence is a lower learning rate). Everything else
# defines the run and must stay as recorded.
RESUME_CHANGEABLE = (
    "epochs",
    "learning_rate",
    "d_learning_rate",
    "g_learning_rate",
    "beta_1",
)
# Fields renamed since the first release: old run directories still load.
RENAMED = {"num_samples": "grid_size"}
# Fields added since the first release, as runs made before them trained.
ADDED = {
    "augment": "none",
    "ema": 0.0,
    "saved_generator": "trained",
    "recipe": "paper",
    **{k: v for k, v in RECIPES["paper"].items() if v is not None},
}


def _field(default, help, **kwargs):
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as the run's `config.json`.

    Fields left at `None` are filled from `PRESETS[dataset]` by `resolve()`.
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
    recipe: str = _field(
        "paper",
        "The options below at once: 'paper' (Radford et al.'s DCGAN) or "
        "'modern' (resize upsampling, spectral norm, hinge loss, D at 4e-4 and "
        "G at 1e-4, minibatch stddev; provisional). Flags given override it.",
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
        25, "Add a row to steps.csv and a TensorBoard point every this many steps."
    )
    tensorboard: bool = _field(
        True, "Write TensorBoard event files into the run's tensorboard/ folder."
    )
    keep_every: int = _field(
        10, "Also keep generator_epoch_NNNN.keras every this many epochs (0: never)."
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
    # round-off (see dcgan_tf.steps.tensorflow_step and runs.make_strategy).
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
        "down to a divisor of the steps per epoch, so epochs and resumes stay exact.",
    )
    # Off by default, as results then match across machines. bfloat16 on a
    # 2-core AVX512-BF16 CPU: `fit` at 1.94x the float32 PyTorch peer against
    # float32's 1.42x, i.e. about 1.37x (benchmarks/results/speed_bfloat16_*.json
    # and the README's speed table, bench --mixed-precision bfloat16).
    mixed_precision: str = _field(
        "off",
        "Compute in 'float16' (GPUs; the losses are scaled against underflow) or "
        "'bfloat16' (recent GPUs, TPUs, some CPUs) with float32 weights.",
        choices=PRECISIONS,
    )

    def resolve(self, dry_run: bool = False) -> "TrainConfig":
        """Returns the configuration that runs: every `None` preset field
        filled in, and for a dry run one epoch of `DRY_RUN_STEPS` steps.

        Raises:
            ValueError: for an unknown data set.
        """
        if self.dataset not in PRESETS:
            raise ValueError(
                f"Unknown dataset {self.dataset!r}; "
                f"choose one of {', '.join(DATASETS)}."
            )
        preset = PRESETS[self.dataset]
        values = dataclasses.asdict(self)
        if dry_run:
            values.update(epochs=1, steps_per_epoch=DRY_RUN_STEPS)
        for key in (
            "image_size",
            "epochs",
            "batch_size",
            "quality_every",
            "augment",
            "ema",
        ):
            if values[key] is None:
                values[key] = preset[key]
        values["saved_generator"] = "ema" if values["ema"] else "trained"
        values.update(_recipe_values(values))
        if self.quality_every is None and values["image_size"] != preset["image_size"]:
            # The shipped classifiers see the native size only.
            values["quality_every"] = 0
        return TrainConfig(**values)

    @property
    def learning_rates(self) -> tuple[float, float]:
        """The discriminator's and the generator's Adam learning rates."""
        rate = self.learning_rate or LEARNING_RATE
        return (self.d_learning_rate or rate, self.g_learning_rate or rate)

    def differences_from_paper(self) -> list[str]:
        """The options, as `--flag value`, by which this run's network or
        training differs from Radford et al.'s DCGAN (one learning rate for
        both networks); empty for the paper's."""
        differ = [
            f"--{name.replace('_', '-')} {getattr(self, name)}"
            for name, value in RECIPES["paper"].items()
            if value is not None and getattr(self, name) not in (None, value)
        ]
        d_rate, g_rate = self.learning_rates
        if d_rate != g_rate:
            differ += [f"--d-learning-rate {d_rate}", f"--g-learning-rate {g_rate}"]
        return differ

    @property
    def channels(self) -> int:
        return PRESETS[self.dataset]["channels"]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, self.channels)

    def validate(self) -> None:
        """Raises `ValueError` with a one-line message for a bad value."""
        if self.dataset not in DATASETS:
            raise ValueError(
                f"Unknown dataset {self.dataset!r}; "
                f"choose one of {', '.join(DATASETS)}."
            )
        for name in ("learning_rate", "beta_1", "label_smoothing"):
            value = getattr(self, name)
            if value is None and name == "learning_rate":
                continue  # resolved later
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(
                    f"--{name.replace('_', '-')} must be a finite number, got {value}."
                )
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"--seed must be in [0, 2**32), got {self.seed}.")
        for name in (
            "epochs",
            "batch_size",
            "latent_dim",
            "image_size",
            "generator_filters",
            "discriminator_filters",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(
                    f"--{name.replace('_', '-')} must be at least 1, got {value}."
                )
        for name, most in LIMITS.items():
            value = getattr(self, name)
            if value is not None and value > most:
                raise ValueError(
                    f"--{name.replace('_', '-')} must be at most {most}, got {value}."
                )
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise ValueError(
                f"--steps-per-epoch must be at least 1, got {self.steps_per_epoch}."
            )
        for name in ("grid_size", "sample_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1.")
        if self.keep_every < 0:
            raise ValueError("--keep-every must be 0 (never) or more.")
        if self.quality_every is not None and self.quality_every < 0:
            raise ValueError("--quality-every must be 0 (never) or more.")
        if self.quality_samples < 2:
            raise ValueError("--quality-samples must be at least 2.")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(
                f"--label-smoothing must be in [0, 1), got {self.label_smoothing}."
            )
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ValueError(
                f"--learning-rate must be positive, got {self.learning_rate}."
            )
        if not 0.0 <= self.beta_1 < 1.0:
            raise ValueError(f"--beta-1 must be in [0, 1), got {self.beta_1}.")
        if self.augment is not None and self.augment not in AUGMENTS:
            raise ValueError(f"--augment must be one of {', '.join(AUGMENTS)}.")
        if self.ema is not None and not (
            isinstance(self.ema, (int, float)) and 0.0 <= self.ema < 1.0
        ):
            raise ValueError(
                f"--ema must be a decay in [0, 1) (0: off), got {self.ema}."
            )
        if not (
            isinstance(self.ada_target, (int, float)) and -1.0 < self.ada_target < 1.0
        ):
            raise ValueError(f"--ada-target must be in (-1, 1), got {self.ada_target}.")
        if not (
            isinstance(self.ada_kimg, (int, float))
            and math.isfinite(self.ada_kimg)
            and self.ada_kimg > 0
        ):
            raise ValueError(f"--ada-kimg must be positive, got {self.ada_kimg}.")
        if self.latent_distribution not in LATENT_DISTRIBUTIONS:
            raise ValueError(
                "--latent-distribution must be one of "
                f"{', '.join(LATENT_DISTRIBUTIONS)}."
            )
        if self.fit not in FIT_MODES:
            raise ValueError(f"--fit must be one of {', '.join(FIT_MODES)}.")
        if self.steps_per_execution < 1:
            raise ValueError(
                "--steps-per-execution must be at least 1, "
                f"got {self.steps_per_execution}."
            )
        if self.mixed_precision not in PRECISIONS:
            raise ValueError(
                f"--mixed-precision must be one of {', '.join(PRECISIONS)}."
            )
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}.")
        if self.class_names is not None and (
            isinstance(self.class_names, str)
            or len(set(map(str, self.class_names))) != len(self.class_names)
            or len(self.class_names) < 2
        ):
            raise ValueError(
                "--class-names is read from the data set's labels when a "
                "--conditional run starts (2 distinct names or more); drop it."
            )
        self._validate_recipe()

    def _validate_recipe(self) -> None:
        """The cures' options (see `RECIPES`); None is the recipe's value."""
        if self.recipe not in RECIPES:
            raise ValueError(f"--recipe must be one of {', '.join(RECIPES)}.")
        for name, choices in (
            ("upsample", UPSAMPLES),
            ("discriminator_norm", DISCRIMINATOR_NORMS),
            ("loss", LOSSES),
        ):
            if getattr(self, name) not in (None, *choices):
                raise ValueError(
                    f"--{name.replace('_', '-')} must be one of {', '.join(choices)}."
                )
        if self.minibatch_stddev not in (None, True, False):
            raise ValueError("--minibatch-stddev is on or off.")
        for name in ("d_learning_rate", "g_learning_rate"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, (int, float)) and math.isfinite(value) and value > 0
            ):
                raise ValueError(
                    f"--{name.replace('_', '-')} must be positive, got {value}."
                )
        if self.loss == "hinge" and self.label_smoothing:
            raise ValueError(
                "--label-smoothing softens the cross-entropy's real targets; "
                "--loss hinge has none: drop one of them."
            )

    def to_dict(self) -> dict:
        """The fields as plain values, as `config.json` holds them."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A configuration from `to_dict`'s values; unknown keys are ignored and
        the names of older versions are read under their new ones.

        Raises:
            ValueError: when `values` is not a mapping of field names.
        """
        if not isinstance(values, dict):
            raise ValueError(f"expected a JSON object, got {type(values).__name__}")
        values = {
            **ADDED,
            **{RENAMED.get(key, key): value for key, value in values.items()},
        }
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def _recipe_values(values: dict) -> dict:
    """The cures' options of a configuration's `values`, each None filled in:
    a flag given wins, then --learning-rate for both rates, then the recipe.

    Raises:
        ValueError: for an unknown recipe.
    """
    if values["recipe"] not in RECIPES:
        raise ValueError(
            f"Unknown recipe {values['recipe']!r}; choose one of {', '.join(RECIPES)}."
        )
    recipe = RECIPES[values["recipe"]]
    rate = values["learning_rate"]
    filled = {"learning_rate": rate or LEARNING_RATE}
    for name, value in recipe.items():
        if values[name] is not None:
            filled[name] = values[name]
        elif name.endswith("learning_rate"):
            filled[name] = rate or value or LEARNING_RATE
        else:
            filled[name] = value
    return filled


def _same(name: str, given, recorded) -> bool:
    if name in ("run_dir", "data_dir") and given is not None and recorded is not None:
        return Path(given).expanduser().resolve() == Path(recorded).resolve()
    return given == recorded


def resume_config(recorded: TrainConfig, given: dict) -> TrainConfig:
    """The configuration of a resumed run: as recorded, with the changes a
    resume may make.

    Args:
        recorded: the run's `config.json`.
        given: the fields set on the command line (a user re-running the same
            command with `--resume` added repeats the recorded values).

    Returns:
        `recorded` with `RESUME_CHANGEABLE` fields taken from `given`.

    Raises:
        ValueError: naming only the flags whose values differ from the
            recorded ones and cannot change on resume.
    """
    differ = [
        f"--{name.replace('_', '-')} {given[name]} "
        f"(recorded: {getattr(recorded, name)})"
        for name in given
        if name not in RESUME_CHANGEABLE
        and not _same(name, given[name], getattr(recorded, name))
    ]
    if differ:
        raise ValueError(
            "--resume continues the run as recorded in its config.json, but "
            f"{'; '.join(differ)} differ; drop them, or start a new run."
        )
    changes = {k: v for k, v in given.items() if k in RESUME_CHANGEABLE}
    if "learning_rate" in changes:
        # --learning-rate sets both networks' rates, as when a run starts.
        for name in ("d_learning_rate", "g_learning_rate"):
            changes.setdefault(name, changes["learning_rate"])
    config = dataclasses.replace(recorded, **changes)
    # A run recorded before the two rates trained both at learning_rate.
    d_rate, g_rate = config.learning_rates
    return dataclasses.replace(config, d_learning_rate=d_rate, g_learning_rate=g_rate)
