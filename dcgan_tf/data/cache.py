"""The cache of decoded image folders on disk, so a folder's second run starts at once.

One `.npy` array per folder, image size and fit, named after every file's
name, size and time, in `DCGAN_TF_CACHE` (by default `~/.cache/dcgan_tf`,
`off` turns it off); a `.json` beside it, written last, says how many rows are
images and which files were skipped. Arrays too large for memory are decoded
straight into a memory map there.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from dcgan_tf.data.errors import warn

VERSION = 2  # 2: images over folder.MAX_PIXELS are skipped
# Decoded folders larger than this share of free memory are memory-mapped.
MMAP_FRACTION = 0.25


def directory():
    """`DCGAN_TF_CACHE`, `~/.cache/dcgan_tf` without it, None when it is `off`."""
    value = os.environ.get("DCGAN_TF_CACHE")
    if value is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        return Path(base).expanduser() / "dcgan_tf"
    if value.strip().lower() in ("", "0", "off", "false", "no", "none"):
        return None
    return Path(value).expanduser()


def stem(folder: Path, files, size, fit) -> str:
    """Names the decoded array after everything that changes it."""
    digest = hashlib.sha256(f"v{VERSION} {size} {fit}\n".encode())
    for path in files:
        try:
            stat = path.stat()
            state = f"{stat.st_size}\t{stat.st_mtime_ns}"
        except OSError:  # gone since it was listed: decoding will skip it
            state = "missing"
        relative = path.relative_to(folder).as_posix()
        digest.update(f"{relative}\t{state}\n".encode())
    slug = "".join(c if c.isalnum() else "_" for c in folder.resolve().name)[:40]
    return f"{slug}-{size}-{fit}-{digest.hexdigest()[:20]}"


def needs_mmap(shape) -> bool:
    """Whether uint8 images of `shape` would take too much of the free memory."""
    return np.prod(shape, dtype=np.int64) > MMAP_FRACTION * available_memory()


def available_memory() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def allocate(shape, path):
    """`(array, temporary)` for decoded images: in memory, or with `path` (a
    stem in the cache) a memory map in a temporary file, renamed when complete."""
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.parent / f"{path.name}.{os.getpid()}.tmp.npy"
            return np.lib.format.open_memmap(
                temporary, "w+", np.uint8, shape
            ), temporary
        except OSError:
            pass
    return np.empty(shape, np.uint8), None


def read(path: Path, shape, mmap):
    """`(images, skipped)` from the cache, or None when it has no valid copy."""
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        array = np.load(path.with_suffix(".npy"), mmap_mode="r" if mmap else None)
        if array.shape != shape or array.dtype != np.uint8:
            return None
        skipped = {"unreadable": meta["unreadable"], "too_large": meta["too_large"]}
        return array[: meta["count"]], skipped
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(path: Path, out, temporary, folder, count, skipped):
    """Keeps the decoded array (rows past `count` unused) for the next run and
    returns its images; only warns when the cache cannot be written."""
    npy = path.with_suffix(".npy")
    meta = {"folder": str(folder), "count": count, **skipped}
    try:
        if temporary is not None:
            out.flush()
            os.replace(temporary, npy)  # the open memory map follows the file
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.parent / f"{path.name}.{os.getpid()}.tmp.npy"
            np.save(partial, out)
            os.replace(partial, npy)
        # Written last: a .npy without its .json is never read.
        path.with_suffix(".json").write_text(json.dumps(meta))
    except OSError as error:
        warn(f"Could not cache images in {npy}: {error}")
    return out[:count]
