"""The probe's experiment: linear classifiers on D's features against the
baselines, on the same labelled draws (Radford et al. 2015, §5.1-5.2).

Methods: `dcgan` (the trained D's features), `pixels` (the raw images),
`untrained` (the same D with fresh weights, batch-norm statistics of the
data) and `supervised` (the same architecture trained on the labels alone).
"""

import dataclasses
import time

import keras
import numpy as np
from threadpoolctl import threadpool_limits

from dcgan_tf.probe import features as feature_lib
from dcgan_tf.probe.discriminator import block_layers, untrained_copy
from dcgan_tf.probe.linear import (
    C_VALUES,
    LabelError,
    apply_standardisation,
    draw_labels,
    select_and_fit,
    standardise,
)
from dcgan_tf.probe.supervised import Recipe, predict_classes, train_supervised

METHODS = ("dcgan", "pixels", "untrained", "supervised")
DRAWS = 3
# Training images whose statistics the batch norms take (labels unused).
BN_IMAGES = 10_000


@dataclasses.dataclass
class Row:
    """One method at one number of labels: its test accuracy on every draw."""

    method: str
    labels_per_class: int | None
    accuracies: list
    features: int | None = None
    c_values: list = dataclasses.field(default_factory=list)
    # Wall seconds of its fits and predictions (or trainings), every draw.
    seconds: float = 0.0

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies)) if len(self.accuracies) > 1 else 0.0

    def to_dict(self) -> dict:
        return {
            **dataclasses.asdict(self),
            "mean": self.mean,
            "std": self.std,
            "draws": len(self.accuracies),
        }


@dataclasses.dataclass
class Report:
    """Every row of a probe, with the settings that made it."""

    rows: list
    settings: dict

    def to_dict(self) -> dict:
        return {"settings": self.settings, "rows": [row.to_dict() for row in self.rows]}


