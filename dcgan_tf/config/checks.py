"""Checking a configuration, from the command line or read back from a run's
`config.json`: each bad value is one line that names the flag (and, through
`dcgan_tf.rundir`, the file)."""

import math
import typing

from dcgan_tf.config.presets import (
    AUGMENTS,
    DATASETS,
    DISCRIMINATOR_NORMS,
    FEWSHOT_FIXED,
    FIT_MODES,
    G_FORMULATIONS,
    JIT_COMPILES,
    LATENT_DISTRIBUTIONS,
    LIMITS,
    LOSSES,
    PRECISIONS,
    RECIPES,
    STRATEGIES,
    UPSAMPLES,
)


def validate(config) -> None:
    """Raises `ValueError` with a one-line message for a bad value of a
    `TrainConfig`."""
    if config.dataset not in DATASETS:
        raise ValueError(
            f"Unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}."
        )
    for name in ("learning_rate", "beta_1", "label_smoothing"):
        value = getattr(config, name)
        if value is None and name == "learning_rate":
            continue  # resolved later
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(
                f"--{name.replace('_', '-')} must be a finite number, got {value}."
            )
    if not 0 <= config.seed < 2**32:
        raise ValueError(f"--seed must be in [0, 2**32), got {config.seed}.")
    for name in (
        "epochs",
        "batch_size",
        "latent_dim",
        "image_size",
        "generator_filters",
        "discriminator_filters",
    ):
        value = getattr(config, name)
        if value is not None and value < 1:
            raise ValueError(
                f"--{name.replace('_', '-')} must be at least 1, got {value}."
            )
    for name, most in LIMITS.items():
        value = getattr(config, name)
        if value is not None and value > most:
            raise ValueError(
                f"--{name.replace('_', '-')} must be at most {most}, got {value}."
            )
    if config.steps_per_epoch is not None and config.steps_per_epoch < 1:
        raise ValueError(
            f"--steps-per-epoch must be at least 1, got {config.steps_per_epoch}."
        )
    for name in ("grid_size", "sample_every", "log_every"):
        if getattr(config, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1.")
    if config.keep_every < 0:
        raise ValueError("--keep-every must be 0 (never) or more.")
    if config.checkpoint_every_steps < 0:
        raise ValueError("--checkpoint-every-steps must be 0 (never) or more.")
    if config.quality_every is not None and config.quality_every < 0:
        raise ValueError("--quality-every must be 0 (never) or more.")
    if config.quality_samples < 2:
        raise ValueError("--quality-samples must be at least 2.")
    # Precision and recall use each sample's 3rd nearest other sample.
    if "pr" in str(config.quality_metrics).split(",") and config.quality_samples < 4:
        raise ValueError("--quality-metrics with pr needs --quality-samples 4 or more.")
    if not 0.0 <= config.label_smoothing < 1.0:
        raise ValueError(
            f"--label-smoothing must be in [0, 1), got {config.label_smoothing}."
        )
    if config.learning_rate is not None and config.learning_rate <= 0:
        raise ValueError(
            f"--learning-rate must be positive, got {config.learning_rate}."
        )
    if not 0.0 <= config.beta_1 < 1.0:
        raise ValueError(f"--beta-1 must be in [0, 1), got {config.beta_1}.")
    if config.augment is not None and config.augment not in AUGMENTS:
        raise ValueError(f"--augment must be one of {', '.join(AUGMENTS)}.")
    if config.ema is not None and not (
        isinstance(config.ema, (int, float)) and 0.0 <= config.ema < 1.0
    ):
        raise ValueError(f"--ema must be a decay in [0, 1) (0: off), got {config.ema}.")
    if not (
        isinstance(config.ada_target, (int, float)) and -1.0 < config.ada_target < 1.0
    ):
        raise ValueError(f"--ada-target must be in (-1, 1), got {config.ada_target}.")
    if not (
        isinstance(config.ada_kimg, (int, float))
        and math.isfinite(config.ada_kimg)
        and config.ada_kimg > 0
    ):
        raise ValueError(f"--ada-kimg must be positive, got {config.ada_kimg}.")
    if config.latent_distribution not in LATENT_DISTRIBUTIONS:
        raise ValueError(
            f"--latent-distribution must be one of {', '.join(LATENT_DISTRIBUTIONS)}."
        )
    if config.fit not in FIT_MODES:
        raise ValueError(f"--fit must be one of {', '.join(FIT_MODES)}.")
    if config.steps_per_execution < 1:
        raise ValueError(
            "--steps-per-execution must be at least 1, "
            f"got {config.steps_per_execution}."
        )
    if config.mixed_precision not in PRECISIONS:
        raise ValueError(f"--mixed-precision must be one of {', '.join(PRECISIONS)}.")
    if config.jit_compile not in JIT_COMPILES:
        raise ValueError(f"--jit-compile must be one of {', '.join(JIT_COMPILES)}.")
    if config.g_formulation not in G_FORMULATIONS:
        raise ValueError(f"--g-formulation must be one of {', '.join(G_FORMULATIONS)}.")
    if config.g_upsample_formulation not in (None, *G_FORMULATIONS[1:]):
        raise ValueError(
            "g_upsample_formulation is recorded by the run as "
            f"{' or '.join(G_FORMULATIONS[1:])}, not {config.g_upsample_formulation!r}."
        )
    if config.strategy not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}.")
    if config.class_names is not None and (
        isinstance(config.class_names, str)
        or len(set(map(str, config.class_names))) != len(config.class_names)
        or len(config.class_names) < 2
    ):
        raise ValueError(
            "--class-names is read from the data set's labels when a "
            "--conditional run starts (2 distinct names or more); drop it."
        )
    _validate_recipe(config)


