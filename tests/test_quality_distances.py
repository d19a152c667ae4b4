"""FID, KID and IS equal their closed forms and hand-computed values."""

import numpy as np
import pytest

from dcgan_tf.quality.distances import (
    RunningStats,
    frechet_distance,
    inception_score,
    kernel_distance,
)


def test_frechet_distance_equals_the_closed_form_of_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mean1, mean2 = rng.normal(size=6), rng.normal(size=6)
    var1, var2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = np.sum((mean1 - mean2) ** 2) + np.sum(
        var1 + var2 - 2 * np.sqrt(var1 * var2)
    )
    distance = frechet_distance(mean1, np.diag(var1), mean2, np.diag(var2))
    assert distance == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_scaled_full_covariances():
    # C2 = a^2 C1 gives tr sqrt(C1 C2) = a tr C1, so d^2 = (1 - a)^2 tr C1.
    rng = np.random.default_rng(1)
    root = rng.normal(size=(5, 5))
    cov = root @ root.T
    mean = rng.normal(size=5)
    scaled = frechet_distance(mean, cov, mean, 9 * cov)
    assert scaled == pytest.approx(4 * np.trace(cov), rel=1e-9)
    assert frechet_distance(mean, cov, mean, cov) == pytest.approx(0, abs=1e-9)


def test_kid_is_unbiased_on_equal_distributions_and_positive_on_shifted_ones():
    rng = np.random.default_rng(2)
    equal = [
        kernel_distance(
            rng.normal(size=(100, 8)), rng.normal(size=(100, 8)), 5, seed=i
        )[0]
        for i in range(40)
    ]
    standard_error = np.std(equal) / np.sqrt(len(equal))
    assert abs(np.mean(equal)) < 3 * standard_error
    assert min(equal) < 0  # unbiased: single estimates fall on both sides of 0
    shifted, spread = kernel_distance(
        rng.normal(size=(100, 8)), rng.normal(0.5, 1, size=(100, 8)), 20
    )
    assert shifted > 10 * standard_error and spread >= 0


def test_kid_needs_two_images_in_each_set():
    with pytest.raises(ValueError, match="at least 2 images"):
        kernel_distance(np.zeros((1, 4)), np.zeros((5, 4)))


def test_inception_score_equals_hand_computed_values():
    uniform = np.full((40, 10), 0.1)
    assert inception_score(uniform)[0] == pytest.approx(1.0)
    one_hot = np.eye(4)[np.arange(40) % 4]
    assert inception_score(one_hot, splits=1) == pytest.approx((4.0, 0.0))
    # Two images, p = (0.9, 0.1) and (0.1, 0.9): marginal (0.5, 0.5), so
    # KL = 0.9 log 1.8 + 0.1 log 0.2 for each.
    table = np.array([[0.9, 0.1], [0.1, 0.9]])
    expected = np.exp(0.9 * np.log(1.8) + 0.1 * np.log(0.2))
    assert inception_score(table, splits=1)[0] == pytest.approx(expected)


def test_running_statistics_in_batches_equal_one_pass():
    features = np.random.default_rng(3).normal(5.0, 2.0, size=(503, 16))
    stats = RunningStats()
    for start in range(0, len(features), 7):
        stats.update(features[start : start + 7])
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        stats.covariance, np.cov(features, rowvar=False), atol=1e-11
    )
