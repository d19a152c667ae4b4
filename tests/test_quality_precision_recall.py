"""Improved precision and recall (Kynkäänniemi et al. 2019): 1 and 1 for the
same set, high precision and low recall for a collapsed generator, 0
precision for far-away samples; the same as a brute-force implementation,
whatever the block size."""

import numpy as np
import pytest

from dcgan_tf.quality.precision_recall import (
    kth_neighbour_radii,
    manifold_coverage,
    precision_recall,
)


def brute_force(real, fake, k=3):
    """The paper's definition, written out with a full distance matrix."""

    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=2)
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    def inside(queries, x, r):
        d = np.linalg.norm(queries[:, None] - x[None], axis=2)
        return np.mean(np.any(d <= r[None], axis=1))

    return inside(fake, real, radii(real)), inside(real, fake, radii(fake))


def test_the_same_set_scores_1_and_1():
    x = np.random.default_rng(0).normal(size=(300, 16))
    assert precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}


def test_two_samples_of_one_distribution_score_high():
    rng = np.random.default_rng(1)
    result = precision_recall(rng.normal(size=(500, 8)), rng.normal(size=(500, 8)))
    assert result["precision"] > 0.7 and result["recall"] > 0.7


def test_a_generator_on_one_of_two_modes_is_precise_without_recall():
    rng = np.random.default_rng(2)
    real = np.concatenate(
        [rng.normal(-5, 1, size=(300, 4)), rng.normal(5, 1, size=(300, 4))]
    )
    # A collapsed generator: a tight cluster at the centre of one mode.
    fake = rng.normal(5, 0.3, size=(300, 4))
    result = precision_recall(real, fake)
    assert result["precision"] > 0.9
    assert result["recall"] <= 0.5


def test_far_away_samples_have_no_precision():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(200, 8))
    result = precision_recall(real, rng.normal(50, 1, size=(200, 8)))
    assert result == {"precision": 0.0, "recall": 0.0}


@pytest.mark.parametrize("chunk", [7, 64, 4096])
def test_equals_brute_force_at_any_block_size(chunk):
    rng = np.random.default_rng(4)
    real = rng.normal(size=(150, 5))
    fake = rng.normal(0.5, 1.3, size=(120, 5))
    expected = brute_force(real, fake)
    result = precision_recall(real, fake, chunk=chunk)
    assert (result["precision"], result["recall"]) == pytest.approx(expected)
    assert 0 < expected[0] < 1 and 0 < expected[1] < 1  # a test that can fail
    d = np.linalg.norm(real[:, None] - real[None], axis=2)
    np.testing.assert_allclose(
        kth_neighbour_radii(real, 3, chunk), np.sort(d, axis=1)[:, 3], rtol=1e-9
    )


def test_duplicates_and_bad_input():
    # Duplicated features: radius 0 still contains the copies.
    x = np.repeat(np.eye(3), 4, axis=0)
    assert np.all(kth_neighbour_radii(x) == 0)
    assert manifold_coverage(x, x, np.zeros(len(x))).all()
    with pytest.raises(ValueError, match="dimensions"):
        precision_recall(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="k must be"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(np.full((10, 2), np.nan), np.zeros((10, 2)))
