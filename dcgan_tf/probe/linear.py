"""The linear classifier on features (Radford et al. 2015, §5.1: "a regularized
linear L2-SVM"), with its regularisation chosen on a validation split cut from
the labelled training images, and the draws of a few labels per class.

scikit-learn fits it: a well-kept, deterministic solver, where a hand-written
one would be one more thing to test. Nothing here ever receives a test image:
`select_and_fit` sees the labelled training draw only.

It is made to fit all 50,000 CIFAR-10 labels in a few GB: features stay
float32 and are standardised in place (`standardise`), the validation rows
are left out of the selection fits by a zero weight rather than by a copy, and
each C's fit starts from the previous one's solution (a warm start).
"""

import dataclasses

import numpy as np

CLASSIFIERS = ("logistic", "svm")
# Inverse regularisation strengths tried on the validation split, on
# standardised features (the paper chose the SVM's C the same way).
C_VALUES = (0.0001, 0.001, 0.01, 0.1, 1.0)
VALIDATION_FRACTION = 0.2
# lbfgs iterations per fit. Fits are warm-started along the C path; capping
# them at 50 measured no worse than fits to convergence (300 iterations, cold)
# at 100 and 1,000 labels per class on CIFAR-10 (docs/representations.md), and
# is what lets 50,000 x 7,168 features fit in minutes.
MAX_ITER = 50
TOLERANCE = 1e-4
# liblinear's iterations for the SVM (not warm-started: it starts afresh).
SVM_MAX_ITER = 3000
# Rows standardised per step, so no float64 copy of the features is made.
CHUNK = 4096


class LabelError(ValueError):
    """Too few labelled images for the draw asked for."""


def draw_labels(labels: np.ndarray, per_class: int | None, seed: int) -> np.ndarray:
    """Indices of `per_class` training images of every class, at random.

    Args:
        labels: int `(n,)` class of every training image.
        per_class: images per class, or None for all of them.
        seed: the draw's seed.

    Returns:
        Sorted int indices into `labels`.

    Raises:
        LabelError: when a class has fewer images than `per_class`.
    """
    if per_class is None:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise LabelError(
                f"Class {label} has {len(members)} training images, fewer than "
                f"--labels-per-class {per_class}; ask for at most {len(members)}."
            )
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def split_validation(
    labels: np.ndarray, seed: int, fraction: float = VALIDATION_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Splits positions `0..len(labels)` into fitting and validation, per class.

    Every class with two or more images keeps at least one on each side.

    Returns:
        `(fit_positions, validation_positions)`, sorted.
    """
    rng = np.random.default_rng(seed)
    fit, validation = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        held = min(max(round(fraction * len(members)), 1), len(members) - 1)
        validation.append(members[:held])
        fit.append(members[held:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(validation))


def standardise(features: np.ndarray, rows: np.ndarray) -> tuple:
    """Standardises float32 `features` in place, by the mean and standard
    deviation of each column over `rows` (unlabelled training images).

    Args:
        features: float32 `(n, d)`, changed in place.
        rows: indices of the rows whose statistics to use.

    Returns:
        `(mean, scale)`, float64 `(d,)` each (a constant column gets scale 1).
    """
    total = np.zeros(features.shape[1])
    squares = np.zeros(features.shape[1])
    for start in range(0, len(rows), CHUNK):
        x = features[rows[start : start + CHUNK]].astype(np.float64)
        total += x.sum(axis=0)
        squares += (x * x).sum(axis=0)
    mean = total / len(rows)
    scale = np.sqrt(np.maximum(squares / len(rows) - mean * mean, 0.0))
    scale[scale < 1e-12] = 1.0
    apply_standardisation(features, mean, scale)
    return mean, scale


def apply_standardisation(features: np.ndarray, mean, scale) -> None:
    """`features = (features - mean) / scale`, in place, a chunk at a time."""
    mean, scale = mean.astype(np.float32), scale.astype(np.float32)
    for start in range(0, len(features), CHUNK):
        block = features[start : start + CHUNK]
        block -= mean
        block /= scale


def make_classifier(kind: str, c: float, seed: int):
    """A scikit-learn linear classifier with L2 penalty of inverse strength
    `c`, for standardised features (`logistic`: multinomial logistic
    regression by lbfgs, warm-started from its previous fit; `svm`:
    one-against-rest squared-hinge L2-SVM, the paper's)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if kind == "logistic":
        return LogisticRegression(
            C=c, max_iter=MAX_ITER, tol=TOLERANCE, warm_start=True, random_state=seed
        )
    if kind == "svm":
        return LinearSVC(C=c, dual="auto", max_iter=SVM_MAX_ITER, random_state=seed)
    raise ValueError(f"classifier must be one of {', '.join(CLASSIFIERS)}.")


@dataclasses.dataclass
class Fitted:
    """A classifier fitted on a labelled draw, and how its C was chosen."""

    classifier: object
    c: float
    validation_accuracy: dict


def select_and_fit(
    features: np.ndarray,
    labels: np.ndarray,
    seed: int,
    kind: str = "logistic",
    c_values=C_VALUES,
    fraction: float = VALIDATION_FRACTION,
) -> Fitted:
    """Chooses C on a validation split of the labelled draw, then refits on
    all of it.

    The fits that choose C give the validation rows a zero sample weight, so
    they learn from the fitting rows alone (as a fit on a copy of them would,
    without the copy); C rises from the smallest, each fit starting from the
    last one's solution, and the final fit from the chosen C's.

    Args:
        features: standardised float `(n, d)` of the labelled training images
            only (see `standardise`); float32 is kept as it is.
        labels: their int `(n,)` classes.
        seed: seed of the split and the solver.
        kind: `logistic` or `svm`.
        c_values: the inverse regularisation strengths to try.
        fraction: share of each class held out for validation.

    Returns:
        A `Fitted`: the classifier refitted on every labelled image with the
        C of the best validation accuracy (the smallest C among ties).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    fit, held = split_validation(labels, seed, fraction)
    weights = np.zeros(len(labels), np.float32)
    weights[fit] = 1.0
    held_features = features[held]
    scores, solutions = {}, {}
    classifier = make_classifier(kind, min(c_values), seed)
    with warnings.catch_warnings():
        # Within the tolerance of convergence is close enough for a probe.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in sorted(c_values):
            classifier.set_params(C=c)
            classifier.fit(features, labels, sample_weight=weights)
            predicted = classifier.predict(held_features)
            scores[c] = float(np.mean(predicted == labels[held]))
            solutions[c] = (classifier.coef_.copy(), classifier.intercept_.copy())
        best = max(scores, key=lambda c: (scores[c], -c))
        classifier.set_params(C=best)
        # warm_start reads coef_ and intercept_: start from the chosen C's.
        classifier.coef_, classifier.intercept_ = solutions[best]
        classifier.fit(features, labels)
    return Fitted(classifier, best, scores)
