"""Image conversion, sample grids and GIFs (a walk's frames too), in numpy,
Pillow and imageio only.

Nothing here imports TensorFlow or Keras: these helpers take numpy arrays
(or anything `np.asarray` accepts) of NHWC images. Files are encoded in
memory, then written atomically (`dcgan_tf.system.files`): a full disk leaves an
earlier file whole and is a `WriteError`, with nothing half-written.
"""

import io
import math
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image

from dcgan_tf.sampling.latents import join_segments
from dcgan_tf.system.files import write_atomically

# Cells of a grid are enlarged by a whole factor until they are this many
# pixels across, so that 28x28 samples are readable at a glance.
MIN_CELL_SIZE = 64
PADDING = 2
# The gutters between cells: a dark line then a light one, so that they show
# against any image, the flat mid-grey of an untrained generator included.
GUTTER = (48, 208)
LABEL_HEIGHT = 16  # pixels of the band above a labelled GIF frame


def to_uint8(images) -> np.ndarray:
    """Maps images in [-1, 1] (the generator's tanh range) to uint8 [0, 255]."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(
    images,
    columns: int | None = None,
    min_cell_size: int = MIN_CELL_SIZE,
    row_labels=None,
):
    """Tiles images into one picture.

    Args:
        images: `(n, height, width, channels)` uint8 images, 1 or 3 channels.
        columns: cells per row (default: a near-square grid).
        min_cell_size: small images are enlarged by a whole factor (nearest
            neighbour, so pixels stay sharp) until they are at least this wide.
        row_labels: a text per row (such as its class name), written in a
            dark band left of the grid (`caption_grid`); None for none.

    Returns:
        A `(rows * cell + padding, columns * cell + padding, channels)` uint8
        array, with `PADDING` pixels of `GUTTER` lines around every cell (and
        the band of `row_labels` at its left when given).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            f"Expected images of shape (n, height, width, 1 or 3), got {images.shape}."
        )
    if images.dtype != np.uint8:
        raise ValueError(f"Expected uint8 images, got {images.dtype}; use to_uint8().")
    count, height, width, channels = images.shape
    if count == 0:
        raise ValueError("Cannot make a grid of zero images.")
    shape = grid_shape(count, images.shape[1:], columns, min_cell_size)
    columns = columns or math.ceil(math.sqrt(count))
    scale = max(1, math.ceil(min_cell_size / max(height, width)))
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
        height, width = height * scale, width * scale
    grid = np.full(shape, GUTTER[1], dtype=np.uint8)
    stride = (height + PADDING, width + PADDING)
    grid[:: stride[0]] = GUTTER[0]  # the first line of each horizontal gutter
    grid[:, :: stride[1]] = GUTTER[0]
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top = PADDING + row * (height + PADDING)
        left = PADDING + column * (width + PADDING)
        grid[top : top + height, left : left + width] = image
    if row_labels is not None:
        rows = math.ceil(count / columns)
        if len(row_labels) != rows:
            raise ValueError(f"Expected {rows} row labels, got {len(row_labels)}.")
        spans = cell_spans(rows, height)
        grid = caption_grid(
            grid, left=[(*span, t) for span, t in zip(spans, row_labels)]
        )
    return grid


def cell_spans(count: int, size: int) -> list[tuple[int, int]]:
    """`(start, end)` pixels of `count` cells of `size` along one side of a
    `make_grid` grid (its cells once enlarged)."""
    starts = [PADDING + i * (size + PADDING) for i in range(count)]
    return [(start, start + size) for start in starts]


