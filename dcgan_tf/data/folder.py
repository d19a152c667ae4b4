"""Folders of images (BIKED, any photos, CIFAR-10 as JPEGs) as uint8 arrays.

Every readable file becomes one square RGB image, cropped at the centre or
padded with its border colour; class labels come from one sub-folder per class.
Unreadable files, images over `decode.MAX_PIXELS` and links that loop or lead
nowhere are skipped with a warning. Files are decoded in threads by
`dcgan_tf.data.decode`, through the cache on disk of `dcgan_tf.data.cache`.
"""

import errno
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from pathlib import Path

import numpy as np
from PIL import Image

from dcgan_tf.data import cache, decode
from dcgan_tf.data.errors import DataError, warn

FOLDERS = ("biked", "folder")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
REPO_ROOT = Path(__file__).resolve().parents[2]
BIKED_ADVICE = (
    "download BIKED (MIT DeCoDE lab, Regenwetter et al. 2021: "
    "decode.mit.edu/projects/biked) and put its images in data/biked/, or pass "
    "--data-dir; see data/README.md."
)


def project_data_dirs() -> list[Path]:
    """The project's `data/` folders: in the current directory, then the checkout's."""
    return [Path.cwd() / "data", REPO_ROOT / "data"]


def image_folder(dataset, data_dir) -> Path:
    """Finds the folder of images of `biked` or `folder`.

    Args:
        dataset: `"biked"` or `"folder"`.
        data_dir: the folder itself; `biked` looks in the project's
            `data/biked/` without one.

    Returns:
        The folder (not yet checked for images).

    Raises:
        DataError: when there is no such folder, saying where to get it.
    """
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            advice = BIKED_ADVICE if dataset == "biked" else "pass a folder of images."
            what = "is a file, not a folder" if folder.exists() else "does not exist"
            raise DataError(f"Image folder {folder} {what}; {advice}")
        return folder
    if dataset == "folder":
        raise DataError(
            "The 'folder' data set needs --data-dir: a folder of images "
            f"({', '.join(IMAGE_EXTENSIONS)}), searched recursively."
        )
    for root in project_data_dirs():
        if (root / "biked").is_dir():
            return root / "biked"
    raise DataError(f"No BIKED folder found: {BIKED_ADVICE}")


# --- Listing -----------------------------------------------------------------


def walk_images(folder, problems=None):
    """Yields the image files under `folder`, recursively, following links.

    Hidden names (such as macOS' `._name.jpg` companions) are left out. Links
    that loop or lead nowhere, unreadable sub-folders and image names that are
    no regular file (reading a pipe would block) are not yielded; each is
    appended to the list `problems`, if given, as `"name (why)"`.
    """
    root = Path(folder)
    try:  # a link to a folder above the root loops too
        above = tuple(_identity(parent) for parent in root.resolve().parents)
    except OSError:
        above = ()
    stack = [(root, above)]
    while stack:
        current, ancestors = stack.pop()
        try:
            here = _identity(current)
            if here in ancestors:  # a link to a folder it is in
                _note(problems, root, current, "symbolic link loop")
                continue
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError as error:
            _note(problems, root, current, error.strerror or str(error))
            continue
        ancestors += (here,)
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                # Free from the directory listing, except for links, which are
                # followed: a loop raises ELOOP, a dangling link ENOENT.
                is_dir, is_file = entry.is_dir(), entry.is_file()
                if entry.is_symlink() and not (is_dir or is_file):
                    entry.stat()
            except OSError as error:
                why = {errno.ELOOP: "symbolic link loop", errno.ENOENT: "dangling link"}
                _note(problems, root, path, why.get(error.errno, error.strerror))
                continue
            if is_dir:
                folders.append(path)
            elif entry.name.lower().endswith(IMAGE_EXTENSIONS):
                if is_file:
                    yield path
                else:
                    _note(problems, root, path, "not a regular file")
        stack += [(path, ancestors) for path in reversed(folders)]


