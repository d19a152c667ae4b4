import keras
import numpy as np
import pytest
from keras import ops

from dcgan_tf.model import augment

SIZE = 16


def _images(count=4, channels=3):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (count, SIZE, SIZE, channels)).astype("float32")


def _parameters(count=4, **columns):
    rows = np.tile(np.array(augment.IDENTITY, "float32"), (count, 1))
    for name, value in columns.items():
        rows[:, augment.COLUMNS.index(name)] = value
    return ops.convert_to_tensor(rows)


def _apply(images, parameters):
    return ops.convert_to_numpy(
        augment.apply(ops.convert_to_tensor(images), parameters)
    )


def test_identity_parameters_leave_the_images_alone():
    images = _images()
    np.testing.assert_allclose(_apply(images, _parameters()), images, atol=1e-6)


def test_translation_shifts_whole_pixels_with_zero_padding():
    images = _images()
    moved = _apply(images, _parameters(shift_y=2, shift_x=-1))
    np.testing.assert_allclose(moved[:, 2:, :-1], images[:, :-2, 1:], atol=1e-6)
    assert (moved[:, :2] == 0).all() and (moved[:, :, -1] == 0).all()


def test_cutout_blanks_a_square_of_half_the_side():
    images = _images()
    cut = _apply(images, _parameters(cut=1, cutout_y=8, cutout_x=8))
    assert (cut[:, 4:12, 4:12] == 0).all()
    np.testing.assert_allclose(cut[:, :4], images[:, :4], atol=1e-6)
    # By an edge only the part inside the image is cut.
    corner = _apply(images, _parameters(cut=1, cutout_y=0, cutout_x=0))
    assert (corner[:, :4, :4] == 0).all()
    np.testing.assert_allclose(corner[:, 4:], images[:, 4:], atol=1e-6)


def test_colour_and_flip():
    images = _images()
    flipped = _apply(images, _parameters(flip=1))
    np.testing.assert_allclose(flipped, images[:, :, ::-1], atol=1e-6)
    brighter = _apply(images, _parameters(brightness=0.25))
    np.testing.assert_allclose(brighter, images + 0.25, atol=1e-6)
    grey = _apply(images, _parameters(saturation=0))
    np.testing.assert_allclose(
        grey, images.mean(-1, keepdims=True).repeat(3, -1), atol=1e-6
    )
    flat = _apply(images, _parameters(contrast=0))
    np.testing.assert_allclose(flat.std(axis=(1, 2, 3)), 0, atol=1e-6)
    # Saturation leaves grey images as they are.
    gray_images = _images(channels=1)
    np.testing.assert_allclose(
        _apply(gray_images, _parameters(saturation=0)), gray_images, atol=1e-6
    )


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_ada_probability_gates_each_transformation(probability):
    rows = ops.convert_to_numpy(
        augment.draw(500, SIZE, keras.random.SeedGenerator(0), probability, flips=True)
    )
    if probability == 0.0:
        np.testing.assert_array_equal(rows, np.tile(augment.IDENTITY, (500, 1)))
    else:
        assert (rows[:, augment.COLUMNS.index("cut")] == 1).all()
        shifts = rows[:, augment.COLUMNS.index("shift_x")]
        assert set(np.unique(shifts)) == {-2, -1, 0, 1, 2}  # 16 / 8 = 2
        assert 0.4 < rows[:, augment.COLUMNS.index("flip")].mean() < 0.6


def test_diffaugment_draws_every_transformation_for_every_image():
    rows = ops.convert_to_numpy(augment.draw(200, SIZE, keras.random.SeedGenerator(0)))
    brightness = rows[:, augment.COLUMNS.index("brightness")]
    assert -0.5 <= brightness.min() < -0.4 and 0.4 < brightness.max() <= 0.5
    assert (rows[:, augment.COLUMNS.index("cut")] == 1).all()
    assert (rows[:, augment.COLUMNS.index("flip")] == 0).all()


def test_ada_probability_follows_the_overfitting_measure():
    sure = ops.ones((10, 1))  # D calls every real image real: r_t = 1
    unsure = -ops.ones((10, 1))
    step = 10 / 1000.0  # 10 images, p from 0 to 1 in 1,000 images

    def moved(probability, logits):
        measure = augment.overfitting_measure(logits)
        value = augment.ada_probability(probability, measure, 10, 0.6, kimg=1)
        return float(ops.convert_to_numpy(value))

    assert moved(0.5, sure) == pytest.approx(0.5 + step)
    assert moved(0.5, unsure) == pytest.approx(0.5 - step)
    assert moved(0.0, unsure) == 0.0
    assert moved(1.0, sure) == 1.0