def _validate_recipe(config) -> None:
    """The cures' options (see `RECIPES`); None is the recipe's value, and
    the preset's recipe until `resolve`."""
    if config.recipe not in (None, *RECIPES):
        raise ValueError(f"--recipe must be one of {', '.join(RECIPES)}.")
    for name, choices in (
        ("upsample", UPSAMPLES),
        ("discriminator_norm", DISCRIMINATOR_NORMS),
        ("loss", LOSSES),
    ):
        if getattr(config, name) not in (None, *choices):
            raise ValueError(
                f"--{name.replace('_', '-')} must be one of {', '.join(choices)}."
            )
    if config.recipe == "fewshot":
        _validate_fewshot(config)
    upsample = config.upsample or RECIPES.get(config.recipe, {}).get("upsample")
    if config.g_formulation == "subpixel" and upsample not in (None, "transposed"):
        raise ValueError(
            "--g-formulation subpixel computes G's transposed convolutions; "
            f"--upsample {upsample} has none: drop --g-formulation, or use "
            "--upsample transposed."
        )
    if config.minibatch_stddev not in (None, True, False):
        raise ValueError("--minibatch-stddev is on or off.")
    for name in ("d_learning_rate", "g_learning_rate"):
        value = getattr(config, name)
        if value is not None and not (
            isinstance(value, (int, float)) and math.isfinite(value) and value > 0
        ):
            raise ValueError(
                f"--{name.replace('_', '-')} must be positive, got {value}."
            )
    if config.loss == "hinge" and config.label_smoothing:
        raise ValueError(
            "--label-smoothing softens the cross-entropy's real targets; "
            "--loss hinge has none: drop one of them."
        )


def _validate_fewshot(config) -> None:
    """What the few-shot recipe's networks cannot be built with."""
    if config.conditional:
        raise ValueError(
            "--recipe fewshot is unconditional (its D has no class input): "
            "drop --conditional, or use --recipe modern."
        )
    for name in FEWSHOT_FIXED:
        value, fixed = getattr(config, name), RECIPES["fewshot"][name]
        if value not in (None, fixed):
            flag = f"--{name.replace('_', '-')}"
            raise ValueError(
                f"--recipe fewshot builds its networks with {flag} {fixed}; "
                f"drop {flag} {value}, or use --recipe modern."
            )


def has_type(value, annotation) -> bool:
    """Whether a value read from JSON has a field's type (`int | None`,
    `float`, `list[str] | None`, ...): no float where an int goes, no bool
    for a number."""
    allowed = typing.get_args(annotation) if typing.get_origin(annotation) else ()
    allowed = allowed or (annotation,)
    for kind in allowed:
        origin = typing.get_origin(kind) or kind
        if kind is type(None) and value is None:
            return True
        if origin is bool and isinstance(value, bool):
            return True
        if isinstance(value, bool):
            continue
        if origin is int and isinstance(value, int):
            return True
        if origin is float and isinstance(value, (int, float)):
            return True
        if origin is str and isinstance(value, str):
            return True
        if origin is list and isinstance(value, list):
            return all(isinstance(item, str) for item in value)
        if origin is dict and isinstance(value, dict):
            return True
    return False


def type_name(field_) -> str:
    names = {
        int: "a whole number",
        float: "a number",
        str: "text",
        bool: "true/false",
        dict: "an object",
    }
    kinds = typing.get_args(field_.type) or (field_.type,)
    return " or ".join(
        names.get(kind, "null" if kind is type(None) else "a list of names")
        for kind in kinds
    )
