"""The representation probe's library: features of the documented shape, a
classifier that never sees a test image, draws reproducible with a seed, and
discriminators loaded from runs and files (or refused in one line)."""

from pathlib import Path

import keras
import numpy as np
import pytest

from dcgan_tf import probe
from dcgan_tf.model.networks import build_discriminator
from dcgan_tf.probe import features, linear, supervised

DATA = Path(__file__).parent / "data"
TINY_RECIPE = probe.Recipe(max_epochs=2, patience=1, batch_size=16)


@pytest.fixture(scope="module")
def fashion():
    from dcgan_tf.data import load_labeled

    train = load_labeled("fashion_mnist", DATA / "fashion-mnist", "train")[:2]
    test = load_labeled("fashion_mnist", DATA / "fashion-mnist", "test")[:2]
    return train, test


def test_features_are_each_block_max_pooled_to_4x4_and_concatenated():
    model = build_discriminator((28, 28, 1), 8)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), np.uint8)
    found = probe.extract_features(model, images, batch_size=2)
    # block1: (14, 14, 8), block2: (7, 7, 16), each pooled to 4 x 4.
    assert found.shape == (5, 16 * (8 + 16)) and found.dtype == np.float32
    spans = probe.feature_spans(model)
    assert spans == {"block1_lrelu": (0, 128), "block2_lrelu": (128, 384)}
    block2 = probe.extract_features(model, images, layers=["block2_lrelu"])
    np.testing.assert_allclose(found[:, 128:], block2, rtol=1e-5, atol=1e-6)
    # By hand: block 2's map, max over rows 0-1 and columns 0-1 (7 / 4 cells).
    maps = keras.Model(model.inputs[0], model.get_layer("block2_lrelu").output)(
        features.to_float(images)
    )
    maps = keras.ops.convert_to_numpy(maps)
    np.testing.assert_allclose(
        block2[:, :16], maps[:, 0:2, 0:2, :].max(axis=(1, 2)), rtol=1e-5, atol=1e-6
    )
    assert probe.extract_features(model, images, grid=2).shape == (5, 4 * 24)


def test_a_conditional_discriminator_is_probed_through_its_image_branch():
    model = build_discriminator((32, 32, 3), 8, num_classes=10)
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), np.uint8)
    assert probe.extract_features(model, images).shape == (3, 16 * (8 + 16 + 32))
    fresh = probe.untrained_copy(model, seed=0)  # the baselines work on it too
    assert probe.extract_features(fresh, images).shape == (3, 896)
    classifier = supervised.build_classifier(model, 10, seed=0)
    assert len(classifier.inputs) == 1 and classifier.outputs[0].shape[-1] == 10


def test_pooling_covers_maps_the_grid_does_not_divide():
    maps = np.arange(7 * 7, dtype="float32").reshape(1, 7, 7, 1)
    pooled = keras.ops.convert_to_numpy(probe.pool_to_grid(maps))[0, :, :, 0]
    # Cells span rows/columns 0-1, 1-3, 3-5, 5-6: the maximum is bottom right.
    assert pooled.tolist()[0] == [8, 10, 12, 13] and pooled[3, 3] == 48


def test_batch_norm_statistics_are_those_of_the_data():
    model = build_discriminator((28, 28, 1), 8)
    images = np.random.default_rng(1).integers(0, 256, (6, 28, 28, 1), np.uint8)
    probe.recompute_batch_norm(model, images, batch_size=4)
    norm = model.get_layer("block2_bn")
    inputs = keras.Model(model.inputs[0], model.get_layer("block2_conv").output)
    x = keras.ops.convert_to_numpy(inputs(features.to_float(images)))
    mean = keras.ops.convert_to_numpy(norm.moving_mean)
    variance = keras.ops.convert_to_numpy(norm.moving_variance)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(variance, x.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-6)


def test_draws_take_n_per_class_reproducibly_and_refuse_too_many():
    labels = np.repeat(np.arange(3), 10)
    chosen = probe.draw_labels(labels, 4, seed=5)
    assert np.bincount(labels[chosen]).tolist() == [4, 4, 4]
    assert np.array_equal(chosen, probe.draw_labels(labels, 4, seed=5))
    assert not np.array_equal(chosen, probe.draw_labels(labels, 4, seed=6))
    with pytest.raises(probe.LabelError, match="at most 10"):
        probe.draw_labels(labels, 11, seed=0)
    fit, held = linear.split_validation(labels[chosen], seed=0)
    assert not set(fit) & set(held) and len(fit) + len(held) == 12
    assert set(labels[chosen][held]) == set(labels[chosen][fit]) == {0, 1, 2}