def _identity(path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _note(problems, root: Path, path, why) -> None:
    if problems is not None:
        problems.append(f"{_relative(Path(path), root)} ({why})")


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def list_images(folder, problems=None) -> list[Path]:
    """The image files under `folder` in sorted order, the order of the array;
    see `walk_images` for what is left out and noted in `problems`."""
    return sorted(walk_images(folder, problems))


def _warn_skipped(what: str, names) -> None:
    if names:
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        warn(f"Skipped {len(names)} {what}: {shown}")


# --- Loading -----------------------------------------------------------------


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
        they would take more than `cache.MMAP_FRACTION` of the free memory.

    Raises:
        DataError: when the folder holds no image file or none is readable.

    Warns:
        DataWarning: naming the files skipped (unreadable, larger than
            `decode.MAX_PIXELS`, broken links), or when the cache cannot be
            written.
    """
    files = _list_images_warning(folder)[:limit]
    return _decode_files(folder, files, size, fit, advice)[0]


def load_class_folders(folder: Path, size: int, fit: str, limit, advice):
    """Decodes a folder holding one sub-folder of images per class, with labels.

    Args:
        folder: holds `<class>/` sub-folders, each searched recursively.
        size, fit, limit, advice: as for `load_folder`.

    Returns:
        `(images, labels, class_names)`: uint8 `(n, size, size, 3)`, int64
        `(n,)` indices into `class_names`, the sorted names of the sub-folders
        that hold image files.

    Raises:
        DataError: when the folder holds no image file, no class sub-folder,
            or no readable image.

    Warns:
        DataWarning: as `load_folder`, and for images outside the sub-folders.
    """
    files = _list_images_warning(folder)
    loose = [_relative(path, folder) for path in files if path.parent == folder]
    files = [path for path in files if path.parent != folder]
    if loose and not files:
        raise DataError(
            f"{folder} has no class sub-folders: put each class's images in "
            f"{folder}/<class>/ to get labels."
        )
    _warn_skipped(f"image file(s) outside the class sub-folders of {folder}", loose)
    classes = [path.relative_to(folder).parts[0] for path in files]
    names = tuple(sorted(set(classes)))
    images, kept = _decode_files(folder, files[:limit], size, fit, advice)
    label = {name: index for index, name in enumerate(names)}
    return images, np.asarray([label[classes[i]] for i in kept], np.int64), names


def _list_images_warning(folder: Path) -> list[Path]:
    problems = []
    files = list_images(folder, problems)
    _warn_skipped(f"link(s) or special file(s) in {folder}", problems)
    return files


def _decode_files(folder: Path, files, size, fit, advice):
    """Decodes `files` through the cache; returns the images and the indices in
    `files` of those that were decoded."""
    if not files:
        raise DataError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) under {folder}; {advice}"
        )
    shape = (len(files), size, size, 3)
    mmap = cache.needs_mmap(shape)
    directory = cache.directory()
    stem = directory / cache.stem(folder, files, size, fit) if directory else None
    cached = cache.read(stem, shape, mmap) if stem else None
    if cached is not None:
        images, skipped = cached
    else:
        out, temporary = cache.allocate(shape, stem if mmap else None)
        count, skipped = _decode_all(folder, files, size, fit, out)
        if count == 0:
            if temporary is not None:
                del out
                temporary.unlink(missing_ok=True)
            large = len(skipped["too_large"])
            raise DataError(
                f"None of the {len(files)} image files under {folder} is readable"
                + (f" ({large} over {decode.MAX_PIXELS:,} pixels)." if large else ".")
            )
        images = out[:count]
        if stem:
            images = cache.write(stem, out, temporary, folder, count, skipped)
    total = f"of {len(files)} in {folder}"
    _warn_skipped(f"unreadable image file(s) {total}", skipped["unreadable"])
    _warn_skipped(
        f"image file(s) {total} over {decode.MAX_PIXELS:,} pixels; shrink them",
        [f"{name} ({width_height})" for name, width_height in skipped["too_large"]],
    )
    dropped = set(skipped["unreadable"]) | {name for name, _ in skipped["too_large"]}
    kept = [i for i, path in enumerate(files) if _relative(path, folder) not in dropped]
    return images, kept


def _decode_all(folder: Path, files, size, fit, out):
    """Decodes `files` in threads into the first rows of `out`; returns how many
    and the names skipped, `{"unreadable": [...], "too_large": [[name, WxH]]}`."""
    count, skipped = 0, {"unreadable": [], "too_large": []}
    budget = decode.PixelBudget(decode.MAX_PIXELS)
    workers = min(16, 2 * (os.cpu_count() or 1))  # Pillow releases the GIL
    # MAX_PIXELS replaces Pillow's own warning; filters are shared by threads.
    with warnings.catch_warnings(), ThreadPoolExecutor(workers) as pool:
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        args = repeat(size), repeat(fit), repeat(budget)
        for path, result in zip(files, pool.map(decode.decode_file, files, *args)):
            if isinstance(result, np.ndarray):
                out[count] = result
                count += 1
            elif result == decode.UNREADABLE:
                skipped["unreadable"].append(_relative(path, folder))
            else:
                skipped["too_large"].append([_relative(path, folder), result])
    return count, skipped
