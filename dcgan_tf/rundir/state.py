"""`state.json`, the run's bookkeeping file: which checkpoint is the newest
(`dcgan_tf.rundir.checkpoints` writes and checks that part) and which
epoch's generator `generator.keras` holds (`generator_epoch`,
`record_generator`), so that a generator a kill left an epoch old is known
(`generator_behind`, behind `RunDir.generator_behind`).

The names that lived in `dcgan_tf.rundir.checkpoints` are importable from
there too.
"""

import json
import zipfile
from pathlib import Path

from dcgan_tf.system.files import write_json

STATE = "state.json"
# The key of `state.json` recording which epoch `generator.keras` holds.
GENERATOR_EPOCH = "generator_epoch"


def _read_state(folder: Path) -> dict:
    """`state.json` as a dict; {} when missing or unreadable."""
    path = folder / STATE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return state if isinstance(state, dict) and not path.is_symlink() else {}


def generator_epoch(folder: Path) -> int | None:
    """The epoch whose generator `generator.keras` holds, as `state.json`
    records it once that file is written; None when not recorded (a run of
    an older version, or no generator saved yet)."""
    value = _read_state(folder).get(GENERATOR_EPOCH)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def recorded_epoch(folder: Path) -> int | None:
    """The epoch `state.json` says is complete, None when it says none."""
    value = _read_state(folder).get("epoch")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def record_generator(folder: Path, epoch: int) -> None:
    """Records in `state.json` that `generator.keras` now holds the
    generator of `epoch`: written after it, so that a kill while it is
    written leaves the old record, and the stale file is known."""
    state = _read_state(folder)
    if state:
        write_json(folder / STATE, {**state, GENERATOR_EPOCH: epoch})


def generator_behind(
    folder: Path, generator_path: Path, done: int | None = None
) -> str | None:
    """Why `generator_path` (the run's `generator.keras`) is not the generator
    of the run's last completed epoch (missing, damaged, or older: a kill
    while it was written), or None when it is, or when the run does not say
    (a run of an older version, which did not record it).

    Args:
        folder: the run directory.
        generator_path: its `generator.keras`.
        done: the epochs completed; by default, what `state.json` says.
    """
    done = recorded_epoch(folder) if done is None else done
    if not done:
        return None
    path = generator_path
    if not path.is_file() or path.is_symlink():
        return f"{path} is missing"
    if not _is_whole_zip(path):
        return f"{path} is damaged"
    written = generator_epoch(folder)
    if written is not None and written < done:
        return (
            f"{path} holds the generator of epoch {written}, not of the "
            f"run's last completed epoch {done} (its write was cut short)"
        )
    return None


def _is_whole_zip(path: Path) -> bool:
    """Whether a `.keras` file is a zip archive whose every member reads
    back with its CRC (not cut short, not other bytes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
