"""Reading a `config.json` that any version of dcgan_tf wrote: fields added
since take their old behaviour (`ADDED`), renamed ones are read under their
new names (`RENAMED`), unknown keys are ignored, and a value of the wrong type
is one line."""

import dataclasses

from dcgan_tf.config import checks
from dcgan_tf.config.presets import ADDED, RENAMED


def field_values(cls, values) -> dict:
    """The keyword arguments of dataclass `cls` that `values` records.

    Raises:
        ValueError: when `values` is not a mapping, or a field's value is not
            of its type.
    """
    if not isinstance(values, dict):
        raise ValueError(f"expected a JSON object, got {type(values).__name__}")
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
