"""The checkerboard artifact measure: how much more of the samples' spectral
power sits at the frequencies of a stride-2 checkerboard than in real images.

Why these frequencies: a stride-2 transposed convolution whose kernel does not
divide evenly by its stride paints every other output pixel with a different
share of the kernel (Odena, Dumoulin and Olah 2016), a pattern of period 2
along each axis. In an N-pixel image a period-2 pattern puts its power at the
Nyquist frequencies (N/2, 0), (0, N/2) and (N/2, N/2); the layer before, whose
pattern the last layer upsamples, has period 4 and adds the multiples of N/4.
Photographs have a smooth power spectrum there (power falls off with
frequency, about as 1/f^2), so the power at one of these frequencies is about
that of its neighbours; a generator that paints a grid puts a spike on it.

The measure: every image's 2-D power spectrum (each channel's, mean removed)
divided by its total power, so each image weighs the same; averaged over the
images and channels; at each checkerboard frequency the averaged power over
the mean of its neighbours within `radius` (the frequency itself left out;
the spectrum wraps around; for a frequency on an axis, its neighbours on
that axis, since the edges of the frame put a cross of power on the axes
that would otherwise count as a spike); those ratios averaged over the
frequencies. That
is `checkerboard_score`. The reported figure, `artifact_ratio`, is the
samples' score over the real images' score, so real images against other real
images score about 1 and a generator with a visible grid scores well above.
"""

import numpy as np

# Its name among the metrics of `evaluate` and the quality monitor.
NAME = "artifacts"
# Multiples of N / 2**LAYERS: the last two stride-2 layers' patterns.
LAYERS = 2
# Neighbours up to 2 frequency bins away on either axis (a 5x5 window).
RADIUS = 2
CHUNK = 256


def checkerboard_frequencies(height: int, width: int, layers: int = LAYERS):
    """The (row, column) frequency bins of the checkerboards of `layers`
    stride-2 layers: the nonzero multiples of `(height, width) / 2**layers`
    (fewer layers when a side does not divide), each once.

    Raises:
        ValueError: for a side that is odd (it has no Nyquist bin) or under 4.
    """
    if height % 2 or width % 2 or min(height, width) < 4:
        raise ValueError(
            f"The artifact measure needs even image sides of 4 or more, got "
            f"{height}x{width}."
        )
    while layers > 1 and (height % 2**layers or width % 2**layers):
        layers -= 1
    parts = 2**layers
    return [
        (a * height // parts, b * width // parts)
        for a in range(parts)
        for b in range(parts)
        if a or b
    ]


class CheckerboardSpectrum:
    """Accumulates images' normalised power spectra, batch by batch, so that
    thousands of generated images need not be held at once.

    Args:
        layers: stride-2 layers whose checkerboards count (see
            `checkerboard_frequencies`).
        radius: neighbourhood of each frequency, in bins.
    """

    def __init__(self, layers: int = LAYERS, radius: int = RADIUS):
        if layers < 1 or radius < 1:
            raise ValueError("layers and radius must be at least 1.")
        self.layers = layers
        self.radius = radius
        self.total = None
        self.count = 0

    def add(self, images) -> None:
        """Adds a batch: `(n, height, width)` or `(n, height, width, channels)`,
        uint8 or float in any range (only the shape of the spectrum counts).

        Raises:
            ValueError: for other shapes, or a size unlike the earlier batches'.
        """
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4:
            raise ValueError(f"Expected a batch of images, got shape {images.shape}.")
        if self.total is not None and images.shape[1:3] != self.total.shape:
            raise ValueError(
                f"Images of {images.shape[1]}x{images.shape[2]} after ones of "
                f"{self.total.shape[0]}x{self.total.shape[1]}."
            )
        checkerboard_frequencies(*images.shape[1:3], self.layers)  # the size check
        for start in range(0, len(images), CHUNK):
            x = images[start : start + CHUNK].astype(np.float64)
            # (n, channels, height, width): one spectrum per image and channel.
            x = np.moveaxis(x, 3, 1)
            x = x - x.mean(axis=(2, 3), keepdims=True)
            power = np.abs(np.fft.fft2(x)) ** 2
            share = power / np.maximum(power.sum(axis=(2, 3), keepdims=True), 1e-12)
            batch = share.mean(axis=1).sum(axis=0)
            self.total = batch if self.total is None else self.total + batch
            self.count += len(x)

    def watch(self, batches):
        """Yields `batches` unchanged, adding each on the way (to measure images
        that another consumer, e.g. a feature network, reads once)."""
        for batch in batches:
            self.add(batch)
            yield batch

    def score(self) -> float:
        """The mean ratio, over the checkerboard frequencies, of the averaged
        spectrum's power to its neighbours' mean power.

        Raises:
            ValueError: before any image was added.
        """
        if self.total is None:
            raise ValueError("No images were added.")
        spectrum = self.total / self.count
        height, width = spectrum.shape
        r = self.radius
        ratios = []
        for u, v in checkerboard_frequencies(height, width, self.layers):
            # An axis bin's neighbours on its axis only: the frame's edges
            # (the spectrum wraps) and upright structure put a cross of power
            # on the axes, far above the bins beside them.
            rows = [0] if u == 0 else np.arange(u - r, u + r + 1) % height
            cols = [0] if v == 0 else np.arange(v - r, v + r + 1) % width
            window = spectrum[np.ix_(rows, cols)]
            neighbours = (window.sum() - spectrum[u, v]) / (window.size - 1)
            ratios.append(spectrum[u, v] / max(neighbours, 1e-30))
        return float(np.mean(ratios))


def checkerboard_score(images, layers: int = LAYERS, radius: int = RADIUS) -> float:
    """`CheckerboardSpectrum.score` of a batch (or an iterable of batches).

    Real photographs score a few units (their own spectrum's shape there); it
    is the ratio of two scores, `artifact_ratio`, that is read.
    """
    meter = CheckerboardSpectrum(layers, radius)
    if isinstance(images, np.ndarray):
        meter.add(images)
    else:
        for batch in images:
            meter.add(batch)
    return meter.score()


def artifact_ratio(samples, real, layers: int = LAYERS, radius: int = RADIUS):
    """The samples' checkerboard score over the real images' (about 1 for real
    images against others of the same kind; well above 1 for a visible grid).

    Args:
        samples: generated images, or their score (a float).
        real: real images of the same size, or their score.
        layers, radius: see `CheckerboardSpectrum`.
    """

    def score(x):
        if isinstance(x, (float, int)):
            return float(x)
        return checkerboard_score(x, layers, radius)

    return score(samples) / score(real)
