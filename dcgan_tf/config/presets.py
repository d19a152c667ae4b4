"""The choices of every option, the recipes, and each data set's presets:
every default with its reason (Radford et al. 2015, or the tutorials this
project replaces)."""

DATASETS = ("fashion_mnist", "mnist", "cifar10", "biked", "folder")
LATENT_DISTRIBUTIONS = ("normal", "uniform")
FIT_MODES = ("crop", "pad")
STRATEGIES = ("none", "mirrored", "multiworker")
PRECISIONS = ("off", "float16", "bfloat16")
JIT_COMPILES = ("auto", "on", "off")
# How G's transposed convolutions compute (`dcgan_tf.model.subpixel`).
G_FORMULATIONS = ("auto", "transposed", "subpixel")
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
# "modern" takes the cures of DCGAN's checkerboard together. Its sources:
# resize-then-convolve upsampling (Odena, Dumoulin and Olah 2016); spectral
# norm instead of batch norm in D and the hinge loss (Miyato et al. 2018,
# Table 2: FID 56.3 -> 29.3 -> 25.5 on CIFAR-10); two time-scales, D faster
# (Heusel et al. 2017; Zhang et al. 2019's 4e-4 and 1e-4); the minibatch
# standard deviation (Karras et al. 2018, §3).
# "fewshot" is FastGAN's two additions (Liu et al. 2021, dcgan_tf.model.fewshot):
# skip-layer excitation in G, decoders rebuilding real images from D's
# features; its G always resizes (nearest) and its D is always spectrally
# normalised, the values below; the hinge loss and the modern recipe's two
# time-scales (Liu et al.'s code has 2e-4 for both networks, under which D
# called 95% of the flowers fake by 400 steps at 64 px, issue #30). It takes
# the data set's --augment (ADA for the folders' presets; Liu et al. use
# DiffAugment).
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
    "fewshot": {
        "upsample": "resize",
        "discriminator_norm": "spectral",
        "loss": "hinge",
        "minibatch_stddev": True,
        "d_learning_rate": 4e-4,
        "g_learning_rate": 1e-4,
    },
}
# What the few-shot recipe's networks cannot be built with: its G always
# resizes and its D is always spectrally normalised (recipe values above).
FEWSHOT_FIXED = ("upsample", "discriminator_norm")

# Per data set: the recipe, the image geometry and the tutorials' batch size
# and length. The photo-sized sets take --recipe modern: on 3,670 flower photos
# the paper's recipe stamped a checkerboard over every sample (the artifact
# measure 13 at 64 px, 35-95 at 128 px; photos: 1) and the modern one none
# (about 1), at a lower FID at 64 px (two seeds) and at 128 px with 32
# filters; at 5 epochs of Fashion-MNIST it was worse than the paper's
# (docs/bicycles-128.md has the runs), so the classic sets keep the paper's.
# Fashion-MNIST follows the TensorFlow DCGAN tutorial (batch 128, 50 epochs);
# the bicycles follow the 128x128 BIKED tutorials (batch 64). The small folders
# (BIKED's 4,512 images) train with ADA: where a plain D came to call 98 % of a
# small set real (600 Fashion-MNIST images, 12,000 steps), ADA held it near 80 %
# and led from 4,000 steps on; the averaged generator measured at most 2 %
# better, and worse on 64x64 photos (docs/small-data.md has the runs).
PRESETS = {
    "fashion_mnist": {
        "recipe": "paper",
        "image_size": 28,
        "channels": 1,
        "batch_size": 128,
        "epochs": 50,
        "quality_every": 5,
        "augment": "none",
        "ema": 0.0,
    },
    "mnist": {
        "recipe": "paper",
        "image_size": 28,
        "channels": 1,
        "batch_size": 128,
        "epochs": 50,
        "quality_every": 0,
        "augment": "none",
        "ema": 0.0,
    },
    "cifar10": {
        "recipe": "paper",
        "image_size": 32,
        "channels": 3,
        "batch_size": 128,
        "epochs": 30,
        "quality_every": 5,
        "augment": "none",
        "ema": 0.0,
    },
    "biked": {
        "recipe": "modern",
        "image_size": 128,
        "channels": 3,
        "batch_size": 64,
        "epochs": 100,
        "quality_every": 0,
        "augment": "ada",
        "ema": 0.0,
    },
    "folder": {
        "recipe": "modern",
        "image_size": 64,
        "channels": 3,
        "batch_size": 64,
        "epochs": 50,
        "quality_every": 0,
        "augment": "ada",
        "ema": 0.0,
    },
}
QUALITY_METRICS = (
    "kid",
    "fid",
    "kid,fid",
    "kid,artifacts",
    "kid,fid,artifacts",
    # Precision and recall (`pr`), and the periodic-texture measure.
    "kid,pr",
    "kid,fid,pr",
    "kid,artifacts,periodic",
    "kid,fid,pr,artifacts,periodic",
)
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
    # Not allocations, but a run of more is a typo (or damage in config.json).
    "epochs": 10**6,
    "steps_per_epoch": 10**9,
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
    "checkpoint_every_steps",
    "jit_compile",
    "g_formulation",
    # Logging only: a resume may stop (or start) writing TensorBoard events.
    "tensorboard",
)
# Fields every version's config.json has held since the first release (under
# their names then, see RENAMED): one missing is a damaged or edited file,
# never an old run, so it is refused rather than given a default (which once
# trained 3,750 steps of an epoch recorded as 4).
RECORDED_SINCE_FIRST = (
    "dataset",
    "data_dir",
    "image_size",
    "fit",
    "epochs",
    "steps_per_epoch",
    "batch_size",
    "learning_rate",
    "beta_1",
    "latent_dim",
    "latent_distribution",
    "generator_filters",
    "discriminator_filters",
    "label_smoothing",
    "seed",
    "grid_size",
    "sample_every",
    "keep_every",
)
# Of those, the ones every version resolved before it wrote them: a run's
# config.json never holds null there (hand-edited, a resume would stop with a
# traceback). steps_per_epoch may: null means one pass over the images.
RECORDED_AS_NUMBERS = (
    "image_size",
    "epochs",
    "batch_size",
    "latent_dim",
    "generator_filters",
    "discriminator_filters",
)
# Fields renamed since the first release: old run directories still load.
RENAMED = {"num_samples": "grid_size"}
# Fields added since the first release, as runs made before them trained.
ADDED = {
    "augment": "none",
    "ema": 0.0,
    "saved_generator": "trained",
    "recipe": "paper",
    "g_upsample_formulation": "transposed",
    **{k: v for k, v in RECIPES["paper"].items() if v is not None},
}
