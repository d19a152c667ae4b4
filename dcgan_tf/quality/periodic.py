"""The periodic-texture measure: how much of the samples' spectral power sits
in peaks above a smooth fit of their radial spectrum, against real images.

Why: the checkerboard measure (`artifacts`) looks only at the frequencies of
a stride-2 grid (Odena, Dumoulin and Olah 2016, "Deconvolution and
Checkerboard Artifacts"). A generator can paint other repeating textures: a
hatch of period 3, a diagonal cross-hatch, a tiling of period 8. Any pattern
that repeats puts its power into a few frequencies (and their harmonics), far
above the power of the frequencies around it. Photographs have a smooth,
nearly isotropic spectrum falling off about as 1/f^2 (Field 1987, "Relations
between the statistics of natural images and the response properties of
cortical cells"; van der Schaaf and van Hateren 1996), so at each radius
their power is about that of the ring it lies on. Frequency-domain detection
of generated images builds on the same fact (Durall, Keuper and Keuper 2020,
"Watch your Up-Convolution", on azimuthally integrated spectra; Zhang, Karaman
and Chang 2019, "Detecting and Simulating Artifacts in GAN Fake Images",
on the spectral peaks of up-sampling).

The measure:

1. Every image's 2-D power spectrum by Welch's method: each channel cut into
   half-overlapping squares of `SEGMENT` pixels, each square's mean removed
   and a 2-D Hann window applied (so that the squares' edges do not put a
   cross of power on the axes), their spectra summed; divided by the image's
   total power so each image weighs the same; averaged over images and
   channels (`PeriodicSpectrum.add`). The squares make the frequency grid the
   same for every image size from `SEGMENT` up, and lower the noise.
2. A smooth background: at each radius (rings one frequency bin wide, radius
   in cycles per pixel, so any image size), the median of log power over that
   ring and the two beside it. A median ignores the few bins a peak occupies.
3. The peaks: bins at least `FACTOR` times their background, at frequencies
   of at least `MIN_FREQUENCY` cycles per pixel (periods up to 16 pixels;
   near zero frequency the spectrum is too steep for a ring median). Their
   power above the background, over the total power, is `periodic_share`.
4. The reported figure, `periodic_ratio`, is `(samples' share + FLOOR) /
   (real images' share + FLOOR)`: real images against real images score
   about 1, a generator painting a repeating texture well above.

The constants were set on the 3,670 flower photos of the `folder` data set
at 128x128 (TensorFlow's tf_flowers) and the 64 samples of each saved 128-px
grid of `benchmarks/results/recipes/` (`benchmarks/periodic_flowers.py`,
record `benchmarks/results/recipes/periodic_photos_and_grids.json`):

- `FACTOR` = 3: no bin of the mean spectrum of all the photos, or of any
  of ten random 64-photo subsets, stands 3 times above its ring's median
  (share 0; at 2, one subset of ten has a share of 6e-6); 16-photo subsets
  reach 5e-5 at 3, chance peaks of a mean of few spectra. The grids of the
  modern recipe, whose cross-hatch is visible, have shares of 3e-3 to 5e-3.
- `FLOOR` = 1e-3 of the power: the photos' share is 0, so a plain ratio
  would divide by zero; with the floor, 16 photos against all of them score
  at most 1.05. A sinusoid carrying 0.1% of the power of a flower photo
  (RMS contrast 61 of 255 levels) has an RMS of 1.9 levels: about the
  faintest texture worth a figure on 8-bit images.
- `SEGMENT` = 64 and `MIN_FREQUENCY` = 1/16: see their comments.

Fewer than about 16 images give chance peaks; the measure is meant for a
grid's 64 samples or more.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Its name among the metrics of `evaluate` and the quality monitor.
NAME = "periodic"
# A peak is a bin at least this many times its ring's median power.
FACTOR = 3.0
# Frequencies below this (cycles per pixel; periods over 16 pixels) are left
# out: the spectrum there is too steep for a ring median.
MIN_FREQUENCY = 1 / 16
# The share of power below which a set counts as free of peaks (see above).
FLOOR = 1e-3
# Rings within this many bins on either side form a ring's background.
RING_WIDTH = 1
# The side of the squares whose spectra are averaged (Welch's method): the
# frequency grid is the same for every image size from 64 pixels up (the
# 64- and 128-px presets), and a 128-px image gives 9 squares, 3 times less
# noise per frequency than one spectrum of the whole image.
SEGMENT = 64
# Images per FFT, to bound memory (a 256-px image is 49 squares).
CHUNK = 16
# The smallest side the measure accepts.
MIN_SIDE = 8


def hann_window(height: int, width: int) -> np.ndarray:
    """A 2-D Hann window of positive weights (the zero end points left off),
    float32 `(height, width)`."""
    rows = np.hanning(height + 2)[1:-1]
    cols = np.hanning(width + 2)[1:-1]
    return np.outer(rows, cols).astype(np.float32)


def power_spectra(images, segment: int = SEGMENT) -> np.ndarray:
    """Per-image normalised power spectra of a batch, by Welch's method
    (Welch 1967, "The use of fast Fourier transform for the estimation of
    power spectra"): each channel cut into half-overlapping `segment`-pixel
    squares (the whole side where it is shorter), each square's mean removed
    and a Hann window applied; their power spectra summed per image and
    channel, divided by the total, then averaged over the channels.

    Args:
        images: `(n, height, width)` or `(n, height, width, channels)`, uint8
            or float in any range.
        segment: the side of the squares.

    Returns:
        float64 `(n, rows, columns)` with `rows = min(height, segment)` (and
        the same for columns), unshifted (zero frequency at `[0, 0]`), each
        summing to 1 (0 for a constant image).
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    count, height, width, channels = images.shape
    rows, cols = min(height, segment), min(width, segment)
    squares = sliding_window_view(images, (rows, cols), axis=(1, 2))
    squares = squares[:, :: max(rows // 2, 1), :: max(cols // 2, 1)]
    # (n, channels, squares, rows, cols)
    squares = np.moveaxis(squares, 3, 1).reshape(count, channels, -1, rows, cols)
    x = squares.astype(np.float32)
    x = (x - x.mean(axis=(3, 4), keepdims=True)) * hann_window(rows, cols)
    half = (np.abs(np.fft.rfft2(x)) ** 2).sum(axis=2)
    # The other half of a real signal's spectrum: P[-u, -v] = P[u, v].
    right = np.arange(cols // 2 + 1, cols)
    mirror = (-np.arange(rows)) % rows
    rest = half[..., mirror[:, None], (cols - right)[None, :]]
    power = np.concatenate([half, rest], axis=-1)
    total = power.sum(axis=(2, 3), keepdims=True)
    share = np.where(total > 0, power / np.maximum(total, 1e-30), 0.0)
    return share.mean(axis=1)


def radial_background(spectrum, ring_width: int = RING_WIDTH):
    """The smooth background of a power spectrum: at each bin, the median of
    log power over its ring (radius rounded to whole bins of the shorter
    side) and the `ring_width` rings on either side.

    Returns:
        `(background, radius)`: float arrays of the spectrum's shape; radius
        in cycles per pixel.
    """
    height, width = spectrum.shape
    side = min(height, width)
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None])
    ring = np.rint(radius * side).astype(int)
    log_power = np.log(np.maximum(spectrum, 1e-30))
    order = np.argsort(ring, axis=None, kind="stable")
    sorted_rings = ring.reshape(-1)[order]
    sorted_logs = log_power.reshape(-1)[order]
    rings = np.arange(ring.max() + 1)
    starts = np.searchsorted(sorted_rings, rings - ring_width, side="left")
    ends = np.searchsorted(sorted_rings, rings + ring_width, side="right")
    medians = np.array([np.median(sorted_logs[a:b]) for a, b in zip(starts, ends)])
    return np.exp(medians[ring]), radius


def peak_share(
    spectrum,
    factor: float = FACTOR,
    min_frequency: float = MIN_FREQUENCY,
    ring_width: int = RING_WIDTH,
) -> float:
    """The share of a (mean) power spectrum's power that stands in peaks: the
    power above the radial background of the bins at least `factor` times
    that background, at `min_frequency` cycles per pixel or more, over the
    total power."""
    spectrum = np.asarray(spectrum, np.float64)
    background, radius = radial_background(spectrum, ring_width)
    peaks = (spectrum > factor * background) & (radius >= min_frequency)
    excess = np.where(peaks, spectrum - background, 0.0).sum()
    return float(excess / max(spectrum.sum(), 1e-30))


class PeriodicSpectrum:
    """Accumulates images' normalised power spectra, batch by batch, so that
    thousands of generated images need not be held at once (the
    `CheckerboardSpectrum` convention).

    Args:
        factor, min_frequency: see `peak_share`.
    """

    def __init__(self, factor: float = FACTOR, min_frequency: float = MIN_FREQUENCY):
        if factor <= 1 or not 0 <= min_frequency < 0.5:
            raise ValueError(
                "factor must be above 1 and min_frequency in [0, 0.5) cycles per pixel."
            )
        self.factor = factor
        self.min_frequency = min_frequency
        self.total = None
        self.size = None
        self.count = 0

    def add(self, images) -> None:
        """Adds a batch: `(n, height, width)` or `(n, height, width, channels)`,
        uint8 or float in any range.

        Raises:
            ValueError: for other shapes, sides under `MIN_SIDE`, or a size
                unlike the earlier batches'.
        """
        images = np.asarray(images)
        if images.ndim not in (3, 4):
            raise ValueError(f"Expected a batch of images, got shape {images.shape}.")
        if min(images.shape[1:3]) < MIN_SIDE:
            raise ValueError(
                f"The periodic measure needs image sides of {MIN_SIDE} or more, "
                f"got {images.shape[1]}x{images.shape[2]}."
            )
        if self.size is not None and images.shape[1:3] != self.size:
            raise ValueError(
                f"Images of {images.shape[1]}x{images.shape[2]} after ones of "
                f"{self.size[0]}x{self.size[1]}."
            )
        self.size = images.shape[1:3]
        for start in range(0, len(images), CHUNK):
            batch = power_spectra(images[start : start + CHUNK]).sum(axis=0)
            self.total = batch if self.total is None else self.total + batch
            self.count += len(images[start : start + CHUNK])

    def watch(self, batches):
        """Yields `batches` unchanged, adding each on the way (to measure images
        that another consumer, e.g. a feature network, reads once)."""
        for batch in batches:
            self.add(batch)
            yield batch

    def spectrum(self) -> np.ndarray:
        """The mean normalised power spectrum, unshifted.

        Raises:
            ValueError: before any image was added.
        """
        if self.total is None:
            raise ValueError("No images were added.")
        return self.total / self.count

    def score(self) -> float:
        """`peak_share` of the mean spectrum."""
        return peak_share(self.spectrum(), self.factor, self.min_frequency)


def periodic_share(
    images, factor: float = FACTOR, min_frequency: float = MIN_FREQUENCY
) -> float:
    """`PeriodicSpectrum.score` of a batch (or an iterable of batches): the
    share of their power in spectral peaks (0 for photographs; a few
    thousandths or more for a visible repeating texture)."""
    meter = PeriodicSpectrum(factor, min_frequency)
    if isinstance(images, np.ndarray):
        meter.add(images)
    else:
        for batch in images:
            meter.add(batch)
    return meter.score()


def periodic_ratio(
    samples,
    real,
    factor: float = FACTOR,
    min_frequency: float = MIN_FREQUENCY,
    floor: float = FLOOR,
) -> float:
    """`(samples' share + floor) / (real images' share + floor)`: about 1 for
    real images against others of the same kind, well above 1 for a
    generator that paints a repeating texture of any period or direction.

    Args:
        samples: generated images, or their `periodic_share` (a float).
        real: real images of the same size, or their share.
        factor, min_frequency: see `peak_share`.
        floor: see `FLOOR`.
    """

    def share(x):
        if isinstance(x, (float, int)):
            return float(x)
        return periodic_share(x, factor, min_frequency)

    return (share(samples) + floor) / (share(real) + floor)
