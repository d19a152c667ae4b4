"""What a resumed run may change: its configuration as recorded, with the
flags a resume may change (`RESUME_CHANGEABLE`)."""

import dataclasses
from pathlib import Path

from dcgan_tf.config.presets import RECORDED_AS_NUMBERS, RESUME_CHANGEABLE


def _same(name: str, given, recorded) -> bool:
    if name in ("run_dir", "data_dir") and given is not None and recorded is not None:
        return Path(given).expanduser().resolve() == Path(recorded).resolve()
    return given == recorded


def resume_config(recorded, given: dict):
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
            recorded ones and cannot change on resume; its values are checked
            where the run starts (`dcgan_tf.train`, `training.run.train`).
    """
    empty = [name for name in RECORDED_AS_NUMBERS if getattr(recorded, name) is None]
    if empty:
        # A hand-edited config.json: a resume would stop in a traceback, or
        # train a default's number of steps.
        raise ValueError(
            f"the run's config.json has null for {', '.join(empty)}, where every "
            "run records the number it trains with; restore it from a backup or "
            "start a new run."
        )
    differ = [
        f"--{name.replace('_', '-')} {given[name]} differs from the run's "
        f"recorded {getattr(recorded, name)}"
        for name in given
        if name not in RESUME_CHANGEABLE
        and not _same(name, given[name], getattr(recorded, name))
    ]
    if differ:
        flags = "the flag" if len(differ) == 1 else "those flags"
        raise ValueError(
            f"{', and '.join(differ)}; --resume continues the run as its "
            f"config.json records it: drop {flags} to resume, or start a new run "
            "to train with other values."
        )
    changes = {k: v for k, v in given.items() if k in RESUME_CHANGEABLE}
    if "learning_rate" in changes:
        # --learning-rate sets both networks' rates (unless one is given too),
        # as when a run starts. The recorded rates are filled already, by
        # `dcgan_tf.config.recorded` for a run of an older version.
        for name in ("d_learning_rate", "g_learning_rate"):
            changes.setdefault(name, changes["learning_rate"])
    return dataclasses.replace(recorded, **changes)