def test_no_test_image_reaches_fitting_or_model_selection(fashion, monkeypatch):
    """Records what every classifier is fitted and validated on; a test image
    there (a leak) fails the test. The test images are made unlike every
    training image, so equal rows mean the same image."""
    (train_images, train_labels), (test_images, test_labels) = fashion
    test_images = 255 - test_images[:20]  # no training image is inverted
    calls = []  # (kind, classifier, rows)
    make = linear.make_classifier

    def recording(kind, c, seed):
        classifier = make(kind, c, seed)
        fit, predict = classifier.fit, classifier.predict

        def fit_(x, y, **options):
            calls.append(("fit", classifier, np.asarray(x)))
            return fit(x, y, **options)

        def predict_(x):
            calls.append(("predict", classifier, np.asarray(x)))
            return predict(x)

        classifier.fit, classifier.predict = fit_, predict_
        return classifier

    monkeypatch.setattr(linear, "make_classifier", recording)
    seen_by_network = []
    monkeypatch.setattr(
        supervised,
        "_fit",
        lambda model, x, y, validation, **kw: seen_by_network.extend(
            [x, validation[0]]
        ),
    )
    report = probe.probe(
        build_discriminator((28, 28, 1), 8),
        (train_images, train_labels),
        (test_images, test_labels[:20]),
        labels_per_class=[5],
        methods=["pixels", "supervised"],
        draws=2,
        c_values=[0.01, 1.0],
        recipe=TINY_RECIPE,
        threads=1,
    )
    # The classifier sees pixels standardised by the training images'
    # statistics (all of them here: fewer than the batch-norm sample).
    pixels = features.to_float(train_images).reshape(len(train_images), -1)
    mean, scale = linear.standardise(pixels, np.arange(len(pixels)))
    test_rows = features.to_float(test_images).reshape(20, -1)
    linear.apply_standardisation(test_rows, mean, scale)

    def has_test(rows):
        rows = np.asarray(rows, np.float32).reshape(len(rows), -1)
        distances = ((rows[:, None, :] - test_rows[None]) ** 2).mean(axis=2)
        return bool(np.any(distances < 1e-6))

    assert not any(has_test(rows) for kind, _, rows in calls if kind == "fit")
    # Only the final classifier of each draw sees test images, once, after its
    # last fit (the one on every labelled image, C chosen).
    tested = [
        (c, rows) for kind, c, rows in calls if kind == "predict" and has_test(rows)
    ]
    assert len(tested) == 2 and all(len(rows) == 20 for _, rows in tested)
    for classifier, _ in tested:
        own = [(kind, rows) for kind, c, rows in calls if c is classifier]
        assert [kind for kind, _ in own[-2:]] == ["fit", "predict"]
        assert not any(has_test(rows) for _, rows in own[:-1])
    assert all(not has_test(x.reshape(len(x), -1)) for x in seen_by_network)
    assert len(seen_by_network) == 4  # fitting and validation images, 2 draws
    assert [row.method for row in report.rows] == ["pixels", "supervised"]


def test_results_are_reproducible_with_a_seed(fashion):
    model = build_discriminator((28, 28, 1), 8)
    train, test = fashion

    def run(seed):
        return probe.probe(
            model,
            train,
            test,
            labels_per_class=[4, None],
            methods=["dcgan", "untrained"],
            draws=2,
            seed=seed,
            c_values=[0.1],
            threads=1,
        ).to_dict()["rows"]

    def results(rows):  # all but the wall time
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    first = results(run(3))
    assert first == results(run(3))
    assert [row["accuracies"] for row in first] != [row["accuracies"] for row in run(4)]
    counts = [(row["method"], row["labels_per_class"], row["draws"]) for row in first]
    assert counts == [
        ("dcgan", 4, 2),
        ("untrained", 4, 2),
        ("dcgan", None, 1),
        ("untrained", None, 1),
    ]
    assert all(0.0 <= row["mean"] <= 1.0 for row in first)


def test_the_supervised_baseline_learns_from_the_labels(fashion):
    (images, labels), (test_images, test_labels) = fashion
    model = build_discriminator((28, 28, 1), 8)
    network = probe.train_supervised(
        model, images, labels, 10, seed=0, recipe=probe.Recipe(max_epochs=8)
    )
    accuracy = np.mean(supervised.predict_classes(network, test_images) == test_labels)
    assert accuracy > 0.3  # chance is 0.1


