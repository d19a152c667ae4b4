"""The explorer as a folder that needs no server (`explore --static DIR`).

The folder holds the live page's own files (index.html, app.js, style.css)
beside local.js, the engine that answers the page's requests in the
browser; the generator exported to ONNX (`dcgan_tf.exporting`, class input
kept); onnxruntime-web's WebAssembly build (`ortweb`); and `api/info`, the
answer the server would give to the page's first request, with
`"static": true` and the principal directions computed here (GANSpace,
`dcgan_tf.explorer.directions`). Any static host, or `python -m
http.server`, serves it.

It is written into a hidden folder beside DIR and renamed into place at the
end: a failure, a full disk or Ctrl-C leaves no half page, and what was at
DIR is kept. DIR is replaced only when empty, or when asked (`overwrite`)
and it holds a page this wrote; never a link.
"""

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from dcgan_tf.explorer import ortweb
from dcgan_tf.explorer.server import STATIC
from dcgan_tf.system import files

TEMPORARY_PREFIX = ".tmp-static-"
PAGE_FILES = ("index.html", "app.js", "style.css", "local.js")
MODEL_FILE = "generator.onnx"
INFO_FILE = "api/info"  # fetched by the page as the server's /api/info
ORT_FOLDER = "static/ort"
MAX_SAMPLES = 256  # the page's largest grid (server.MAX_SAMPLES)


class StaticSite(NamedTuple):
    """What `write_static_site` wrote: the folder and its bytes."""

    path: Path
    size: int


def _holds_a_page(folder: Path) -> bool:
    try:
        return json.loads((folder / INFO_FILE).read_text()).get("static") is True
    except (OSError, ValueError, AttributeError):
        return False


def check_folder(out, overwrite: bool = False) -> Path:
    """Refuses a DIR the page must not be written to.

    Raises:
        ValueError: for a link, a file, a folder that is not empty (unless
            `overwrite` and it holds a page written here).
    """
    out = Path(out)
    if out.is_symlink():
        raise ValueError(
            f"--static {out} is a symbolic link, and the page is never written "
            "through a link; remove it or choose another folder."
        )
    if not out.exists():
        return out
    if not out.is_dir():
        raise ValueError(f"--static {out} is a file; choose a folder.")
    if any(out.iterdir()):
        if not overwrite:
            raise ValueError(
                f"--static {out} is not empty; pass --overwrite to replace the "
                "page there or choose another folder."
            )
        if not _holds_a_page(out):
            raise ValueError(
                f"--static {out} holds no page written by --static (no "
                f"{INFO_FILE}), so --overwrite does not replace it; choose "
                "another folder."
            )
    return out


def page_info(explorer) -> dict:
    """The page's `api/info`: the server's answer, for an engine in the browser."""
    found = explorer.directions()
    info = explorer.info()
    info.update(
        static=True,
        model=MODEL_FILE,
        onnxruntime_web=ortweb.VERSION,
        features=False,  # no projection without the server
        limits={"samples": MAX_SAMPLES},
        directions={
            "directions": found.vectors.tolist(),
            "explained": found.explained.tolist(),
            "layer": found.layer,
        },
    )
    return info


def folder_size(folder) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as handle:  # x: never over a file (or a link)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_static_site(explorer, out, ort_files: dict, overwrite=False) -> StaticSite:
    """Writes the explorer page of a generator as a folder of static files.

    Args:
        explorer: an `Explorer` of the generator.
        out: the folder (checked by `check_folder`).
        ort_files: onnxruntime-web's files, from `ortweb.onnxruntime_web`.
        overwrite: replace a page this wrote at `out`.

    Returns:
        `StaticSite(path, size)`.

    Raises:
        ValueError: from `check_folder`.
        dcgan_tf.exporting.RoundTripError: the ONNX export disagrees with Keras.
        OSError: a write that failed; nothing is left behind.
    """
    from dcgan_tf.exporting import export_generator

    out = check_folder(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX, dir=out.parent))
    try:
        new = scratch / "page"
        new.mkdir()
        export_generator(explorer.generator, "onnx", new / MODEL_FILE)
        _write(new / "index.html", (STATIC / "index.html").read_bytes())
        for name in PAGE_FILES[1:]:
            _write(new / "static" / name, (STATIC / name).read_bytes())
        for name, data in ort_files.items():
            _write(new / ORT_FOLDER / name, data)
        info = json.dumps(page_info(explorer), separators=(",", ":"))
        _write(new / INFO_FILE, info.encode())
        size = folder_size(new)
        files.replace_folder(new, out, scratch)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(scratch)
    return StaticSite(out, size)
