"""Which generators are shipped, and what a command's argument names: a path
(a run directory, a `.keras` file) or a shipped preset's name.

A preset is a folder `ROOT/NAME/` holding `PRESET_FILES` (and optionally
`discriminator.keras`); `available` lists only the folders holding all of
them, so a half-copied or hand-made folder is never offered. `locate` is the
one place where an argument becomes a path: every sampling command and
`load_generator` pass through it (`dcgan_tf.rundir.generator_file`,
`dcgan_tf.cli.locate_generator`).

It imports nothing of the project, so that `rundir` can stand on it.
"""

import os
import re
import warnings
from pathlib import Path

# The package data folder that holds the shipped presets (this folder).
ROOT = Path(__file__).resolve().parent
GENERATOR = "generator.keras"
DISCRIMINATOR = "discriminator.keras"
CONFIG = "config.json"
CARD_JSON = "card.json"
CARD_MD = "card.md"
SAMPLES = "samples.png"
# What every preset holds; `discriminator.keras` is optional.
PRESET_FILES = (GENERATOR, CONFIG, CARD_JSON, CARD_MD, SAMPLES)
# A preset's name: a bare word (no folder, no suffix), as keras-hub's are.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class PresetError(FileNotFoundError):
    """An argument is no path and no shipped preset, or a preset lacks what
    a command needs; the message says which presets there are."""


class PresetShadowedWarning(UserWarning):
    """A path of the same name as a shipped preset was used instead of it."""


def is_name(text) -> bool:
    """Whether `text` could be a preset's name (a bare word: no folder, no
    `.keras`)."""
    return isinstance(text, str) and NAME.fullmatch(text) is not None


def _root(root) -> Path:
    return ROOT if root is None else Path(root)


def is_complete(folder) -> bool:
    """Whether `folder` holds every file of a preset, each a plain file (no
    link: a preset is read as shipped, never through a link)."""
    folder = Path(folder)
    return all(
        (folder / name).is_file() and not (folder / name).is_symlink()
        for name in PRESET_FILES
    )


def available(root=None, member: str | None = None) -> list[str]:
    """The names of the shipped presets, sorted: the folders of `root` (by
    default `ROOT`, the package's) that hold every file of `PRESET_FILES`.

    Args:
        root: another folder of presets (for tests and for `ship`).
        member: only the presets that also hold this file (such as
            `discriminator.keras`).
    """
    root = _root(root)
    if not root.is_dir():
        return []
    return sorted(
        entry.name
        for entry in root.iterdir()
        if is_name(entry.name)
        and entry.is_dir()
        and not entry.is_symlink()
        and is_complete(entry)
        and (member is None or (entry / member).is_file())
    )


def listing(root=None, member: str | None = None) -> str:
    """`fashion_mnist, cifar10` or `none yet`: the shipped presets (holding
    `member`, if given) in words."""
    names = available(root, member)
    return ", ".join(names) if names else "none yet"


def preset_folder(name: str, root=None) -> Path | None:
    """The folder of the shipped preset `name`, or None when there is none."""
    return _root(root) / name if name in available(root) else None


def shadow_note(name: str, root=None) -> str:
    """The note said when a path `name` is used rather than the preset `name`."""
    kind = "run directory" if Path(name).is_dir() else "file"
    return (
        f"using the {kind} ./{name} here, not the shipped preset {name} (pass "
        f"{_root(root) / name} to use the preset)"
    )


def locate(path_or_name, *, root=None, member: str = GENERATOR, note=None) -> Path:
    """The path that a command's argument names.

    An existing path wins: a `str` naming a file or folder that exists is
    that path, and when it is also a shipped preset's name, `note` is called
    with one line saying so (by default a `PresetShadowedWarning`). Else a
    preset's name is its folder. A `Path` is always a path, never a name: a
    caller that has located its argument already passes a `Path` on, so that
    the note is said once.

    Args:
        path_or_name: a run directory, a `.keras` file, or a preset's name.
        root: the folder of presets (default `ROOT`).
        member: the file the caller needs in a preset (`generator.keras`,
            or `discriminator.keras` for `represent`).
        note: called with the note line; default: a warning.

    Returns:
        The path, or the preset's folder. A path that does not exist and
        is no bare word (`runs/x`, `g.keras`) is returned as it is: the
        loader says what is missing.

    Raises:
        PresetError: for a bare word that is neither an existing path nor a
            shipped preset, or a preset without `member`.
    """
    if not isinstance(path_or_name, str):
        return Path(path_or_name)
    text = path_or_name
    if os.path.lexists(text):
        if is_name(text) and text in available(root):
            line = shadow_note(text, root)
            if note is None:
                warnings.warn(line, PresetShadowedWarning, stacklevel=3)
            else:
                note(line)
        return Path(text)
    if not is_name(text):
        return Path(text)
    folder = preset_folder(text, root)
    if folder is None:
        raise PresetError(
            f"No such run directory or .keras file: {text}; nor is it a shipped "
            f"preset's name (shipped: {listing(root)})."
        )
    if not (folder / member).is_file():
        raise PresetError(
            f"The shipped preset {text} has no {member} (it ships "
            f"{', '.join(sorted(p.name for p in folder.glob('*.keras')))}); pass "
            "a run directory or a .keras file."
        )
    return folder


def is_preset_folder(path) -> bool:
    """Whether `path` (resolved) is a shipped preset's folder or inside one:
    a complete preset folder under any root, or anything under `ROOT`."""
    resolved = Path(os.path.realpath(path))
    if resolved == ROOT or ROOT in resolved.parents:
        return True
    return any(is_complete(folder) for folder in [resolved, *resolved.parents])
