"""Improved precision and recall of generated features against real ones
(Kynkäänniemi, Karras, Laine, Lehtinen and Aila 2019, "Improved Precision
and Recall Metric for Assessing Generative Models", NeurIPS).

FID mixes two failures into one number: samples that do not look real, and
real images the generator never makes. The paper separates them with
k-nearest-neighbour manifolds in a feature space:

- the manifold of a set is the union of balls, one around each of its
  features, whose radius is the distance to that feature's `k`-th nearest
  neighbour in the same set (the feature itself not counted);
- precision: the share of generated features inside the real manifold
  (realism: samples lie where real images are);
- recall: the share of real features inside the generated manifold
  (coverage: the real images' variety is made).

`K` = 3 is the paper's choice (its section 3: a small neighbourhood follows
the manifold closely; its figures use k = 3 and StyleGAN2-ADA's
`metrics/precision_recall.py` keeps `nhood_size=3`). The distances are
Euclidean; they are computed in blocks of at most `CHUNK` x `CHUNK` pairs
(StyleGAN2-ADA uses 10,000 x 10,000 on a GPU; 4,096 keeps a block of
float64 distances at 128 MiB on a laptop), so memory stays bounded whatever
the sizes; the result does not depend on the block size.
"""

import numpy as np

# Their names among the metrics of `evaluate` and the quality monitor.
NAMES = ("precision", "recall")
# Neighbourhood size of the paper.
K = 3
# Rows and columns of one block of distances.
CHUNK = 4096


def _as_features(x, name: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or not len(x):
        raise ValueError(f"{name} must be a non-empty (n, d) array, got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds NaN or infinite values.")
    return x


def _squared_distances(a, b, a_norms, b_norms) -> np.ndarray:
    """|a - b|^2 for every pair of rows, never below 0."""
    squared = a_norms[:, None] + b_norms[None, :] - 2.0 * (a @ b.T)
    return np.maximum(squared, 0.0)


def kth_neighbour_radii(features, k: int = K, chunk: int = CHUNK) -> np.ndarray:
    """Each feature's distance to its `k`-th nearest other feature of the set.

    Args:
        features: `(n, d)` array, n > k.
        k: which neighbour.
        chunk: rows and columns of one block of distances.

    Returns:
        float64 `(n,)` radii.

    Raises:
        ValueError: for a set of k or fewer features.
    """
    x = _as_features(features, "features")
    if not 1 <= k < len(x):
        raise ValueError(
            f"k must be in 1..{len(x) - 1} for {len(x)} features, got {k}."
        )
    norms = np.sum(x**2, axis=1)
    radii = np.empty(len(x))
    for start in range(0, len(x), chunk):
        rows = slice(start, start + chunk)
        # The k + 1 smallest so far: the feature itself is one of them (0).
        best = np.full((len(x[rows]), 0), np.inf)
        for column in range(0, len(x), chunk):
            columns = slice(column, column + chunk)
            block = _squared_distances(x[rows], x[columns], norms[rows], norms[columns])
            # A feature's distance to itself is 0 exactly, not a rounding error.
            own = np.arange(start, start + len(block))
            inside = (own >= column) & (own < column + block.shape[1])
            block[np.nonzero(inside)[0], own[inside] - column] = 0.0
            best = np.concatenate([best, block], axis=1)
            if best.shape[1] > k + 1:
                best = np.partition(best, k, axis=1)[:, : k + 1]
        radii[rows] = np.sqrt(np.sort(best, axis=1)[:, k])
    return radii


def manifold_coverage(queries, features, radii, chunk: int = CHUNK) -> np.ndarray:
    """Which queries lie inside the manifold of `features`: within `radii[j]`
    of some `features[j]`.

    Returns:
        bool `(n_queries,)`.
    """
    q = _as_features(queries, "queries")
    x = _as_features(features, "features")
    if q.shape[1] != x.shape[1]:
        raise ValueError(
            f"Features of {q.shape[1]} and {x.shape[1]} dimensions cannot be compared."
        )
    squared_radii = np.asarray(radii, np.float64) ** 2
    q_norms, x_norms = np.sum(q**2, axis=1), np.sum(x**2, axis=1)
    inside = np.zeros(len(q), bool)
    for start in range(0, len(q), chunk):
        rows = slice(start, start + chunk)
        for column in range(0, len(x), chunk):
            columns = slice(column, column + chunk)
            open_rows = ~inside[rows]
            if not open_rows.any():
                break
            block = _squared_distances(
                q[rows], x[columns], q_norms[rows], x_norms[columns]
            )
            inside[rows] |= np.any(block <= squared_radii[None, columns], axis=1)
    return inside


def precision_recall(real, generated, k: int = K, chunk: int = CHUNK) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Args:
        real: `(n, d)` features of real images (n > k).
        generated: `(m, d)` features of generated images (m > k).
        k: neighbourhood size (3 in the paper).
        chunk: rows and columns of one block of distances.

    Returns:
        `{"precision": p, "recall": r}`, each in [0, 1]: p the share of
        generated features inside the real manifold, r the share of real
        features inside the generated manifold. Deterministic.

    Raises:
        ValueError: for arrays that are not (n, d), of different d, with NaN,
            or of k or fewer rows.
    """
    real = _as_features(real, "real")
    generated = _as_features(generated, "generated")
    if real.shape[1] != generated.shape[1]:
        raise ValueError(
            f"Real features have {real.shape[1]} dimensions, generated ones "
            f"{generated.shape[1]}."
        )
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}.")
    real_radii = kth_neighbour_radii(real, k, chunk)
    generated_radii = kth_neighbour_radii(generated, k, chunk)
    precision = manifold_coverage(generated, real, real_radii, chunk).mean()
    recall = manifold_coverage(real, generated, generated_radii, chunk).mean()
    return {"precision": float(precision), "recall": float(recall)}
