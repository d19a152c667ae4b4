"""Reading a `config.json` that any version of dcgan_tf wrote: fields added
since take their old behaviour (`ADDED`), renamed ones are read under their
new names (`RENAMED`), unknown keys are ignored, and a value of the wrong type,
or a field every version wrote (`RECORDED_SINCE_FIRST`) missing, is one line.
Each network's learning rate, recorded since the recipes, is filled as
`dcgan_tf.config.resolving.learning_rates` says (both at `learning_rate`)."""

import dataclasses

from dcgan_tf.config import checks, resolving
from dcgan_tf.config.presets import ADDED, RECIPES, RECORDED_SINCE_FIRST, RENAMED


def config_values(cls, values) -> dict:
    """`field_values` of a `TrainConfig` (`cls`), with each network's
    learning rate filled in when an older version did not record it.

    Raises:
        ValueError: as `field_values` does.
    """
    values = field_values(cls, values)
    if values.get("d_learning_rate") is None or values.get("g_learning_rate") is None:
        recipe = RECIPES.get(values.get("recipe"), RECIPES["paper"])
        rates = resolving.learning_rates(values, recipe)
        values["d_learning_rate"] = rates["d_learning_rate"]
        values["g_learning_rate"] = rates["g_learning_rate"]
    return values


def field_values(cls, values) -> dict:
    """The keyword arguments of dataclass `cls` that `values` records.

    Raises:
        ValueError: when `values` is not a mapping, a field's value is not
            of its type, or a field every version wrote is missing.
    """
    if not isinstance(values, dict):
        raise ValueError(f"expected a JSON object, got {type(values).__name__}")
    named = {RENAMED.get(key, key) for key in values}
    missing = [name for name in RECORDED_SINCE_FIRST if name not in named]
    if missing:
        raise ValueError(
            f"it has no {', '.join(missing)}, which every run records and "
            "training depends on"
        )
    values = {
        **ADDED,
        **{RENAMED.get(key, key): value for key, value in values.items()},
    }
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, value in values.items():
        if name in fields and not checks.has_type(value, fields[name].type):
            raise ValueError(
                f"{name} is {value!r}, not {checks.type_name(fields[name])}"
            )
    return {k: v for k, v in values.items() if k in fields}
