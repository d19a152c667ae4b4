"""The distances between two sets of image features, in numpy.

Fréchet Inception Distance: Heusel et al. (2017); Kernel Inception Distance:
Bińkowski et al. (2018); Inception Score: Salimans et al. (2016). Nothing here
knows where the features come from (`dcgan_tf.quality.features`).
"""

import numpy as np

# The metrics these distances give, by the names the commands use.
METRICS = ("fid", "kid", "is")


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """Fréchet distance between two Gaussians (the FID of their features).

    d^2 = |m1 - m2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)). The trace of the
    matrix square root equals that of the symmetric PSD matrix
    (C1^(1/2) C2 C1^(1/2))^(1/2), whose eigenvalues `eigh` finds exactly,
    which avoids scipy's `sqrtm` and its complex round-off.

    Args:
        mean1, mean2: `(d,)` feature means.
        cov1, cov2: `(d, d)` feature covariances.

    Returns:
        The squared Fréchet distance, a float >= 0.
    """
    mean1, mean2 = np.asarray(mean1, np.float64), np.asarray(mean2, np.float64)
    values, vectors = np.linalg.eigh(np.asarray(cov1, np.float64))
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = root1 @ np.asarray(cov2, np.float64) @ root1
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None))
    distance = (
        np.sum((mean1 - mean2) ** 2)
        + np.trace(cov1)
        + np.trace(cov2)
        - 2 * trace_root.sum()
    )
    return float(max(distance, 0.0))


def kernel_distance(
    features1, features2, num_subsets: int = 100, subset_size: int = 1000, seed=0
) -> tuple[float, float]:
    """Kernel distance (KID): unbiased MMD^2 with the cubic polynomial kernel.

    k(x, y) = (x.y / d + 1)^3 as Bińkowski et al. (2018), estimated on
    `num_subsets` random subsets and averaged. Unbiased means the estimate
    of two samples of one distribution averages 0, so single values can be
    slightly negative.

    Args:
        features1, features2: `(n1, d)` and `(n2, d)` features.
        num_subsets: number of subsets drawn.
        subset_size: images per subset, lowered to the smaller sample size.
        seed: seed of the subset draws.

    Returns:
        `(mean, std)` of the subset estimates.

    Raises:
        ValueError: when either set has fewer than 2 images.
    """
    features1, features2 = np.asarray(features1), np.asarray(features2)
    size = min(subset_size, len(features1), len(features2))
    if size < 2:
        raise ValueError("KID needs at least 2 images in each set.")
    dim = features1.shape[1]
    rng = np.random.default_rng(seed)

    def kernel(a, b):
        # float32 products (3x faster on CPUs, ~1e-7 relative error), cubed
        # and summed in float64 where the small differences of KID live.
        return (np.asarray(a @ b.T, np.float64) / dim + 1.0) ** 3

    estimates = []
    for _ in range(num_subsets):
        x = features1[rng.choice(len(features1), size, replace=False)]
        y = features2[rng.choice(len(features2), size, replace=False)]
        x, y = x.astype(np.float32), y.astype(np.float32)
        k_xx, k_yy = kernel(x, x), kernel(y, y)
        # Leaving out the diagonal (k(x, x)) is what makes the estimate unbiased.
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (
            size * (size - 1)
        )
        estimates.append(within - 2 * kernel(x, y).mean())
    return float(np.mean(estimates)), float(np.std(estimates))


def inception_score(probabilities, splits: int = 10, seed=0) -> tuple[float, float]:
    """Inception Score exp(E_x KL(p(y|x) || p(y))), over splits.

    Args:
        probabilities: `(n, classes)` class probabilities of each image.
        splits: the images are shuffled (so class-sorted data sets score
            fairly) and cut into this many parts, each scored on its own
            (Salimans et al. use 10 splits of 5,000).
        seed: seed of the shuffle.

    Returns:
        `(mean, std)` over the splits: 1 for uniform predictions, k for
        confident predictions spread evenly over k classes.
    """
    probabilities = np.asarray(probabilities, np.float64)
    probabilities = probabilities[
        np.random.default_rng(seed).permutation(len(probabilities))
    ]
    tiny = np.finfo(np.float64).tiny
    scores = []
    for part in np.array_split(probabilities, min(splits, len(probabilities))):
        marginal = part.mean(axis=0, keepdims=True)
        log_ratio = np.log(np.maximum(part, tiny)) - np.log(np.maximum(marginal, tiny))
        kl = np.sum(np.where(part > 0, part * log_ratio, 0.0), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


class RunningStats:
    """Mean and covariance of features that arrive in batches, in float64.

    What FID needs of a set of images, without keeping their features: 50,000
    images never sit in memory. Sums are taken around the first batch's mean,
    which keeps the sum-of-outer-products formula free of cancellation.
    """

    def __init__(self):
        self.count = 0
        self._shift = self._sum = self._outer = None

    def update(self, features) -> None:
        features = np.asarray(features, np.float64)
        if self._shift is None:
            self._shift = features.mean(axis=0)
            self._sum = np.zeros_like(self._shift)
            self._outer = np.zeros((len(self._shift), len(self._shift)))
        centred = features - self._shift
        self.count += len(features)
        self._sum += centred.sum(axis=0)
        self._outer += centred.T @ centred

    @property
    def mean(self) -> np.ndarray:
        return self._shift + self._sum / self.count

    @property
    def covariance(self) -> np.ndarray:
        """The unbiased (n - 1) sample covariance, as `np.cov`."""
        mean = self._sum / self.count
        return (self._outer - self.count * np.outer(mean, mean)) / (self.count - 1)
