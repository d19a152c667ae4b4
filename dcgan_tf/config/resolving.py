"""From the options given to the configuration that runs: the data set's
preset fills what was left out, the recipe fills the cures' options and each
network's learning rate (`resolve`, the only place either is worked out), what
only the run itself can know is added once (`complete`), and what differs from
the paper is named."""

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
    recipe = RECIPES[values["recipe"]]
    filled = {
        name: value if values[name] is None else values[name]
        for name, value in recipe.items()
        if not name.endswith("learning_rate")
    }
    filled.update(learning_rates(values, recipe))
    return filled


def learning_rates(values: dict, recipe: dict = RECIPES["paper"]) -> dict:
    """`learning_rate`, `d_learning_rate` and `g_learning_rate` of a
    configuration's `values`, each None filled in: a network's own rate given
    wins, then --learning-rate for both, then the `recipe`'s rate for that
    network, then `LEARNING_RATE`. A `config.json` written before the two
    rates (read by `dcgan_tf.config.recorded`) gets both at its
    `learning_rate`, as such a run trained."""
    rate = values["learning_rate"]
    filled = {"learning_rate": LEARNING_RATE if rate is None else rate}
    for name in ("d_learning_rate", "g_learning_rate"):
        if values.get(name) is not None:
            filled[name] = values[name]
        elif rate is not None or recipe.get(name) is None:
            filled[name] = filled["learning_rate"]
        else:
            filled[name] = recipe[name]
    return filled


@dataclasses.dataclass(frozen=True)
class RunFacts:
    """What only the run itself knows, found once the data is loaded and the
    machine measured (see `dcgan_tf.training.run.prepare`).

    Attributes:
        steps_per_epoch: the configured steps, or one pass over the data.
        class_names: the data's classes (a conditional run), else as recorded.
        jit_compiled: whether `--jit-compile` compiled the train step.
        g_upsample_formulation: how G's transposed convolutions compute
            ('transposed' or 'subpixel').
        execution_probe: what `--jit-compile auto` measured, if it probed.
        run_dir: the run directory, when known before it is made (a resume or
            `--run-dir`); a numbered new run's directory names itself in its
            `config.json` when made (`dcgan_tf.rundir.create_numbered`).
    """

    steps_per_epoch: int
    class_names: list[str] | None = None
    jit_compiled: bool | None = None
    run_dir: str | None = None
    g_upsample_formulation: str | None = None
    execution_probe: dict | None = None


def complete(config, facts: RunFacts):
    """`config` (resolved and checked) with what only the run knows: the
    configuration that trains and that `config.json` records."""
    return dataclasses.replace(
        config,
        steps_per_epoch=facts.steps_per_epoch,
        class_names=facts.class_names,
        jit_compiled=facts.jit_compiled,
        g_upsample_formulation=facts.g_upsample_formulation,
        execution_probe=facts.execution_probe,
        run_dir=config.run_dir if facts.run_dir is None else facts.run_dir,
    )


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
    d_rate, g_rate = config.d_learning_rate, config.g_learning_rate
    if d_rate != g_rate:
        differ += [f"--d-learning-rate {d_rate}", f"--g-learning-rate {g_rate}"]
    return differ