def test_a_discriminator_loads_from_its_run_and_from_a_keras_file(trained_run):
    from_run = probe.load_discriminator(trained_run)
    from_file = probe.load_discriminator(trained_run / "discriminator.keras")
    assert from_run.epoch == 2 and from_run.config.dataset == "fashion_mnist"
    assert from_file.config is not None and from_file.image_shape == (28, 28, 1)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1), np.uint8)
    np.testing.assert_allclose(
        probe.extract_features(from_run.model, images),
        probe.extract_features(from_file.model, images),
        rtol=1e-5,
        atol=1e-6,
    )
    fresh = probe.untrained_copy(from_run.model, seed=0)
    assert not np.allclose(
        probe.extract_features(fresh, images),
        probe.extract_features(from_run.model, images),
    )


@pytest.mark.parametrize(
    "name, message",
    [
        ("generator.keras", "is a generator"),
        ("missing", "No such run directory"),
        ("checkpoint_epoch_0002.weights.h5", "holds weights only"),
    ],
)
def test_what_is_not_a_discriminator_is_refused_saying_why(trained_run, name, message):
    with pytest.raises((ValueError, OSError), match=message):
        probe.load_discriminator(trained_run / name)


def test_images_of_another_shape_are_refused():
    model = build_discriminator((28, 28, 1), 8)
    with pytest.raises(
        ValueError, match="are 32x32x3 but this discriminator takes 28x28x1"
    ):
        probe.extract_features(model, np.zeros((2, 32, 32, 3), np.uint8))


def test_choosing_c_learns_from_the_fitting_rows_alone():
    """The selection fits weigh the validation rows zero instead of copying
    the fitting rows out: they must score as cold fits on a copy would, and a
    change to the validation rows must not change what is learnt."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    x = rng.normal(size=(120, 12)).astype(np.float32)
    x[:, :3] += 2.0 * np.eye(3, dtype=np.float32)[labels]
    c_values = [0.001, 0.01, 0.1, 1.0]
    fitted = linear.select_and_fit(x, labels, seed=0, c_values=c_values)
    fit, held = linear.split_validation(labels, seed=0)
    for c in c_values:
        cold = LogisticRegression(C=c, max_iter=1000, tol=1e-8).fit(x[fit], labels[fit])
        expected = np.mean(cold.predict(x[held]) == labels[held])
        assert fitted.validation_accuracy[c] == pytest.approx(expected)
    spoiled = x.copy()
    spoiled[held] = 100.0  # only their predictions, not the fits, may change
    again = linear.select_and_fit(spoiled, labels, seed=0, c_values=[fitted.c])
    first = linear.make_classifier("logistic", fitted.c, 0)
    first.fit(x, labels, sample_weight=np.isin(np.arange(120), fit).astype("f4"))
    assert again.validation_accuracy[fitted.c] == pytest.approx(
        np.mean(first.predict(spoiled[held]) == labels[held])
    )
    assert fitted.c in c_values and fitted.classifier.coef_.dtype == np.float32


def test_standardising_is_in_place_by_the_statistics_of_the_given_rows():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    x[:, 3] = 7.0  # a constant column stays finite
    before = x.copy()
    mean, scale = linear.standardise(x, np.arange(0, 50, 2))
    np.testing.assert_allclose(mean[:3], before[::2, :3].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(x[::2, :3].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(x[::2, :3].std(axis=0), 1.0, rtol=1e-4)
    assert x.dtype == np.float32 and np.all(x[:, 3] == 0.0)


def test_all_labels_are_fitted_without_copying_the_features(monkeypatch):
    """With all labels the draw is every row: the largest array of the probe
    goes to the classifier as it is (a copy doubled the memory)."""
    from dcgan_tf.probe import evaluation

    seen = []

    class Constant:
        def predict(self, x):
            return np.zeros(len(x))

    def recording(x, labels, seed, kind, c_values):
        seen.append(x)
        return linear.Fitted(Constant(), 1, {})

    monkeypatch.setattr(evaluation, "select_and_fit", recording)
    train = np.zeros((10, 4), np.float32)
    evaluation._fit_and_predict(
        train, train, np.arange(10), slice(None), None, 0, "logistic", [1], 1
    )
    evaluation._fit_and_predict(
        train, train, np.arange(1, 10), slice(None), None, 0, "logistic", [1], 1
    )
    assert seen[0] is train and seen[1] is not train and len(seen[1]) == 9
