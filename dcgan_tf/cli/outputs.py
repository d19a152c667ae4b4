"""What a command may write: never over one of its own inputs, never into a
run, never into a shipped preset.

Every command that writes files (`generate`, `interpolate`, `neighbours`,
`evaluate`, `train_classifier`, `bench`) names its outputs and its inputs to
`check_outputs` before any work; an output that would replace an input (the
`--from` latents, the generator, a file of the data) or land in a run
directory (a folder holding `config.json` or `state.json`, or any folder
below one) or into a shipped preset's folder (`dcgan_tf.presets`: they are
read-only) is refused in one line. Paths are compared as the file system
sees them: symbolic links and `..` resolved, the same file under two names
recognised.
"""

import os
from pathlib import Path
from typing import NamedTuple

from dcgan_tf import presets, rundir

# The pairs of files that make a folder a run directory (see `dcgan_tf.rundir`):
# a run is made with its configuration and latents, and checkpointed with
# `state.json`. One `config.json` alone is any project's, not a run.
RUN_MARKERS = ((rundir.CONFIG, rundir.LATENTS), (rundir.STATE, rundir.CONFIG))


class OutputError(ValueError):
    """An output would destroy an input or a run's file; the message names both."""


class Output(NamedTuple):
    """A file (or, with `folder`, a folder of files) a command will write.

    Attributes:
        flag: the flag that chooses it, named in the advice ("--out").
        path: where it goes; None for an output not asked for.
        what: how the message names it (default: `flag path`).
        folder: the command writes files inside `path`.
    """

    flag: str
    path: str | Path | None
    what: str | None = None
    folder: bool = False


def run_directory_of(path) -> Path | None:
    """The run directory that holds `path` (in it or in a folder below it), or None.

    A folder is a run directory when it holds `config.json` beside
    `latents.npy` or `state.json` (`RUN_MARKERS`);
    `path` is resolved first (symbolic links, `..`) and counts itself; it need
    not exist.
    """
    resolved = Path(os.path.realpath(path))
    for folder in [resolved, *resolved.parents]:
        if any(_holds(folder, pair) for pair in RUN_MARKERS):
            return folder
    return None


def _places(path: Path) -> list[Path]:
    """Where writing `path` lands: the name in its real folder (an atomic write
    replaces a link there, not its target) and the file the name resolves to."""
    path = Path(os.path.abspath(path))
    places = [Path(os.path.realpath(path.parent)) / path.name]
    resolved = Path(os.path.realpath(path))
    return places if resolved == places[0] else places + [resolved]


def _same(place: Path, other: Path) -> bool:
    if place == other:
        return True
    try:
        return os.path.samefile(place, other)  # hard links, bind mounts
    except OSError:
        return False  # one of them does not exist (yet)


def _inside(place: Path, folder: Path) -> bool:
    return place == folder or folder in place.parents


def _holds(folder: Path, names) -> bool:
    return all((folder / name).is_file() for name in names)


def _marker(folder: Path) -> str:
    return " and ".join(next(p for p in RUN_MARKERS if _holds(folder, p)))


def check_outputs(outputs, inputs=()) -> None:
    """Refuses outputs that would destroy an input of the command or a run's file.

    Args:
        outputs: the `Output`s the command will write (None paths skipped).
        inputs: `(what, path)` pairs of what it reads: a file must not be
            replaced, nothing may be written inside a folder (a data set's).
            None paths are skipped.

    Raises:
        OutputError: naming the output, what it would destroy, and the flag
            to change.
    """
    inputs = [(what, Path(path)) for what, path in inputs if path is not None]
    for output in outputs:
        if output.path is None:
            continue
        what = output.what or f"{output.flag} {output.path}"
        advice = f"choose another {output.flag}"
        if output.folder and Path(output.path).is_symlink():
            # A file is replaced by a rename, never written through; the
            # files of a folder would be written wherever its link points.
            raise OutputError(
                f"{what} is a symbolic link, and commands never write through "
                f"a link; remove it or {advice}."
            )
        for place in _places(Path(output.path)):
            folder = place if output.folder else place.parent
            if presets.is_preset_folder(folder):
                raise OutputError(
                    f"{what} would be written into a shipped preset's folder "
                    f"({folder}); presets are read-only: {advice} outside it."
                )
            run = run_directory_of(folder)
            if run is not None:
                raise OutputError(
                    f"{what} would be written into the run directory {run} (it "
                    f"holds {_marker(run)}); commands never write into a run: "
                    f"{advice} outside it."
                )
            for input_what, input_path in inputs:
                real = Path(os.path.realpath(input_path))
                if real.is_dir():
                    if _inside(place, real):
                        raise OutputError(
                            f"{what} would be written inside {input_what} "
                            f"{input_path}, which this command reads; {advice} "
                            "outside it."
                        )
                elif not output.folder and _same(place, real):
                    raise OutputError(
                        f"{what} would replace {input_what} {input_path}, which "
                        f"this command reads; {advice}."
                    )


def generator_inputs(path) -> list[tuple[str, Path]]:
    """The inputs behind a generator argument: its `.keras` file and the data
    folder its run's `config.json` names.

    A path that cannot be read yet is returned as it is: the loader says what
    is wrong with it, after the checks.
    """
    try:
        file = rundir.generator_file(path)
    except OSError:
        return [("the generator", Path(path))]
    found = [("the generator", file)]
    try:
        config = rundir.config_beside(file)
    except (rundir.RunDirError, ValueError, OSError):
        config = None
    if config is not None and config.data_dir:
        found.append(("the run's data folder", Path(config.data_dir)))
    return found


def grid_outputs(out) -> list[Output]:
    """A grid `--out` and the latents written beside it (the same name, `.npz`)."""
    out = Path(out)
    npz = out.with_suffix(".npz")
    latents = f"--out {out} (its latents go to {npz})"
    return [Output("--out", out), Output("--out", npz, latents)]