def caption_grid(grid, top=(), left=()) -> np.ndarray:
    """`grid` with captions in a dark band above it and/or at its left; its
    own pixels are unchanged (they sit at the bottom right of the result).

    Args:
        grid: a `(height, width, 1 or 3)` uint8 picture, such as `make_grid`'s.
        top: `(start, end, text)` column spans of `grid` to caption above it;
            `text` may be a tuple of choices, longest first: the first that
            fits the span is written.
        left: `(start, end, text)` row spans to caption at its left, in a
            band as wide as the widest text.

    Returns:
        The captioned picture, `LABEL_HEIGHT` rows taller when `top` is given
        and wider by the band when `left` is.
    """
    from PIL import ImageDraw

    grid = np.asarray(grid)
    height, width, channels = grid.shape
    mode = "L" if channels == 1 else "RGB"
    measure = ImageDraw.Draw(Image.new(mode, (1, 1)))
    band = 0
    if left:
        band = 8 + max(math.ceil(measure.textlength(str(t))) for *_, t in left)
    above = LABEL_HEIGHT if top else 0
    picture = Image.new(mode, (band + width, above + height), 0)
    picture.paste(
        Image.fromarray(grid[..., 0] if channels == 1 else grid), (band, above)
    )
    draw = ImageDraw.Draw(picture)
    white = (255,) * channels
    for start, end, text in left:
        draw.text((4, above + (start + end) // 2), str(text), fill=white, anchor="lm")
    for start, end, text in top:
        choices = (text,) if isinstance(text, str) else tuple(text)
        fits = [c for c in choices if measure.textlength(c) <= end - start - 4]
        chosen = (fits or choices[-1:])[0]
        draw.text(
            (band + start + 2, LABEL_HEIGHT // 2), chosen, fill=white, anchor="lm"
        )
    captioned = np.asarray(picture)
    return captioned[..., None] if channels == 1 else captioned


def grid_shape(
    count: int,
    image_shape,
    columns: int | None = None,
    min_cell_size: int = MIN_CELL_SIZE,
    advice: str = "ask for fewer images per grid",
) -> tuple[int, int, int]:
    """The `(height, width, channels)` of `make_grid`'s grid of `count` images
    of `image_shape`, checked before any of them is made.

    Raises:
        ValueError: when the grid would be more pixels than an image file
            should hold (Pillow's `MAX_IMAGE_PIXELS`), ending with `advice`.
    """
    height, width, channels = image_shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    scale = max(1, math.ceil(min_cell_size / max(height, width)))
    shape = (
        rows * (height * scale + PADDING) + PADDING,
        columns * (width * scale + PADDING) + PADDING,
        channels,
    )
    if shape[0] * shape[1] > Image.MAX_IMAGE_PIXELS:
        raise ValueError(
            f"A grid of {count} images would be {shape[1]}x{shape[0]} pixels, more "
            f"than an image file should hold ({Image.MAX_IMAGE_PIXELS:,}); {advice}."
        )
    return shape


def save_image(image, path: str | Path) -> Path:
    """Writes one uint8 `(height, width, 1 or 3)` image; the suffix picks the format."""
    path = Path(path)
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    image_format = Image.registered_extensions().get(path.suffix.lower())
    if image_format is None:
        raise ValueError(f"Unknown image file extension: {path.name}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=image_format)
    return _write_bytes(path, buffer.getvalue())


def _write_bytes(path: Path, data: bytes) -> Path:
    return write_atomically(path, lambda tmp: Path(tmp).write_bytes(data))


def save_grid(
    images, path: str | Path, columns: int | None = None, row_labels=None
) -> Path:
    """Writes `make_grid(images, columns, row_labels=row_labels)` as an image file."""
    return save_image(make_grid(images, columns, row_labels=row_labels), path)


def label_image(image, text: str) -> np.ndarray:
    """`image` (uint8, `(height, width)` or `(height, width, channels)`) under a
    dark band that says `text`, such as the epoch of a frame."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    from PIL import ImageDraw

    band = Image.new(Image.fromarray(image).mode, (image.shape[1], LABEL_HEIGHT), 0)
    ImageDraw.Draw(band).text((4, 3), text, fill=(255,) * len(band.getbands()))
    return np.concatenate([np.asarray(band), image], axis=0)


def save_gif(
    frames, path: str | Path, seconds_per_frame: float = 0.5, labels=None
) -> Path:
    """Writes frames (uint8 arrays of one shape) as a looping GIF.

    Args:
        frames: a sequence of `(height, width, channels)` uint8 images.
        path: where to write the `.gif`.
        seconds_per_frame: display time of each frame; the last one is held
            three times as long so the end of training is easy to see.
            Pillow merges identical consecutive frames into one.
        labels: a text per frame (such as `"epoch 3"`), shown in a band above
            it; None for none.
    """
    frames = [np.asarray(frame) for frame in frames]
    if not frames:
        raise ValueError("Cannot write a GIF of zero frames.")
    if labels is not None:
        frames = [label_image(f, text) for f, text in zip(frames, labels, strict=True)]
    frames = [f[..., 0] if f.ndim == 3 and f.shape[-1] == 1 else f for f in frames]
    durations = [seconds_per_frame * 1000] * len(frames)
    durations[-1] *= 3
    if len(durations) == 1:
        durations = durations[0]  # Pillow takes a list only for several frames.
    data = imageio.mimsave("<bytes>", frames, format="GIF", duration=durations, loop=0)
    return _write_bytes(Path(path), data)


def read_gif(path: str | Path) -> list[np.ndarray]:
    """Reads every frame of a GIF, for tests and notebooks."""
    return [np.asarray(frame) for frame in imageio.mimread(path)]


def bounce(frames: list) -> list:
    """Frames played forth and back, so a looping GIF never jumps."""
    return frames + frames[-2:0:-1]


def animation_frames(images, joined: bool, loop: bool) -> list:
    """The GIF frames of a `(rows, steps, h, w, c)` uint8 walk.

    Args:
        images: the walk's images, one row per pair or per leg.
        joined: play the rows one after another as one walk (keyframes)
            rather than side by side (independent pairs).
        loop: the joined walk ends where it starts, so play it round.
    """
    if joined:
        tracks = join_segments(images, loop)[:, None]  # (frames, 1, ...)
    else:
        tracks = images.swapaxes(0, 1)  # (steps, rows, ...)
    frames = [make_grid(track, columns=len(track)) for track in tracks]
    return frames if joined and loop else bounce(frames)
