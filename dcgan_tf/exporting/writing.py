"""Where an export may go, and the export written there only once checked.

The exported file (or SavedModel folder) is written into a fresh hidden
folder beside `--out`, run by its own runtime (`round_trip`), and only then
renamed into place: a failed conversion, a round trip that disagrees, a
kill or Ctrl-C leaves no partial export at `--out`, and nothing that was
there is lost. An existing `--out` is replaced only when asked
(`overwrite`), and only by what it is (a file by a file, a SavedModel by a
SavedModel): never a link, never another folder.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from dcgan_tf.exporting.formats import FORMATS, export_model
from dcgan_tf.exporting.round_trip import RoundTripError, round_trip
from dcgan_tf.system import files

TEMPORARY_PREFIX = ".tmp-export-"
# What makes a folder a SavedModel (tf.saved_model's own file).
SAVED_MODEL_FILE = "saved_model.pb"


class Exported(NamedTuple):
    """What an export wrote: where, how many bytes, and how far its runtime's
    images were from Keras' (the largest absolute difference)."""

    path: Path
    size: int
    difference: float


def check_out(out, format_name: str, overwrite: bool = False) -> Path:
    """Refuses an `--out` the export must not write.

    Args:
        out: where the export goes.
        format_name: a key of `FORMATS`.
        overwrite: whether an existing export there may be replaced.

    Returns:
        `out` as a Path.

    Raises:
        ValueError: for a link, a wrong suffix, an existing `out` without
            `overwrite`, or one that is not an export of this format.
    """
    out = Path(out)
    export_format = FORMATS[format_name]
    if out.is_symlink():
        raise ValueError(
            f"--out {out} is a symbolic link, and the export never writes "
            "through a link; remove it or choose another --out."
        )
    suffix = export_format.suffix
    if suffix and out.suffix.lower() != suffix:
        raise ValueError(
            f"--out of the {format_name} export must end in {suffix}, got {out}."
        )
    if not out.exists():
        return out
    folder = not suffix
    if not overwrite:
        raise ValueError(
            f"--out {out} already exists; pass --overwrite to replace it or "
            "choose another --out."
        )
    if folder and not (out.is_dir() and (out / SAVED_MODEL_FILE).is_file()):
        raise ValueError(
            f"--out {out} is not a SavedModel folder (no {SAVED_MODEL_FILE}), so "
            "--overwrite does not replace it; choose another --out."
        )
    if not folder and not out.is_file():
        raise ValueError(
            f"--out {out} is not a file, so --overwrite does not replace it; "
            "choose another --out."
        )
    return out


def artifact_size(path) -> int:
    """The bytes of a file, or of every file in a folder."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _sync(path: Path) -> None:
    written = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in written:
        with open(file, "rb+") as handle:
            os.fsync(handle.fileno())


def export_generator(generator, format_name: str, out, overwrite=False) -> Exported:
    """Exports a generator, checks it with its own runtime, then puts it at `out`.

    Args:
        generator: a loaded `dcgan_tf.sampling.Generator`.
        format_name: a key of `FORMATS` whose backend and dependencies
            were checked (`check_supported`, `check_dependencies`).
        out: where the export goes, checked by `check_out`.
        overwrite: replace an export already at `out`.

    Returns:
        `Exported(path, size, difference)`.

    Raises:
        RoundTripError: the export disagrees with Keras; nothing is written.
        ValueError: from `check_out`.
        OSError: a write that failed (full disk); nothing is left behind.
    """
    out = check_out(out, format_name, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX, dir=out.parent))
    try:
        new = scratch / out.name
        export_model(generator.model, new, FORMATS[format_name])
        beside = sorted(p.name for p in scratch.iterdir() if p.name != new.name)
        if beside:
            # What the round trip reads must be all that --out receives.
            raise RoundTripError(
                f"The {format_name} converter wrote {', '.join(beside)} beside "
                f"{out.name}, which the export would lose, so nothing was written."
            )
        difference = round_trip(generator, format_name, new)
        size = artifact_size(new)
        _sync(new)
        files.replace_folder(new, out, scratch)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(scratch)
    return Exported(out, size, difference)