def _copy_of(model: keras.Model) -> keras.Model:
    """A copy with the same weights, whose batch norms may change."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _feature_sets(
    model, train_images, test_images, methods, layers, grid, bn, seed, rows
):
    """Yields `(name, train_features, test_features, spans)`, one method at a
    time, so that only one method's features are held at once.

    Training features are of the images at the sorted indices `rows` only;
    the batch norms take the statistics of the images at `bn` (a subset of
    `rows`), and so does the standardisation of every column.
    """
    statistics = train_images[bn]
    positions = np.searchsorted(rows, bn)
    if len(rows) < len(train_images):
        train_images = train_images[rows]
    for name in ("dcgan", "untrained", "pixels"):
        if name not in methods:
            continue
        spans = {}
        if name == "pixels":
            train_features, test_features = (
                feature_lib.to_float(images).reshape(len(images), -1)
                for images in (train_images, test_images)
            )
        else:
            if name == "dcgan":
                network = _copy_of(model)
            else:
                network = untrained_copy(model, seed)
            feature_lib.recompute_batch_norm(network, statistics)
            spans = feature_lib.feature_spans(network, layers, grid)
            train_features, test_features = (
                feature_lib.extract_features(network, images, layers, grid)
                for images in (train_images, test_images)
            )
        mean, scale = standardise(train_features, positions)
        apply_standardisation(test_features, mean, scale)
        yield name, train_features, test_features, spans
        # Free this method's features before the next one's are made.
        del train_features, test_features


def probe(
    model: keras.Model,
    train: tuple,
    test: tuple,
    labels_per_class=(100, None),
    methods=METHODS,
    layers=None,
    per_layer: bool = False,
    grid: int = feature_lib.GRID,
    draws: int = DRAWS,
    seed: int = 0,
    classifier: str = "logistic",
    c_values=C_VALUES,
    recipe: Recipe | None = None,
    threads: int | None = None,
    progress=None,
) -> Report:
    """Measures D's features and the baselines on the same labelled draws.

    Args:
        model: the discriminator (see `load_discriminator`); not changed.
        train: `(images, labels)` of the training split: uint8 images of D's
            shape and int classes. The draws, the validation splits and the
            batch-norm statistics come from it alone.
        test: `(images, labels)` of the test split, only ever predicted.
        labels_per_class: numbers of labels per class to measure, None for
            all (one draw: every draw would be the same).
        methods: any of `METHODS`.
        layers: block outputs to use (default: all, see `block_layers`).
        per_layer: also measure each layer of `dcgan` alone.
        grid: side of the max-pooled grid.
        draws: random draws of labels (seeds `seed`, `seed + 1`, ...).
        seed: the first draw's seed; also of the untrained weights.
        classifier: `logistic` or `svm` (see `linear.make_classifier`).
        c_values: inverse regularisation strengths tried on validation.
        recipe: the supervised baseline's training recipe (default: `Recipe()`).
        threads: BLAS threads of the linear fits (None: the library's
            default, all cores); 1 is much faster on a machine that other
            jobs keep busy, where threads wait on each other.
        progress: called with a line of text after each fit, or None.

    Returns:
        A `Report`, one row per method (and layer) and number of labels.

    Raises:
        ValueError: for images of another shape than D takes, an unknown
            method or layer, fewer than 2 labels per class, or too few images
            of a class for a draw (`LabelError`).
    """
    recipe = recipe or Recipe()
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise ValueError(
            f"Unknown method {', '.join(unknown)}; use {', '.join(METHODS)}."
        )
    (train_images, train_labels), (test_images, test_labels) = train, test
    for images in (train_images, test_images):
        feature_lib.check_images(model, images)
    layers = list(layers) if layers else block_layers(model)
    feature_lib.feature_model(model, layers)  # an unknown layer, before any work
    for per_class in labels_per_class:
        if per_class is not None and per_class < 2:
            raise LabelError(
                "Choosing C on a validation split needs at least 2 labels per "
                f"class, got {per_class}."
            )
    # Every draw, up front: too few labels fail before any work, and only the
    # drawn training images need features (all of them only for "all").
    chosen = {
        (per_class, draw): draw_labels(train_labels, per_class, seed + draw)
        for per_class in labels_per_class
        for draw in range(1 if per_class is None else draws)
    }
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    rng = np.random.default_rng(seed)
    bn = np.sort(rng.permutation(len(train_images))[:BN_IMAGES])
    # Only the drawn training images and those of the batch-norm statistics
    # need features (every one of them only for "all").
    rows = np.unique(np.concatenate([bn, *chosen.values()]))
    results, width = {}, None
    for name, train_features, test_features, spans in _feature_sets(
        model, train_images, test_images, methods, layers, grid, bn, seed, rows
    ):
        columns = {name: slice(None)}
        if name == "dcgan":
            width = train_features.shape[1]
            if per_layer and len(spans) > 1:
                columns.update({f"dcgan:{n}": slice(*s) for n, s in spans.items()})
        for per_class in labels_per_class:
            for method, cut in columns.items():
                row = Row(method, per_class, [], train_features[:, cut].shape[1])
                for draw in range(1 if per_class is None else draws):
                    start = time.perf_counter()
                    drawn = np.searchsorted(rows, chosen[per_class, draw])
                    fitted, predicted = _fit_and_predict(
                        train_features,
                        test_features,
                        drawn,
                        cut,
                        train_labels[chosen[per_class, draw]],
                        seed + draw,
                        classifier,
                        c_values,
                        threads,
                    )
                    row.accuracies.append(float(np.mean(predicted == test_labels)))
                    row.c_values.append(fitted.c)
                    row.seconds += time.perf_counter() - start
                    _say(progress, row, per_class)
                results[per_class, method] = row
        del train_features, test_features
    order = list(dict.fromkeys(method for _, method in results))
    rows_out = []
    for per_class in labels_per_class:
        # The table's order: whole features first, then each layer alone.
        found = sorted(
            (key for key in results if key[0] == per_class),
            key=lambda key: (":" in key[1], order.index(key[1])),
        )
        rows_out.extend(results[key] for key in found)
        if "supervised" in methods:
            row = Row("supervised", per_class, [])
            for draw in range(1 if per_class is None else draws):
                start = time.perf_counter()
                drawn = chosen[per_class, draw]
                network = train_supervised(
                    model,
                    train_images[drawn],
                    train_labels[drawn],
                    num_classes,
                    seed + draw,
                    recipe,
                )
                predicted = predict_classes(network, test_images)
                row.accuracies.append(float(np.mean(predicted == test_labels)))
                row.seconds += time.perf_counter() - start
                _say(progress, row, per_class)
            rows_out.append(row)
    settings = {
        "layers": layers,
        "grid": grid,
        "features": width,
        "classifier": classifier,
        "c_values": list(c_values),
        "draws": draws,
        "seed": seed,
        "batch_norm_images": len(bn),
        "train_images": len(train_images),
        "test_images": len(test_images),
        "supervised_recipe": dataclasses.asdict(recipe),
    }
    return Report(rows_out, settings)


def _fit_and_predict(
    train_features, test_features, drawn, cut, labels, seed, kind, c_values, threads
):
    """One draw's classifier (`select_and_fit`) and its test predictions.

    The draw's rows are taken without a copy when they are all the rows, as
    for all labels, where a copy would be the largest array of the probe.
    """
    if cut != slice(None):
        train_features, test_features = train_features[:, cut], test_features[:, cut]
    if len(drawn) < len(train_features) or np.any(drawn != np.arange(len(drawn))):
        train_features = train_features[drawn]
    with threadpool_limits(threads):
        fitted = select_and_fit(train_features, labels, seed, kind, c_values)
        return fitted, fitted.classifier.predict(test_features)


def _say(progress, row, per_class):
    if progress is not None:
        labels = "all" if per_class is None else per_class
        progress(
            f"{row.method}, {labels} labels per class, draw "
            f"{len(row.accuracies)}: {100 * row.accuracies[-1]:.1f} %"
        )
