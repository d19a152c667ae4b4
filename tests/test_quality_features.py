"""The feature networks: real images are nearer each other than degraded ones,
batching changes nothing, and missing weights are one clear error."""

from pathlib import Path

import keras
import numpy as np
import pytest

from dcgan_tf.data import load_images
from dcgan_tf.quality.classifiers import IMAGE_SHAPES, build_classifier
from dcgan_tf.quality.evaluation import compare
from dcgan_tf.quality.features import (
    INCEPTION_FILE,
    ClassifierFeatures,
    FeatureNetworkError,
    InceptionFeatures,
    feature_extractor,
)

DATA = Path(__file__).parent / "data"
DATA_DIRS = {"fashion_mnist": DATA / "fashion-mnist", "cifar10": DATA / "cifar10"}


def real_images(dataset, split):
    return load_images(dataset, data_dir=DATA_DIRS[dataset], split=split)


@pytest.fixture(scope="module", params=sorted(IMAGE_SHAPES))
def classifier_case(request):
    dataset = request.param
    return dataset, ClassifierFeatures(dataset), real_images(dataset, "train")


def blur(images):
    """A 5-tap binomial blur (sigma ~ 1 pixel) along both axes, in numpy."""
    kernel = np.array([1, 4, 6, 4, 1], np.float32) / 16
    out = images.astype(np.float32)
    for axis in (1, 2):
        padding = [(0, 0)] * 4
        padding[axis] = (2, 2)
        padded = np.pad(out, padding, mode="edge")
        size = out.shape[axis]
        out = sum(
            weight * np.take(padded, range(shift, shift + size), axis=axis)
            for shift, weight in enumerate(kernel)
        )
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def test_real_images_are_nearer_than_blurred_and_noise(classifier_case):
    dataset, features, train = classifier_case
    test = features.extract(real_images(dataset, "test"))
    noise = np.random.default_rng(0).integers(0, 256, train.shape, dtype=np.uint8)
    scores = {
        name: compare(test, features.extract(images), ("fid", "kid"))
        for name, images in [
            ("train", train),
            ("blurred", blur(train)),
            ("noise", noise),
        ]
    }
    for metric in ("fid", "kid"):
        values = [scores[name][metric] for name in ("train", "blurred", "noise")]
        assert values == sorted(values), (dataset, metric, values)


def test_features_in_batches_equal_one_pass(classifier_case):
    dataset, features, train = classifier_case
    images = train[:40]
    whole = features.extract(images, batch_size=len(images))
    batched = features.extract(iter([images[:13], images[13:]]), batch_size=5)
    assert batched.count == whole.count == 40
    np.testing.assert_allclose(batched.features, whole.features, rtol=1e-4, atol=1e-5)
    reference = features.extract(train[40:80])
    one, many = (compare(reference, f, seed=0) for f in (whole, batched))
    assert many == pytest.approx(one, rel=1e-4, abs=1e-6)
    probabilities = whole.probabilities
    assert probabilities.shape == (40, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_classifier_rejects_images_of_another_shape():
    features = ClassifierFeatures("fashion_mnist")
    with pytest.raises(ValueError, match=r"\(28, 28, 1\)"):
        features.extract(np.zeros((4, 32, 32, 3), np.uint8))


def test_classifier_without_weights_says_how_to_train_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m dcgan_tf.train_classifier"):
        ClassifierFeatures("cifar10", weights=tmp_path / "x.weights.h5")
    with pytest.raises(ValueError, match="inception"):
        feature_extractor("classifier", "biked")
    with pytest.raises(ValueError, match="Unknown features"):
        feature_extractor("vgg", "cifar10")


def test_classifier_features_are_the_penultimate_layer_of_its_weights(tmp_path):
    model = build_classifier((28, 28, 1))
    path = tmp_path / "tiny.weights.h5"
    model.save_weights(path)
    features = ClassifierFeatures("fashion_mnist", weights=path)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1))
    expected = keras.Model(model.input, model.get_layer("features").output)(images)
    np.testing.assert_allclose(features(images)[0], expected, rtol=1e-5, atol=1e-6)


def test_features_of_any_classifier_take_its_shape_and_classes():
    model = build_classifier((16, 16, 3), num_classes=5, name="flowers")
    features = ClassifierFeatures(classifier=model)
    images = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), np.uint8)
    vectors, probabilities = features(images)
    assert vectors.shape == (3, 128) and probabilities.shape == (3, 5)
    assert features.name == "classifier-flowers"
    with pytest.raises(ValueError, match=r"\(16, 16, 3\)"):
        features.extract(np.zeros((4, 28, 28, 1), np.uint8))


def test_inception_without_weights_fails_in_one_line(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...\nx")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(FeatureNetworkError) as error:
        feature_extractor("inception")
    message = str(error.value)
    assert "\n" not in message and "--inception-weights PATH" in message
    assert INCEPTION_FILE in message


def test_inception_with_a_missing_weights_file_names_it(tmp_path):
    with pytest.raises(FeatureNetworkError, match="does not exist"):
        feature_extractor("inception", inception_weights=tmp_path / "none.h5")


@pytest.mark.slow
def test_inception_features_of_gray_images_with_random_weights():
    # Random weights and 75x75 inputs (InceptionV3's minimum): the plumbing
    # of the real network (gray to RGB, resize, both outputs), offline.
    features = InceptionFeatures(weights=None, image_size=75)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), np.uint8)
    result = features.extract(images, batch_size=2)
    assert result.features.shape == (5, 2048)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, rtol=1e-5)


def _warn_then_fail(**kwargs):
    """What Keras does with a wrong weights file: a warning per layer it
    cannot match, then an error."""
    import warnings

    for index in range(141):
        warnings.warn(f"Skipping container_{index}.", stacklevel=2)
    raise ValueError("A total of 185 objects could not be loaded.")


def test_a_wrong_inception_weights_file_is_one_line_and_no_warnings(
    tmp_path, monkeypatch
):
    # The case: 144 warning lines before the error.
    import warnings

    wrong = tmp_path / "wrong.h5"
    wrong.write_bytes(b"\x89HDF\r\n\x1a\n")
    monkeypatch.setattr(keras.applications, "InceptionV3", _warn_then_fail)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with pytest.raises(FeatureNetworkError) as error:
            feature_extractor("inception", inception_weights=wrong)
    assert shown == []
    message = str(error.value)
    assert "\n" not in message and f"could not be loaded from {wrong}" in message


@pytest.mark.slow
def test_a_wrong_inception_weights_file_for_real():
    # The classifier's weights as InceptionV3's: Keras' own warnings (141 of
    # them) and error; about 30 s to build InceptionV3 twice on 2 cores.
    import warnings

    wrong = Path(__file__).parents[1] / "dcgan_tf/weights"
    wrong = wrong / "fashion_mnist_classifier.weights.h5"
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with pytest.raises(FeatureNetworkError, match="could not be loaded from"):
            feature_extractor("inception", inception_weights=wrong)
    assert shown == []
