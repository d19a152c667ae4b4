"""Folders of images (BIKED, any photos, CIFAR-10 as JPEGs) as uint8 arrays.

Every readable file becomes one square RGB image, cropped at the centre or
padded with its border colour; unreadable files are skipped with a warning.
Decoding runs in threads and its result is cached on disk (`DCGAN_TF_CACHE`,
by default `~/.cache/dcgan_tf`), keyed by every file's size and time, so the
second run of a large folder starts at once; folders too large for memory
come back memory-mapped from that cache.
"""

import hashlib
import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from dcgan_tf.errors import DataError, DataWarning

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
# Lanczos keeps fine lines (spokes, frames) sharp when shrinking renders.
RESAMPLE = Image.Resampling.LANCZOS
CACHE_VERSION = 1
# Decoded folders larger than this share of free memory are memory-mapped.
MMAP_FRACTION = 0.25


def walk_images(folder: Path):
    """Yields the image files under `folder`, recursively; hidden ones (such as
    macOS' `._name.jpg` companions) are left out."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in names:
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                yield Path(root, name)


def list_images(folder: Path) -> list[Path]:
    """The image files under `folder` in sorted order, the order of the array."""
    return sorted(walk_images(folder))


def _to_rgb(image: Image.Image) -> Image.Image:
    """Converts any Pillow mode to RGB; transparency becomes white."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit grey: Pillow's own convert would clip at 255 (all white).
        values = np.asarray(image, dtype=np.float32) / 257.0
        image = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
    if image.mode in ("P", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    return image.convert("RGB")


def _fit_square(image: Image.Image, size: int, fit: str) -> Image.Image:
    """Resizes keeping the aspect, then crops the centre or pads the sides."""
    width, height = image.size
    if fit == "crop":
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
        return image.resize((size, size), RESAMPLE, box=box, reducing_gap=3.0)
    scale = size / max(width, height)
    inner = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(inner, RESAMPLE, reducing_gap=3.0)
    # Pad with the border's own colour (white for BIKED's renders), so the
    # padding does not draw a frame the generator would learn.
    pixels = np.asarray(resized)
    edges = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    colour = tuple(int(value) for value in np.median(edges, axis=0))
    canvas = Image.new("RGB", (size, size), colour)
    canvas.paste(resized, ((size - inner[0]) // 2, (size - inner[1]) // 2))
    return canvas


def _decode(path: Path, size: int, fit: str):
    """One file as a uint8 (size, size, 3) array, or None if it is unreadable."""
    try:
        with Image.open(path) as image:
            # JPEGs decode at 1/2, 1/4 or 1/8 scale when that still covers size.
            image.draft(image.mode, (size, size))
            image = _to_rgb(ImageOps.exif_transpose(image))
        return np.asarray(_fit_square(image, size, fit))
    except Exception:  # truncated, not an image, decompression bomb, ...
        return None


def _cache_dir():
    value = os.environ.get("DCGAN_TF_CACHE")
    if value is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        return Path(base).expanduser() / "dcgan_tf"
    if value.strip().lower() in ("", "0", "off", "false", "no", "none"):
        return None
    return Path(value).expanduser()


def _cache_stem(folder: Path, files, size, fit) -> str:
    """Names the decoded array after everything that changes it."""
    digest = hashlib.sha256(f"v{CACHE_VERSION} {size} {fit}\n".encode())
    for path in files:
        stat = path.stat()
        relative = path.relative_to(folder).as_posix()
        digest.update(f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    slug = "".join(c if c.isalnum() else "_" for c in folder.resolve().name)[:40]
    return f"{slug}-{size}-{fit}-{digest.hexdigest()[:20]}"


def _available_memory() -> int:
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


def _warn_skipped(folder, skipped, total):
    if skipped:
        names = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        warnings.warn(
            f"Skipped {len(skipped)} unreadable image file(s) of {total} in "
            f"{folder}: {names}",
            DataWarning,
            stacklevel=4,
        )


def load_folder(folder: Path, size: int, fit: str, limit, advice) -> np.ndarray:
    """Decodes a folder of images in parallel, through a cache on disk.

    Args:
        folder: searched recursively, in `list_images` order.
        size: side of the square images.
        fit: `"crop"` the centre, or `"pad"` with the border colour.
        limit: decode at most this many files (the first ones), or None.
        advice: what to do about a folder with no images, for the message.

    Returns:
        uint8 images `(n, size, size, 3)`, memory-mapped from the cache when
        they would take more than `MMAP_FRACTION` of the free memory.

    Raises:
        DataError: when the folder holds no image file or none is readable.

    Warns:
        DataWarning: naming unreadable files that were skipped, or when the
            cache cannot be written.
    """
    files = list_images(folder)[:limit]
    if not files:
        raise DataError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) under {folder}; {advice}"
        )
    shape = (len(files), size, size, 3)
    mmap = np.prod(shape, dtype=np.int64) > MMAP_FRACTION * _available_memory()
    cache = _cache_dir()
    stem = _cache_stem(folder, files, size, fit) if cache else None
    if cache:
        cached = _read_cache(cache / stem, folder, shape, mmap)
        if cached is not None:
            return cached
    temporary = None
    try:
        if cache and mmap:
            cache.mkdir(parents=True, exist_ok=True)
            temporary = cache / f"{stem}.{os.getpid()}.tmp.npy"
            out = np.lib.format.open_memmap(temporary, "w+", np.uint8, shape)
        else:
            out = np.empty(shape, np.uint8)
    except OSError:
        temporary, out = None, np.empty(shape, np.uint8)

    count, skipped = 0, []
    workers = min(16, 2 * (os.cpu_count() or 1))  # Pillow releases the GIL
    with ThreadPoolExecutor(workers) as pool:
        decoded = pool.map(_decode, files, [size] * len(files), [fit] * len(files))
        for path, image in zip(files, decoded, strict=True):
            if image is None:
                skipped.append(path.relative_to(folder).as_posix())
            else:
                out[count] = image
                count += 1
    if count == 0:
        if temporary is not None:
            del out
            temporary.unlink(missing_ok=True)
        raise DataError(
            f"None of the {len(files)} image files under {folder} is readable."
        )
    _warn_skipped(folder, skipped, len(files))
    if cache:
        return _write_cache(cache / stem, out, temporary, folder, count, skipped)
    return out[:count]


def _read_cache(stem: Path, folder, shape, mmap):
    try:
        meta = json.loads(stem.with_suffix(".json").read_text())
        array = np.load(stem.with_suffix(".npy"), mmap_mode="r" if mmap else None)
        if array.shape != shape or array.dtype != np.uint8:
            return None
        count, skipped = meta["count"], meta["skipped"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _warn_skipped(folder, skipped, shape[0])
    return array[:count]


def _write_cache(stem: Path, out, temporary, folder, count, skipped):
    """Keeps the decoded array (rows past `count` unused) for the next run."""
    npy = stem.with_suffix(".npy")
    meta = {"folder": str(folder), "count": count, "skipped": skipped}
    try:
        if temporary is not None:
            out.flush()
            os.replace(temporary, npy)  # the open memory map follows the file
        else:
            stem.parent.mkdir(parents=True, exist_ok=True)
            partial = stem.parent / f"{stem.name}.{os.getpid()}.tmp.npy"
            np.save(partial, out)
            os.replace(partial, npy)
        # Written last: a .npy without its .json is never read.
        stem.with_suffix(".json").write_text(json.dumps(meta))
    except OSError as error:
        warnings.warn(f"Could not cache images in {npy}: {error}", DataWarning, 2)
    return out[:count]
