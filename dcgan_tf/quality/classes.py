"""Per-class measures of a conditional generator: does it draw the class it
is asked for, and how well, class by class?

Class consistency is the share of generated images that the shipped
classifier (`dcgan_tf.quality.classifiers`) assigns to the class they were
asked for; the classifier's own accuracy on real test images of each class is
beside it as the ceiling (a perfect generator scores that, not 100 %). FID per
class compares each class's samples with the real images of that class.
"""

import numpy as np

from dcgan_tf.quality.distances import frechet_distance
from dcgan_tf.quality.features import Features


def _fid(real_features, fake_features) -> float | None:
    if len(real_features) < 2 or len(fake_features) < 2:
        return None
    return frechet_distance(
        real_features.mean(axis=0),
        np.cov(real_features, rowvar=False),
        fake_features.mean(axis=0),
        np.cov(fake_features, rowvar=False),
    )


def measure_classes(
    real: Features, real_labels, fake: Features, fake_labels, class_names
) -> dict:
    """Class consistency and FID of each class.

    Args:
        real: the real images' features, kept (`keep=True`), with class
            probabilities when the network is the data set's classifier.
        real_labels: the real images' classes, int `(n_real,)`.
        fake: the generated images' features, kept.
        fake_labels: the classes the generated images were asked for.
        class_names: the names of the classes, in label order.

    Returns:
        A JSON-ready dict: `class_consistency` (overall) and
        `class_consistency_min`, `classifier_accuracy` (on the real images,
        the ceiling), and `per_class`: by name, `consistency`,
        `classifier_accuracy`, `fid`, `num_samples` and `num_real`. The
        consistency figures are left out when the features have no class
        probabilities of these classes (InceptionV3's are ImageNet's).
    """
    real_labels, fake_labels = np.asarray(real_labels), np.asarray(fake_labels)
    probabilities = (real.probabilities, fake.probabilities)
    judged = all(
        p is not None and p.shape[-1] == len(class_names) for p in probabilities
    )
    real_features, fake_features = real.features, fake.features
    per_class = {}
    for index, name in enumerate(class_names):
        is_real, is_fake = real_labels == index, fake_labels == index
        entry = {
            "fid": _fid(real_features[is_real], fake_features[is_fake]),
            "num_samples": int(is_fake.sum()),
            "num_real": int(is_real.sum()),
        }
        if judged:
            real_guess = probabilities[0][is_real].argmax(axis=-1)
            fake_guess = probabilities[1][is_fake].argmax(axis=-1)
            entry["consistency"] = _share(fake_guess == index)
            entry["classifier_accuracy"] = _share(real_guess == index)
        per_class[str(name)] = entry
    result = {"per_class": per_class}
    if judged:
        result["class_consistency"] = _share(
            probabilities[1].argmax(axis=-1) == fake_labels
        )
        result["class_consistency_min"] = min(
            e["consistency"] for e in per_class.values() if e["consistency"] is not None
        )
        result["classifier_accuracy"] = _share(
            probabilities[0].argmax(axis=-1) == real_labels
        )
    return result


def _share(hits) -> float | None:
    return float(np.mean(hits)) if len(hits) else None
