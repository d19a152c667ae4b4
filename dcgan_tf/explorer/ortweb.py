"""onnxruntime-web's files for the static page: one pinned version, checked.

The page runs the generator with onnxruntime-web's WebAssembly-only build:
`ort.wasm.min.js` (the API, a classic script that defines `ort`), the
Emscripten module it imports and the `.wasm` binary; nothing else of the
package. They come from, in order: a `--onnxruntime-web` path (the `.tgz`
of `npm pack onnxruntime-web@VERSION` or the package's folder), the cache
(`$XDG_CACHE_HOME/dcgan_tf/`, else `~/.cache/dcgan_tf/`), or the npm
registry, whose tarball is checked against its sha512 integrity before its
files are kept in the cache. Every file is checked against its sha256 here,
wherever it came from.
"""

import base64
import contextlib
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

VERSION = "1.31.1"
TARBALL_URL = (
    f"https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-{VERSION}.tgz"
)
# `dist.integrity` of https://registry.npmjs.org/onnxruntime-web/1.31.1
INTEGRITY = (
    "sha512-5GeH+bWQ+HxM10z7erGlsWqryrwMbSvm/1tkIsKTT48g0fI19VXVVC435t4t7VsPd"
    "SQeS7NmuZPXrQ73k82URw=="
)
# The files of `dist/` the page loads, and their sha256 in that tarball.
FILES = {
    "ort.wasm.min.js": (
        "b8a78c408c40da65fdc8ba0846f7b2948e92a4c6d6b23cc8e4165e428ad95443"
    ),
    "ort-wasm-simd-threaded.mjs": (
        "30ed0b5cd1182ede931fea448afb567d4dc705ec957af09f108a2be5f770dac3"
    ),
    "ort-wasm-simd-threaded.wasm": (
        "4b884c203b0fa48d057be3332c65513ff85aa3c5bddd6946acc0fab7ecda001d"
    ),
}
DOWNLOAD_TIMEOUT_S = 60


class OrtWebError(ValueError):
    """onnxruntime-web's files could not be had; the message says where to
    put them."""


def cache_folder() -> Path:
    """Where the checked files are kept: `dcgan_tf/onnxruntime-web-VERSION`
    under `$XDG_CACHE_HOME` (default `~/.cache`)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "dcgan_tf" / f"onnxruntime-web-{VERSION}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _check(files: dict, source: str) -> dict:
    """`files` when each is the pinned one, else OrtWebError naming `source`."""
    for name, digest in FILES.items():
        if name not in files:
            raise OrtWebError(f"{source} has no dist/{name}")
        if _sha256(files[name]) != digest:
            raise OrtWebError(
                f"dist/{name} of {source} is not onnxruntime-web {VERSION}'s"
            )
    return files


def _from_tarball(data: bytes, source: str) -> dict:
    if _integrity(data) != INTEGRITY:
        raise OrtWebError(
            f"{source} is not the tarball of onnxruntime-web {VERSION} (its "
            "sha512 differs)"
        )
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for name in FILES:
            with contextlib.suppress(KeyError):
                files[name] = archive.extractfile(f"package/dist/{name}").read()
    return _check(files, source)


def _from_folder(folder: Path, source: str) -> dict:
    dist = folder / "dist" if (folder / "dist").is_dir() else folder
    files = {n: (dist / n).read_bytes() for n in FILES if (dist / n).is_file()}
    return _check(files, source)


def from_path(path) -> dict:
    """The files from a `.tgz` of the package or its (extracted) folder."""
    path = Path(path)
    try:
        if path.is_dir():
            return _from_folder(path, str(path))
        return _from_tarball(path.read_bytes(), str(path))
    except (OSError, tarfile.TarError) as error:
        raise OrtWebError(f"cannot read {path}: {error}") from None


def _save_cache(files: dict) -> None:
    folder = cache_folder()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OrtWebError, OSError):
        _from_folder(folder, str(folder))
        return  # another process cached the same checked files meanwhile
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-ortweb-", dir=folder.parent))
    try:
        for name, data in files.items():
            (scratch / name).write_bytes(data)
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.exists():
            shutil.rmtree(folder)
        os.replace(scratch, folder)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(scratch)


def _download() -> bytes:
    request = urllib.request.Request(TARBALL_URL, headers={"User-Agent": "dcgan_tf"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        return response.read()


def onnxruntime_web(path=None, download=True) -> dict:
    """onnxruntime-web's dist files the page needs, `{name: bytes}`.

    Args:
        path: a `.tgz` of the package or its folder (`--onnxruntime-web`);
            when given, only it is tried.
        download: fetch the tarball from the npm registry when the cache
            does not hold the files (it is then cached).

    Raises:
        OrtWebError: saying what failed and where to put the files.
    """
    where = (
        f"download {TARBALL_URL} (or `npm pack onnxruntime-web@{VERSION}`) "
        "and pass it as --onnxruntime-web PATH"
    )
    if path is not None:
        try:
            return from_path(path)
        except OrtWebError as error:
            raise OrtWebError(f"{error}; {where}.") from None
    cached = cache_folder()
    if cached.is_dir():
        # OSError: another process (a test worker) replacing the cache now.
        with contextlib.suppress(OrtWebError, OSError):
            return _from_folder(cached, str(cached))
    if not download:
        raise OrtWebError(f"onnxruntime-web is not in {cached}; {where}.")
    try:
        files = _from_tarball(_download(), TARBALL_URL)
    except (OSError, OrtWebError, tarfile.TarError) as error:
        raise OrtWebError(
            f"could not get onnxruntime-web {VERSION} ({error}); {where}."
        ) from None
    with contextlib.suppress(OSError):
        _save_cache(files)  # the page is written even where the cache is not
    return files
