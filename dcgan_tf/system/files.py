"""Writing files so that no fault leaves half of one.

Every file the project writes for a user (a run's files, latents, grids,
metric records) goes through `write_atomically`: a hidden temporary file
beside the target, flushed to disk, then renamed over it. A kill at any
moment leaves the old file or the new one; a full disk or a read-only folder
is a `WriteError` whose one-line message names the file. `Lock` keeps two
processes from writing the same files at once.
"""

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np

TEMPORARY_PREFIX = ".tmp-"
# Room asked for beyond a file's estimated size: HDF5 and zip headers.
HEADROOM_BYTES = 1 << 20


class LinkError(Exception):
    """A file the project makes is a symbolic link, which it never follows."""


class LockError(Exception):
    """Something other than a lock file this process can take is where a
    lock goes (a folder, a file it cannot open): it is taken as held."""


class WriteError(Exception):
    """A file cannot be written (full disk, read-only folder); the message
    names it and says what to do."""


def io_advice(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk is full; free some space and try again"
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is not writable; make it writable or use another"
    return error.strerror or type(error).__name__


def write_atomically(path, write) -> Path:
    """Writes a file through `write(temporary_path)`, then renames it into place.

    The temporary file sits beside `path` under a hidden name that keeps the
    suffix (Keras checks `.keras` and `.weights.h5`); it is flushed to disk
    before the rename, so `path` is always either the old file or the new one.

    Raises:
        WriteError: when the write fails (full disk, read-only folder), with
            the path and what to do; the temporary file is removed.
    """
    path = Path(path)
    temporary = path.with_name(TEMPORARY_PREFIX + path.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A file or link already under the temporary name (a kill's leftover,
        # or planted) is removed, never written through.
        temporary.unlink(missing_ok=True)
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):  # a read-only folder refuses this too
            temporary.unlink(missing_ok=True)
        raise WriteError(f"Cannot write {path}: {io_advice(error)}.") from None
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
    return path


def write_text(path, text: str) -> Path:
    return write_atomically(path, lambda tmp: Path(tmp).write_text(text))


def write_json(path, value) -> Path:
    return write_text(path, json.dumps(value, indent=2) + "\n")


def sha256(path) -> str:
    """The SHA-256 of a file's bytes, in hex: what tells a damaged checkpoint
    (flipped bytes inside a file that still opens) from a good one."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def variables_bytes(variables) -> int:
    """What the values of Keras variables take in a saved file, headers aside."""
    return sum(
        int(np.prod(v.shape, dtype=np.int64)) * np.dtype(v.dtype).itemsize
        for v in variables
    )


def check_room(path, needed_bytes: int) -> None:
    """Refuses a write that cannot fit, before HDF5 starts it.

    HDF5 handles a full disk badly (tracebacks from deep in h5py, and a crash
    at exit has been seen), so model files are only written with room for them.

    Raises:
        WriteError: when the folder of `path` has less free space than needed.
    """
    folder = Path(path).parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # the write itself will say what is wrong
    if free < needed_bytes + HEADROOM_BYTES:
        raise WriteError(
            f"Cannot write {path}: the disk is full ({free / 2**20:.1f} MiB free, "
            f"{(needed_bytes + HEADROOM_BYTES) / 2**20:.1f} MiB needed); free some "
            "space and try again."
        )


def save_model(model, path) -> Path:
    """Saves a whole Keras model as a `.keras` file, atomically."""
    check_room(path, variables_bytes(model.variables))
    return write_atomically(path, model.save)


class Lock:
    """An exclusive advisory lock on a file (POSIX `flock`), held until
    `release` or until the process ends: the system drops it after a crash
    or kill -9 too, so a stale lock never blocks anyone.

    Where locks are not to be had (no `fcntl`, a read-only folder with no
    lock file in it), `acquire` succeeds without one: the lock guards against
    a second writer, and a folder nobody can write to has none. But anything
    already at the lock's path that is not a lock file it can take (a
    folder, a file it may not open) is never passed over: `LockError`.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.file = None

    def acquire(self) -> int | None:
        """Takes the lock; returns None, or the holder's process id (0 when
        unknown) when another process holds it."""
        try:
            import fcntl
        except ImportError:  # Windows
            return None
        try:
            # Never through a link: the lock file is the run's own.
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            file = os.fdopen(os.open(self.path, flags, 0o644), "r+")
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise LinkError(
                    f"{self.path} is a symbolic link; remove it (the run makes its "
                    "own lock file) and try again."
                ) from None
            if os.path.lexists(self.path):
                kind = "a folder" if self.path.is_dir() else "a file it cannot open"
                raise LockError(
                    f"{self.path} is {kind}, not a lock file this process can "
                    "take, so the run may be in use; if no other process is "
                    "training it, remove it and try again."
                ) from None
            return None
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            file.close()
            raise LockError(
                f"{self.path} is not a regular file, so it cannot lock the run; "
                "if no other process is training it, remove it and try again."
            )
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.seek(0)
            holder = file.read().strip()
            file.close()
            return int(holder) if holder.isdigit() else 0
        file.truncate(0)
        file.write(str(os.getpid()))
        file.flush()
        self.file = file
        return None

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing drops the lock
            self.file = None


def replace_folder(new: Path, out: Path, scratch: Path) -> None:
    """Renames `new` (a file or folder) to `out`. A folder at `out` that a
    folder replaces is moved into `scratch` first (a folder cannot be renamed
    over a full one), and back where it was if the rename fails."""
    if not (new.is_dir() and out.is_dir()):
        os.replace(new, out)
        return
    old = scratch / "replaced"
    os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        os.replace(old, out)
        raise
