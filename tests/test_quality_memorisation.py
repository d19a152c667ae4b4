"""The memorisation check: near-copies of training images score far under 1,
other real images of the same kind about 1."""

from pathlib import Path

import numpy as np
import pytest

from dcgan_tf.data import load_images
from dcgan_tf.quality.memorisation import (
    memorisation,
    memorisation_from_distances,
    nearest_distances,
)
from dcgan_tf.quality.nearest import nearest_neighbours

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def fashion():
    """256 training images and 64 test images of Fashion-MNIST."""
    train = load_images("fashion_mnist", DATA / "fashion-mnist", split="train")
    test = load_images("fashion_mnist", DATA / "fashion-mnist", split="test")
    return train, test


def test_copies_of_training_images_score_far_under_1(fashion):
    train, test = fashion
    rng = np.random.default_rng(0)
    picked = train[rng.choice(len(train), 32, replace=False)].astype(int)
    # A generator that copies: training images with 3 levels of noise.
    copies = np.clip(picked + rng.integers(-3, 4, picked.shape), 0, 255)
    result = memorisation(copies.astype(np.uint8), train, test[:32])
    assert result["ratio"] < 0.3
    assert result["copy_share"] == 1.0


def test_other_real_images_score_about_1(fashion):
    train, test = fashion
    result = memorisation(test[32:], train, test[:32])
    assert 0.8 < result["ratio"] < 1.25
    assert result["copy_share"] < 0.2
    # On colour photographs too: CIFAR-10's test split against its train one.
    cifar = load_images("cifar10", DATA / "cifar10", split="train")
    held = load_images("cifar10", DATA / "cifar10", split="test")
    assert 0.8 < memorisation(held[15:], cifar, held[:15])["ratio"] < 1.25


def test_the_distances_are_those_of_the_neighbours_command(fashion):
    train, test = fashion
    _, distances = nearest_neighbours(test[:8], train, k=1)
    np.testing.assert_array_equal(nearest_distances(test[:8], train), distances[:, 0])


def test_figures_from_distances():
    heldout = np.arange(1, 101, dtype=float)  # 5th percentile: 5.95
    result = memorisation_from_distances([1.0, 2.0, 50.0, 100.0], heldout)
    assert result["heldout_median"] == 50.5
    assert result["ratio"] == pytest.approx(26.0 / 50.5)
    assert result["threshold"] == pytest.approx(5.95)
    assert result["copy_share"] == 0.5
    with pytest.raises(ValueError, match="copies of training images"):
        memorisation_from_distances([1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="needs samples"):
        memorisation_from_distances([], [1.0])
