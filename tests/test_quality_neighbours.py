"""Nearest training images: exact across chunks, the reference scale, the
picture, and the training images a generator was trained on."""

from pathlib import Path

import numpy as np
import pytest

from dcgan_tf.quality import neighbours
from dcgan_tf.quality.nearest import (
    GAP,
    load_training_images,
    nearest_neighbours,
    neighbour_grid,
    reference_distances,
)
from dcgan_tf.sampling import drawing as sampling
from dcgan_tf.sampling.images import LABEL_HEIGHT, make_grid

DATA = Path(__file__).parent / "data"


def test_nearest_neighbours_finds_copies_across_chunks(monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 6, 6, 1), dtype=np.uint8)
    queries = np.concatenate([images[[11, 42]], rng.integers(0, 256, (3, 6, 6, 1))])
    queries = queries.astype(np.uint8)
    monkeypatch.setattr(neighbours, "CHUNK_BYTES", 4 * 36 * 7)  # chunks of a few
    indices, distances = nearest_neighbours(queries, images, k=4)
    assert indices.shape == distances.shape == (5, 4)
    assert list(indices[:2, 0]) == [11, 42] and np.all(distances[:2, 0] == 0)
    flat = lambda x: x.reshape(len(x), -1).astype(np.float64) / 255  # noqa: E731
    brute = np.sqrt(((flat(queries)[:, None] - flat(images)) ** 2).mean(axis=2))
    np.testing.assert_array_equal(indices, np.argsort(brute, axis=1)[:, :4])
    np.testing.assert_allclose(distances, np.sort(brute, axis=1)[:, :4])
    # A training image's own index can be left out, for the reference scale.
    others, _ = nearest_neighbours(images[[11]], images, k=1, exclude=np.array([11]))
    assert others[0, 0] != 11
    with pytest.raises(ValueError, match="cannot be compared"):
        nearest_neighbours(queries[:, :5], images)
    with pytest.raises(ValueError, match="1..50"):
        nearest_neighbours(queries, images, k=51)


def test_reference_distances_leave_each_image_itself_out():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (20, 4, 4, 1), dtype=np.uint8)
    twins = np.concatenate([images, images])  # every image has an exact copy
    assert np.all(reference_distances(twins, 10) == 0)
    assert np.all(reference_distances(images, 10) > 0)
    assert reference_distances(images[:1], 5).size == 0


def test_neighbour_grid_is_samples_a_gap_then_neighbours():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (10, 8, 8, 1), dtype=np.uint8)
    queries, indices = images[:3], np.array([[0, 4], [1, 5], [2, 6]])
    picture = neighbour_grid(queries, images, indices)[LABEL_HEIGHT:]  # captions
    left = make_grid(queries, columns=1)
    right = make_grid(images[indices.reshape(-1)], columns=2)
    assert picture.shape == (left.shape[0], left.shape[1] + GAP + right.shape[1], 1)
    np.testing.assert_array_equal(picture[:, : left.shape[1]], left)
    assert np.all(picture[:, left.shape[1] : left.shape[1] + GAP] == 255)


def test_training_images_come_from_the_runs_config(trained_run, tmp_path):
    generator = sampling.load_generator(trained_run)
    images = load_training_images(generator, limit=30)
    assert images.shape == (30, 28, 28, 1) and images.dtype == np.uint8
    bare = tmp_path / "bare.keras"  # no config.json beside it
    bare.write_bytes((trained_run / "generator.keras").read_bytes())
    with pytest.raises(ValueError, match="pass --dataset"):
        load_training_images(sampling.load_generator(bare))


def test_training_images_of_another_shape_are_refused(trained_run):
    generator = sampling.load_generator(trained_run)
    with pytest.raises(
        ValueError, match="makes 28x28x1 images but cifar10 has 32x32x3"
    ):
        load_training_images(generator, "cifar10", DATA / "cifar10", limit=4)
