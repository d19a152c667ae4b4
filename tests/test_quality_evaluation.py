"""Measuring a generator or a real split: what the record holds, and what does
not change the numbers."""

from pathlib import Path

import keras
import numpy as np
import pytest

from dcgan_tf.model.networks import build_generator
from dcgan_tf.quality.evaluation import (
    evaluate,
    evaluate_generator,
    random_subset,
    sample_images,
)
from dcgan_tf.quality.features import ClassifierFeatures
from dcgan_tf.sampling import drawing as sampling

FASHION = Path(__file__).parent / "data" / "fashion-mnist"


def tiny_generator():
    keras.utils.set_random_seed(0)
    return build_generator((28, 28, 1), latent_dim=8, filters=8)


def test_sample_images_do_not_depend_on_the_forward_batch():
    generator = tiny_generator()
    one = np.concatenate(list(sample_images(generator, 10, seed=1)))
    many = np.concatenate(list(sample_images(generator, 10, seed=1, forward_batch=3)))
    assert one.dtype == np.uint8 and one.shape == (10, 28, 28, 1)
    np.testing.assert_array_equal(one, many)
    other = np.concatenate(list(sample_images(generator, 10, "uniform", seed=1)))
    assert not np.array_equal(one, other)


def test_evaluate_generator_counts_both_sets():
    features = ClassifierFeatures("fashion_mnist")
    real = np.random.default_rng(0).integers(0, 256, (20, 28, 28, 1), np.uint8)
    values = evaluate_generator(
        tiny_generator(), real, features, num_samples=12, metrics=("fid", "is")
    )
    assert values["num_samples"] == 12 and values["num_real"] == 20
    assert set(values) == {"fid", "is", "is_std", "is_real", "num_samples", "num_real"}


def test_evaluate_generator_adds_precision_recall_and_the_periodic_ratio():
    features = ClassifierFeatures("fashion_mnist")
    real = np.random.default_rng(0).integers(0, 256, (20, 28, 28, 1), np.uint8)
    values = evaluate_generator(
        tiny_generator(),
        real,
        features,
        num_samples=16,
        metrics=("fid", "pr", "artifacts", "periodic"),
    )
    assert set(values) == {
        "fid",
        "precision",
        "recall",
        "artifacts",
        "periodic",
        "num_samples",
        "num_real",
    }
    assert 0 <= values["precision"] <= 1 and 0 <= values["recall"] <= 1
    # Noise has no spectral peaks; an untrained generator of transposed
    # convolutions paints a grid: the samples' share is on top.
    assert values["periodic"] > 1.5
    # Real features without the real images' periodic share: refused.
    with pytest.raises(ValueError, match="periodic need the real images"):
        evaluate_generator(
            tiny_generator(),
            features.extract(real),
            features,
            num_samples=16,
            metrics=("fid", "periodic"),
        )


def test_evaluate_measures_precision_and_recall_by_default(trained_run):
    record = evaluate(sampling.load_generator(trained_run), num_samples=20)
    assert {"fid", "kid", "is", "precision", "recall"} <= set(record["metrics"])


def test_evaluate_a_run_reads_its_data_and_latents_from_its_config(trained_run):
    generator = sampling.load_generator(trained_run)
    record = evaluate(generator, num_samples=40, metrics=("kid", "is"), seed=3)
    assert record["dataset"] == "fashion_mnist" and record["real_split"] == "test"
    assert record["num_real"] == 64  # the test split of tests/data, from config.json
    assert record["num_samples"] == 40
    assert record["source"] == str(trained_run / "generator.keras")
    assert record["latent_distribution"] == "normal"
    assert set(record["metrics"]) == {"kid", "kid_std", "is", "is_std", "is_real"}


def test_evaluate_the_real_floor_of_a_split():
    record = evaluate(
        compare_real="train",
        dataset="fashion_mnist",
        data_dir=FASHION,
        metrics=("fid",),
        num_samples=100,
        num_real=50,
    )
    assert record["source"] == "real train split"
    assert record["num_samples"] == 100 and record["num_real"] == 50
    assert set(record["metrics"]) == {"fid"} and record["metrics"]["fid"] >= 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "--compare-real"),
        ({"compare_real": "train"}, "--dataset is needed"),
        ({"compare_real": "train", "dataset": "cifar10", "metrics": ["ssim"]}, "ssim"),
        (
            {"compare_real": "train", "dataset": "fashion_mnist", "num_samples": 3},
            "more than 3 images",
        ),
    ],
)
def test_evaluate_refuses_what_it_cannot_measure(kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluate(**kwargs)


def test_random_subset_is_seeded_and_keeps_the_order():
    images = np.arange(100)
    subset = random_subset(images, 10, seed=4)
    assert len(subset) == 10 and list(subset) == sorted(subset)
    np.testing.assert_array_equal(subset, random_subset(images, 10, seed=4))
    assert random_subset(images, None, seed=4) is images
    assert random_subset(images, 500, seed=4) is images
