"""From the options given to the configuration that runs: the data set's
preset fills what was left out, the recipe fills the cures' options, and what
differs from the paper is named."""

import dataclasses

from dcgan_tf.config.presets import (
    DATASETS,
    DRY_RUN_STEPS,
    LEARNING_RATE,
    PRESETS,
    RECIPES,
)

# The fields a data set's preset fills when they are left at None.
PRESET_FIELDS = (
    "image_size",
    "epochs",
    "batch_size",
    "quality_every",
    "augment",
    "ema",
    "recipe",
)


def resolve(config, dry_run: bool = False):
    """`config` (a `TrainConfig`) with every `None` preset field filled in,
    and for a dry run one epoch of `DRY_RUN_STEPS` steps.

    Raises:
        ValueError: for an unknown data set or recipe.
    """
    if config.dataset not in PRESETS:
        raise ValueError(
            f"Unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}."
        )
    preset = PRESETS[config.dataset]
    values = dataclasses.asdict(config)
    if dry_run:
        values.update(epochs=1, steps_per_epoch=DRY_RUN_STEPS)
    for key in PRESET_FIELDS:
        if values[key] is None:
            values[key] = preset[key]
    values["saved_generator"] = "ema" if values["ema"] else "trained"
    values.update(recipe_values(values))
    if config.quality_every is None and values["image_size"] != preset["image_size"]:
        # The shipped classifiers see the native size only.
        values["quality_every"] = 0
    return dataclasses.replace(config, **values)


def is_resolved(config) -> bool:
    """Whether `resolve` has filled `config`: every preset field and every
    option of its recipe set (what `build_dcgan` requires)."""
    recipe = config.recipe
    fields = (*PRESET_FIELDS, "learning_rate", *RECIPES.get(recipe, ()))
    return recipe in RECIPES and all(getattr(config, f) is not None for f in fields)


def recipe_values(values: dict) -> dict:
    """The cures' options of a configuration's `values`, each None filled in:
    a flag given wins, then --learning-rate for both rates, then the recipe.

    Raises:
        ValueError: for an unknown recipe.
    """
    if values["recipe"] not in RECIPES:
        raise ValueError(
            f"Unknown recipe {values['recipe']!r}; choose one of {', '.join(RECIPES)}."
        )
    rate = values["learning_rate"]
    filled = {"learning_rate": LEARNING_RATE if rate is None else rate}
    for name, value in RECIPES[values["recipe"]].items():
        if values[name] is not None:
            filled[name] = values[name]
        elif name.endswith("learning_rate") and rate is not None:
            filled[name] = rate
        else:
            filled[name] = filled["learning_rate"] if value is None else value
    return filled


def differences_from_paper(config) -> list[str]:
    """The options, as `--flag value`, by which `config`'s network or training
    differs from Radford et al.'s DCGAN (one learning rate for both networks);
    empty for the paper's."""
    differ = []
    for name, value in RECIPES["paper"].items():
        mine = getattr(config, name)
        if value is None or mine in (None, value):
            continue
        flag = name.replace("_", "-")
        if isinstance(mine, bool):
            differ.append(f"--{flag}" if mine else f"--no-{flag}")
        else:
            differ.append(f"--{flag} {mine}")
    d_rate, g_rate = config.learning_rates
    if d_rate != g_rate:
        differ += [f"--d-learning-rate {d_rate}", f"--g-learning-rate {g_rate}"]
    return differ
