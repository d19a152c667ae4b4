"""Finding the run a saved generator belongs to."""

from pathlib import Path

from dcgan_tf import presets
from dcgan_tf.config import TrainConfig
from dcgan_tf.rundir.names import CONFIG, GENERATOR, RunDirError
from dcgan_tf.rundir.run_dir import RunDir


def generator_file(path) -> Path:
    """The generator that a run directory, a `.keras` path or a shipped
    preset's name (a `str`; see `dcgan_tf.presets.locate`) names.

    Raises:
        FileNotFoundError: when the path, or a run directory's
            `generator.keras`, does not exist (naming the `.keras` files found),
            and for a name that is no path and no shipped preset.
    """
    path = presets.locate(path)
    if path.is_dir():
        file = path / GENERATOR
        if not file.is_file():
            found = sorted(p.name for p in path.glob("*.keras"))
            hint = f" (found {', '.join(found)})" if found else ""
            if (path / CONFIG).is_file() and not found:
                raise FileNotFoundError(
                    f"{path} is a run with no {GENERATOR} yet: it is written when "
                    "its first epoch ends; wait for it, or resume the run with "
                    f"python -m dcgan_tf.train --resume {path}."
                )
            raise FileNotFoundError(
                f"No {GENERATOR} in {path}{hint}; pass a run directory of "
                "dcgan_tf.train or a .keras file."
            )
        return file
    if path.is_file():
        return path
    raise FileNotFoundError(f"No such run directory or .keras file: {path}")


def config_beside(file) -> TrainConfig | None:
    """The configuration of the run a saved file belongs to, or None outside a run.

    Raises:
        RunDirError: for a `config.json` that cannot be read.
    """
    path = Path(file).parent / CONFIG
    return RunDir(path.parent).read_config() if path.is_file() else None


def check_generator_current(file) -> None:
    """Refuses a run's `generator.keras` that is older than the run's last
    completed epoch (a kill while it was written left the one before):
    sampling it would silently show an earlier generator.

    Raises:
        RunDirError: naming the file and the command that rewrites it.
    """
    file = Path(file)
    if file.name != GENERATOR or not (file.parent / CONFIG).is_file():
        return
    behind = RunDir(file.parent).generator_behind()
    if behind:
        raise RunDirError(
            f"{behind}; write it again with python -m dcgan_tf.train --resume "
            f"{file.parent}, or pass one of its generator_epoch_NNNN.keras."
        )
