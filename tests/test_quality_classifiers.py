"""The shipped classifiers: their shapes, loading them, training one on the
labelled test samples, and the record of how each was trained."""

import json
from pathlib import Path

import numpy as np
import pytest

from dcgan_tf.quality.classifiers import (
    FEATURE_DIM,
    IMAGE_SHAPES,
    build_classifier,
    load_classifier,
    read_records,
    save_classifier,
    train_classifier,
    weights_path,
    write_record,
)

FASHION = Path(__file__).parent / "data" / "fashion-mnist"


@pytest.mark.parametrize("dataset", sorted(IMAGE_SHAPES))
def test_the_shipped_classifiers_load_and_give_probabilities(dataset):
    assert weights_path(dataset).is_file()
    model = load_classifier(dataset)
    assert model.get_layer("features").output.shape == (None, FEATURE_DIM)
    images = np.zeros((2, *IMAGE_SHAPES[dataset]), np.float32)
    probabilities = np.asarray(model(images, training=False))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_load_classifier_refuses_unknown_data_sets_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="No classifier for dataset 'mnist'"):
        load_classifier("mnist")
    missing = tmp_path / "none.weights.h5"
    with pytest.raises(FileNotFoundError, match="dcgan_tf.train_classifier"):
        load_classifier("fashion_mnist", missing)


@pytest.fixture(scope="module")
def trained_classifier():
    """One epoch on the 256 labelled Fashion-MNIST samples of tests/data."""
    return train_classifier(
        "fashion_mnist", FASHION, epochs=1, batch_size=64, verbose=0
    )


def test_train_classifier_reads_labelled_data_and_measures_accuracy(
    trained_classifier,
):
    model, accuracy = trained_classifier
    assert model.output_shape == (None, 10)
    assert 0.0 <= accuracy <= 1.0


def test_saved_classifier_loads_as_the_shipped_ones_do(trained_classifier, tmp_path):
    model, _ = trained_classifier
    path = save_classifier(model, tmp_path / "fashion.weights.h5")
    loaded = load_classifier("fashion_mnist", path)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1))
    np.testing.assert_allclose(
        loaded(images, training=False), model(images, training=False), atol=1e-6
    )
    # Without Adam's moments: no bigger than an untrained model's weights.
    untrained = tmp_path / "untrained.weights.h5"
    build_classifier((28, 28, 1)).save_weights(untrained)
    assert path.stat().st_size <= untrained.stat().st_size + 4096
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_records_keep_the_other_data_sets(tmp_path):
    path = tmp_path / "classifiers.json"
    write_record(path, "fashion_mnist", {"test_accuracy": 0.9})
    write_record(path, "cifar10", {"test_accuracy": 0.8})
    write_record(path, "fashion_mnist", {"test_accuracy": 0.95})
    assert json.loads(path.read_text()) == {
        "cifar10": {"test_accuracy": 0.8},
        "fashion_mnist": {"test_accuracy": 0.95},
    }
    assert read_records(tmp_path / "none.json") == {}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_damaged_record_is_one_line_error(tmp_path, text):
    path = tmp_path / "classifiers.json"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        read_records(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
