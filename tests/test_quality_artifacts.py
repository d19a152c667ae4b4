"""The checkerboard artifact measure: high for a stride-2 grid, about 1 for
real images against other real images, not fooled by smooth images; and in
`evaluate` and the quality monitor."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from dcgan_tf import evaluate
from dcgan_tf.data import load_images
from dcgan_tf.model.networks import build_generator
from dcgan_tf.quality.artifacts import (
    CheckerboardSpectrum,
    artifact_ratio,
    checkerboard_frequencies,
    checkerboard_score,
)
from dcgan_tf.quality.evaluation import evaluate_generator
from dcgan_tf.quality.monitor import QualityMonitor

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cifar():
    """Real 32x32 photographs: the train sample (100) and the test one (30)."""
    train = load_images("cifar10", DATA / "cifar10", split="train")
    test = load_images("cifar10", DATA / "cifar10", split="test")
    return train, test


def smooth_images(count, size, seed=0):
    """Sums of a few random broad Gaussian blobs: no high frequencies."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    images = np.zeros((count, size, size, 3))
    for _ in range(4):
        cy, cx, width = rng.uniform(size=(3, count, 1, 1)) * [
            [[[1]]],
            [[[1]]],
            [[[0.3]]],
        ]
        blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * (width + 0.1) ** 2))
        images += blob[..., None] * rng.uniform(0, 255, (count, 1, 1, 3))
    return np.clip(images / 2, 0, 255).astype(np.uint8)


def test_frequencies_are_the_nyquist_and_quarter_bins():
    assert checkerboard_frequencies(8, 8, layers=1) == [(0, 4), (4, 0), (4, 4)]
    bins = checkerboard_frequencies(64, 64)
    assert len(bins) == 15 and (32, 32) in bins and (16, 48) in bins
    # 28 = 4 x 7: two layers; 6 = 2 x 3: only the Nyquist bins.
    assert (7, 0) in checkerboard_frequencies(28, 28)
    assert checkerboard_frequencies(6, 6) == [(0, 3), (3, 0), (3, 3)]
    with pytest.raises(ValueError, match="even"):
        checkerboard_frequencies(7, 8)


def test_a_checkerboard_on_real_images_scores_high(cifar):
    train, test = cifar
    # The pattern of a stride-2 transposed convolution: every other pixel a
    # little brighter, 6 of 255 levels.
    grid = (np.indices((32, 32)).sum(axis=0) % 2 * 12 - 6)[None, :, :, None]
    painted = np.clip(test.astype(int) + grid, 0, 255).astype(np.uint8)
    assert artifact_ratio(painted, train) > 10
    # Period 4 (the layer before the last): the N/4 bins.
    stripes = (np.arange(32) // 2 % 2 * 12 - 6)[None, None, :, None]
    striped = np.clip(test.astype(int) + stripes, 0, 255).astype(np.uint8)
    assert artifact_ratio(striped, train) > 1.8  # 2 of the 15 bins


def test_real_images_against_other_real_images_score_about_1(cifar):
    train, test = cifar
    assert 0.8 < artifact_ratio(test, train) < 1.25
    flowers = load_images("folder", DATA / "folder" / "daisy", 64)
    others = load_images("folder", DATA / "folder" / "roses", 64)
    tulips = load_images("folder", DATA / "folder" / "tulips", 64)
    both = np.concatenate([others, tulips])
    assert 0.6 < artifact_ratio(flowers, both) < 1.6


def test_smooth_images_are_not_artifacts(cifar):
    train, _ = cifar
    assert artifact_ratio(smooth_images(40, 32), train) < 1.5


def test_the_score_does_not_depend_on_batches_or_brightness(cifar):
    train, _ = cifar
    meter = CheckerboardSpectrum()
    seen = list(meter.watch([train[:30], train[30:]]))
    assert len(seen) == 2 and seen[0] is not None
    assert meter.score() == pytest.approx(checkerboard_score(train), rel=1e-9)
    assert checkerboard_score(train / 255.0 * 2 - 1) == pytest.approx(
        checkerboard_score(train), rel=1e-9
    )
    with pytest.raises(ValueError, match="after ones of"):
        meter.add(np.zeros((2, 16, 16, 3)))
    with pytest.raises(ValueError, match="No images"):
        CheckerboardSpectrum().score()


def tiny_generator():
    keras.utils.set_random_seed(0)
    return build_generator((28, 28, 1), latent_dim=8, filters=8)


def test_evaluate_generator_measures_artifacts_without_features():
    real = load_images("fashion_mnist", DATA / "fashion-mnist")
    result = evaluate_generator(
        tiny_generator(), real, None, num_samples=20, metrics=("artifacts",)
    )
    assert result["num_samples"] == 20 and result["num_real"] == len(real)
    assert np.isfinite(result["artifacts"]) and result["artifacts"] > 0


def test_evaluate_command_reports_artifacts_of_a_real_split(tmp_path, capsys):
    out = tmp_path / "floor.json"
    evaluate.main(
        ["--compare-real", "train", "--dataset", "fashion_mnist", "--data-dir"]
        + [str(DATA / "fashion-mnist"), "--metrics", "artifacts", "--json", str(out)]
    )
    record = json.loads(out.read_text())
    # --metrics artifacts measures the periodic texture beside the checkerboard.
    assert set(record["metrics"]) == {"artifacts", "periodic"}
    assert record["features"] is None
    assert 0.7 < record["metrics"]["artifacts"] < 1.4
    assert "artifacts" in capsys.readouterr().out


class TinyGAN(keras.Model):
    def __init__(self):
        super().__init__()
        self.generator = tiny_generator()
        self.sampling_generator = self.generator
        self.latent_distribution = "normal"


def test_monitor_logs_artifacts_beside_kid(tmp_path):
    monitor = QualityMonitor(
        load_images("fashion_mnist", data_dir=DATA / "fashion-mnist"),
        tmp_path,
        dataset="fashion_mnist",
        every=1,
        num_samples=16,
        metrics=("kid", "artifacts"),
    )
    monitor.set_model(TinyGAN())
    monitor.set_params({"epochs": 1})
    logs = {}
    monitor.on_epoch_end(0, logs)
    assert np.isfinite(logs["kid"]) and logs["artifacts"] > 0
    with pytest.raises(ValueError, match="must be 'kid' and/or 'fid', then optionally"):
        QualityMonitor(
            np.zeros((4, 28, 28, 1), np.uint8), tmp_path, metrics=("artifacts",)
        )
