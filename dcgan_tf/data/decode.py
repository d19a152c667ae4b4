"""One image file as a square RGB uint8 array, within a bound on memory.

Any Pillow mode becomes RGB (transparency on white, 16-bit grey scaled, not
clipped); the image is cropped at the centre or padded with its border colour.
Files declaring more than `MAX_PIXELS` are refused before a pixel is decoded,
and the decoding threads share a budget of `MAX_PIXELS` pixels in flight.
"""

import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# Lanczos keeps fine lines (spokes, frames) sharp when shrinking renders.
RESAMPLE = Image.Resampling.LANCZOS
# The largest image decoded (its size after JPEG's draft reduction), and the
# most pixels the decoding threads hold at once. Above phone and most camera
# photos (12-24 MP; JPEGs shrink up to 8x while decoding anyway), while one
# image at the limit takes about 0.6 GB (Pillow keeps 4 bytes a pixel and mode
# conversions copy it); without it, eight 1.2 MB PNGs declaring 12000x12000
# took 3.8 GB.
MAX_PIXELS = 40_000_000
UNREADABLE = "unreadable"


class PixelBudget:
    """Lets threads hold at most `total` decoded pixels at once; larger requests
    wait until enough is free."""

    def __init__(self, total: int):
        self.total, self.free = total, total
        self.condition = threading.Condition()

    @contextmanager
    def hold(self, pixels: int):
        pixels = min(pixels, self.total)
        with self.condition:
            self.condition.wait_for(lambda: self.free >= pixels)
            self.free -= pixels
        try:
            yield
        finally:
            with self.condition:
                self.free += pixels
                self.condition.notify_all()


def decode_file(path: Path, size: int, fit: str, budget: PixelBudget):
    """Decodes one image file to a square, never raising.

    Args:
        path: the file.
        size: side of the square.
        fit: `"crop"` the centre, or `"pad"` with the border colour.
        budget: the pixels this decode may hold, shared with the other threads.

    Returns:
        A uint8 `(size, size, 3)` array, or why there is none: `UNREADABLE`,
        or the `"WIDTHxHEIGHT"` it declares when that is over `MAX_PIXELS`.
    """
    try:
        with Image.open(path) as image:
            # JPEGs decode at 1/2, 1/4 or 1/8 scale when that still covers size.
            image.draft(image.mode, (size, size))
            width, height = image.size
            if width * height > MAX_PIXELS:
                return f"{width}x{height}"
            with budget.hold(width * height):
                image = _to_rgb(ImageOps.exif_transpose(image))
                return np.asarray(_fit_square(image, size, fit))
    except Image.DecompressionBombError:  # over twice Pillow's own limit
        return "over Pillow's limit"
    except Exception:  # truncated, not an image, ...
        return UNREADABLE


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
