"""The linear classifier on features (Radford et al. 2015, §5.1: "a regularized
linear L2-SVM"), with its regularisation chosen on a validation split cut from
the labelled training images, and the draws of a few labels per class.

scikit-learn fits it: a well-kept, deterministic solver, where a hand-written
one would be one more thing to test. Nothing here ever receives a test image:
`select_and_fit` sees the labelled training draw only.
"""

import dataclasses

import numpy as np

CLASSIFIERS = ("logistic", "svm")
# Inverse regularisation strengths tried on the validation split, on
# standardised features (the paper chose the SVM's C the same way).
C_VALUES = (0.0001, 0.001, 0.01, 0.1, 1.0)
VALIDATION_FRACTION = 0.2
MAX_ITER = 300


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


def make_classifier(kind: str, c: float, seed: int):
    """A scikit-learn pipeline: standardise, then a linear classifier with
    L2 penalty of inverse strength `c` (`logistic`: multinomial logistic
    regression; `svm`: one-against-rest squared-hinge L2-SVM, the paper's)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    if kind == "logistic":
        linear = LogisticRegression(C=c, max_iter=MAX_ITER, random_state=seed)
    elif kind == "svm":
        linear = LinearSVC(C=c, dual="auto", max_iter=MAX_ITER * 10, random_state=seed)
    else:
        raise ValueError(f"classifier must be one of {', '.join(CLASSIFIERS)}.")
    return make_pipeline(StandardScaler(), linear)


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

    Args:
        features: float `(n, d)` of the labelled training images only.
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
    scores = {}
    with warnings.catch_warnings():
        # A few hundred iterations are within 0.1 % of convergence here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in sorted(c_values):
            classifier = make_classifier(kind, c, seed)
            classifier.fit(features[fit], labels[fit])
            scores[c] = float(
                np.mean(classifier.predict(features[held]) == labels[held])
            )
        best = max(scores, key=lambda c: (scores[c], -c))
        classifier = make_classifier(kind, best, seed).fit(features, labels)
    return Fitted(classifier, best, scores)
