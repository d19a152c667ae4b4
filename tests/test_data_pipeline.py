"""The batches that feed `fit` (dcgan_tf.data.pipeline): `make_dataset`, an
endless, resumable stream in [-1, 1], and `synthetic_images`.

Reading the data sets is tested in test_data_classic.py and test_data_folder.py.
"""

import numpy as np
import pytest

from dcgan_tf import data
from dcgan_tf.data import pipeline

pytestmark = pytest.mark.usefixtures("isolated_data")


def batches(dataset, count):
    return [batch.numpy() for batch in dataset.take(count)]


def numbered_images(count, size=4):
    """Image i is filled with the value i, so a batch tells which images it holds."""
    return np.repeat(np.arange(count, dtype=np.uint8), size * size * 3).reshape(
        count, size, size, 3
    )


def indices(batch):
    return np.rint((batch[:, 0, 0, 0] + 1.0) * 127.5).astype(int).tolist()


def test_batches_are_float_in_minus_one_to_one_with_a_fixed_shape():
    images = data.synthetic_images(10, (16, 16, 3))
    images[0], images[1] = 0, 255

    dataset = data.make_dataset(images, batch_size=4, seed=0)
    taken = batches(dataset, 6)

    assert dataset.element_spec.shape == (4, 16, 16, 3)
    assert all(b.dtype == np.float32 and b.shape == (4, 16, 16, 3) for b in taken)
    values = np.concatenate(taken)
    assert values.min() == -1.0 and values.max() == 1.0


def test_every_image_appears_once_per_epoch_in_a_new_order():
    dataset = data.make_dataset(numbered_images(12), batch_size=4, seed=3)
    epochs = [sum(map(indices, batches(dataset, 6)[i : i + 3]), []) for i in (0, 3)]

    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(12))
    assert epochs[0] != epochs[1]


def test_the_remainder_of_an_epoch_is_dropped_not_mixed_in():
    dataset = data.make_dataset(numbered_images(10), batch_size=4, seed=0)
    for epoch in np.array([indices(b) for b in batches(dataset, 8)]).reshape(4, 8):
        assert len(set(epoch)) == 8


def test_the_order_depends_on_the_seed_alone():
    images = numbered_images(16)
    same = [
        [indices(b) for b in batches(data.make_dataset(images, 4, seed=7), 8)]
        for _ in range(2)
    ]
    other = [indices(b) for b in batches(data.make_dataset(images, 4, seed=8), 8)]

    assert same[0] == same[1]
    assert other != same[0]


@pytest.mark.parametrize("start_batch", [1, 3, 7])
def test_a_resumed_stream_continues_the_uninterrupted_one(start_batch):
    images = numbered_images(13)  # 3 batches of 4 per epoch
    fresh = batches(data.make_dataset(images, 4, seed=5), 10)
    resumed = batches(data.make_dataset(images, 4, seed=5, start_batch=start_batch), 3)

    for got, expected in zip(resumed, fresh[start_batch:], strict=False):
        np.testing.assert_array_equal(got, expected)


def test_make_dataset_rejects_what_it_cannot_batch():
    with pytest.raises(data.DataError, match="fewer than one batch"):
        data.make_dataset(numbered_images(3), batch_size=4, seed=0)
    with pytest.raises(ValueError, match="uint8"):
        data.make_dataset(np.zeros((8, 4, 4, 3), np.float32), batch_size=4, seed=0)


def test_synthetic_images_are_smooth_and_reproducible():
    images = data.synthetic_images(5, (28, 28, 1), seed=1)

    assert images.shape == (5, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, data.synthetic_images(5, (28, 28, 1), 1))
    assert not np.array_equal(images, data.synthetic_images(5, (28, 28, 1), 2))
    steps = np.abs(np.diff(images.astype(int), axis=2))
    assert steps.mean() < 8 and images.std() > 20


def test_resize_gives_uint8_squares_and_keeps_flat_colours():
    images = np.zeros((3, 28, 28, 1), np.uint8)
    images[1], images[2] = 128, 255

    resized = pipeline._resize(images, 64)

    assert resized.shape == (3, 64, 64, 1) and resized.dtype == np.uint8
    assert [int(value) for value in np.unique(resized)] == [0, 128, 255]


def test_labels_travel_with_their_images_in_the_same_order():
    images = numbered_images(20)
    labels = np.arange(20) * 3 % 7
    plain = data.make_dataset(images, 4, seed=5, start_batch=3)
    labelled = data.make_dataset(images, 4, seed=5, start_batch=3, labels=labels)
    for batch, (with_labels, batch_labels) in zip(
        batches(plain, 8), labelled.take(8), strict=True
    ):
        np.testing.assert_array_equal(batch, with_labels.numpy())
        assert batch_labels.numpy().tolist() == labels[indices(batch)].tolist()


def test_labels_must_be_one_integer_per_image():
    with pytest.raises(ValueError, match="labels must be 20 integers"):
        data.make_dataset(numbered_images(20), 4, seed=0, labels=np.zeros(19, int))
