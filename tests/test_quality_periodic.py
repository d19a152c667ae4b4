"""The periodic-texture measure: about 1 for clean images against clean
images; well above for faint patterns of period 2, 3 and 4 and for diagonal
cross-hatches, among them ones the checkerboard measure does not see; and on
the cross-hatched samples of the 128-px modern-recipe grid."""

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from dcgan_tf.data import load_images
from dcgan_tf.quality.artifacts import artifact_ratio
from dcgan_tf.quality.periodic import (
    PeriodicSpectrum,
    periodic_ratio,
    periodic_share,
    power_spectra,
)

DATA = Path(__file__).parent / "data"
GRID = (
    Path(__file__).parent.parent
    / "benchmarks/results/recipes/flowers_128w32_modern_trained.png"
)
SIZE = 64


def smooth_fields(count, size=SIZE, seed=0):
    """Random fields with a 1/f^2 power spectrum, as photographs have, of
    standard deviation 40 levels around 128 (float, unclipped)."""
    rng = np.random.default_rng(seed)
    frequency = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None])
    amplitude = 1 / np.maximum(frequency, 1 / size)
    noise = np.fft.fft2(rng.standard_normal((count, size, size, 3)), axes=(1, 2))
    fields = np.real(np.fft.ifft2(noise * amplitude[:, :, None], axes=(1, 2)))
    return 128 + 40 * fields / fields.std(axis=(1, 2, 3), keepdims=True)


def uint8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def pattern(kind, size=SIZE):
    """A faint texture, 3 levels in amplitude (about 2 levels RMS)."""
    y, x = np.mgrid[:size, :size]

    def wave(along, period):
        return np.cos(2 * np.pi * along / period)

    textures = {
        "period 2 along x": wave(x, 2),
        "period 3 along x": wave(x, 3),
        "period 4 along y": wave(y, 4),
        "period 3 along both": (wave(x, 3) + wave(y, 3)) / 2**0.5,
        "period 2 on both (a checkerboard)": wave(x, 2) * wave(y, 2),
        "diagonal cross-hatch of period 3": (wave(x + y, 3) + wave(x - y, 3)) / 2**0.5,
        "diagonal cross-hatch of period 5": (wave(x + y, 5) + wave(x - y, 5)) / 2**0.5,
    }
    return 3 * textures[kind][None, :, :, None]


@pytest.fixture(scope="module")
def clean():
    """64 clean fields (the reference) and 64 others."""
    return uint8(smooth_fields(64, seed=0)), smooth_fields(64, seed=1)


def test_clean_fields_against_clean_fields_score_about_1(clean):
    reference, other = clean
    assert periodic_share(reference) == 0.0
    assert 0.9 < periodic_ratio(uint8(other), reference) < 1.1


@pytest.mark.parametrize(
    "kind",
    [
        "period 2 along x",
        "period 3 along x",
        "period 4 along y",
        "period 3 along both",
        "period 2 on both (a checkerboard)",
        "diagonal cross-hatch of period 3",
        "diagonal cross-hatch of period 5",
    ],
)
def test_a_faint_periodic_texture_scores_high(clean, kind):
    reference, other = clean
    baseline = periodic_ratio(uint8(other), reference)
    assert (
        periodic_ratio(uint8(other + pattern(kind)), reference) > 1.5 * baseline + 0.5
    )


@pytest.mark.parametrize(
    "kind",
    [
        "period 3 along x",
        "diagonal cross-hatch of period 3",
        "diagonal cross-hatch of period 5",
    ],
)
def test_textures_the_checkerboard_measure_misses(clean, kind):
    reference, other = clean
    textured = uint8(other + pattern(kind))
    # The checkerboard measure looks only at multiples of N/4: it passes them.
    assert artifact_ratio(textured, reference) < 1.2
    assert periodic_ratio(textured, reference) > 2


def grid_tiles(path, size=128, columns=8, padding=2):
    """The 64 samples of a `save_grid` PNG: cells of `size` pixels with
    `padding` gutter pixels around each (checked: the gutters are flat)."""
    grid = iio.imread(path)[..., :3]
    step = size + padding
    assert grid.shape[:2] == (columns * step + padding,) * 2
    gutters = grid[np.arange(columns + 1)[:, None] * step + np.arange(padding)]
    assert len(np.unique(gutters.reshape(-1, 3)[:, 0])) <= 2  # gutter colours only
    return np.stack(
        [
            grid[padding + r * step :][:size, padding + c * step :][:, :size]
            for r in range(columns)
            for c in range(columns)
        ]
    )


def test_the_cross_hatch_of_real_128px_samples():
    """The modern recipe's 128-px grid (32 filters, 2,000 steps): a
    cross-hatch in many samples that the checkerboard measure passes."""
    samples = grid_tiles(GRID)
    photos = np.concatenate(
        [
            load_images("folder", DATA / "folder" / kind, 128)
            for kind in ("daisy", "dandelion", "roses", "tulips")
        ]
    )
    assert artifact_ratio(samples, photos) < 1.5
    assert periodic_ratio(samples, photos) > 3


def test_size_and_batches():
    """The same texture scores alike at 64, 128 and 256 pixels (squares of
    64); batches add up to the whole; bad shapes are refused."""
    shares = []
    for size in (64, 128, 256):
        fields = smooth_fields(16, size, seed=2)
        shares.append(periodic_share(uint8(fields + pattern("period 3 along x", size))))
    assert min(shares) > 1e-3 and max(shares) < 2 * min(shares)
    images = uint8(smooth_fields(8, seed=3) + pattern("period 4 along y"))
    meter = PeriodicSpectrum()
    list(meter.watch([images[:3], images[3:]]))
    np.testing.assert_allclose(
        meter.spectrum(), power_spectra(images).mean(axis=0), rtol=1e-5
    )
    assert meter.score() == pytest.approx(periodic_share(images))
    with pytest.raises(ValueError, match="after ones of"):
        meter.add(images[:, :32, :32])
    with pytest.raises(ValueError, match="8 or more"):
        periodic_share(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="No images"):
        PeriodicSpectrum().score()


def test_spectra_are_the_full_windowed_spectra():
    """The half spectrum (rfft2) made whole equals numpy's full one."""
    rng = np.random.default_rng(5)
    for shape in [(2, 16, 16, 3), (2, 15, 20), (1, 20, 13, 1)]:
        images = rng.uniform(0, 255, shape)
        x = images if images.ndim == 4 else images[..., None]
        x = np.moveaxis(x, 3, 1)
        x = x - x.mean(axis=(2, 3), keepdims=True)
        rows, cols = shape[1:3]
        window = np.outer(np.hanning(rows + 2)[1:-1], np.hanning(cols + 2)[1:-1])
        power = np.abs(np.fft.fft2(x * window)) ** 2
        expected = (power / power.sum(axis=(2, 3), keepdims=True)).mean(axis=1)
        np.testing.assert_allclose(power_spectra(images), expected, atol=1e-6)
