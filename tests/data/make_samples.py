"""Cuts the small real samples under tests/data/ from the full data sets.

Run once from the project root, with the real data in ../shared/data/:
    python tests/data/make_samples.py
The tests only read what this wrote; they never need the full data sets.
"""

import gzip
import io
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data"
HERE = Path(__file__).resolve().parent


def write_idx(path: Path, array: np.ndarray) -> None:
    """Writes uint8 data in LeCun's IDX format, gzipped like the published files."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + array.tobytes())


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist(train: int = 256, test: int = 64) -> None:
    out = HERE / "fashion-mnist"
    out.mkdir(exist_ok=True)
    for stem, count in (("train", train), ("t10k", test)):
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{stem}-{kind}-ubyte.gz"
            write_idx(out / name, read_idx(SOURCE / "fashion-mnist" / name)[:count])


def cifar10(train: int = 10, test: int = 3) -> None:
    """The first JPEGs of each class, byte for byte."""
    wanted = {"train": train, "test": test}
    taken = {}
    with tarfile.open(SOURCE / "cifar10-jpg.tar.gz") as archive:
        members = sorted(
            (m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name
        )
        for member in members:
            split, label, name = member.name.split("/")[-3:]
            key = (split, label)
            if taken.get(key, 0) < wanted[split]:
                taken[key] = taken.get(key, 0) + 1
                path = HERE / "cifar10" / split / label / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.extractfile(member).read())


def folder(per_class: int = 3, classes=("daisy", "dandelion", "roses", "tulips")):
    """A dozen photos at their real size, the same pixels in other formats and
    modes, and files a folder loader must skip."""
    out = HERE / "folder"
    photos = []
    with tarfile.open(SOURCE / "flowers128.tar.gz") as archive:
        members = sorted(
            (m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name
        )
        for label in classes:
            for member in [m for m in members if f"/{label}/" in m.name][:per_class]:
                data = archive.extractfile(member).read()
                path = out / label / Path(member.name).name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                photos.append(data)

    formats = out / "formats"
    formats.mkdir(exist_ok=True)
    small = [Image.open(io.BytesIO(data)).convert("RGB") for data in photos[:7]]
    small = [image.resize((image.width // 2, image.height // 2)) for image in small]
    rgba = small[0].convert("RGBA")
    mask = Image.new("L", rgba.size, 0)
    mask.paste(255, (8, 8, rgba.width - 8, rgba.height - 8))
    rgba.putalpha(mask)  # a transparent frame, which must come out white
    rgba.save(formats / "rgba.png")
    small[1].save(formats / "photo.bmp")
    palette = small[2].quantize(64)
    palette.save(formats / "palette.gif", transparency=0)
    small[3].save(formats / "photo.webp", quality=80)
    small[4].convert("L").save(formats / "grey.jpg", quality=85)
    small[5].convert("CMYK").save(formats / "cmyk.jpg", quality=85)
    grey16 = np.asarray(small[6].convert("L"), np.uint16) * 257
    Image.fromarray(grey16).save(formats / "grey16.png")

    broken = out / "broken"
    broken.mkdir(exist_ok=True)
    (broken / "truncated.jpg").write_bytes(photos[7][: len(photos[7]) // 3])
    (broken / "not_an_image.jpg").write_text("This is text, not a JPEG.\n")
    (broken / "._hidden.jpg").write_bytes(b"\x00\x05\x16\x07 macOS AppleDouble")
    (broken / "notes.txt").write_text("Not an image extension: never listed.\n")


if __name__ == "__main__":
    fashion_mnist()
    cifar10()
    folder()
