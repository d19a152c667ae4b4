"""Grids say what they show: the class grid of `generate --classes` names
each row's class at its left, and the neighbours grid says which column is
the sample and which are the training images; the cells stay as they were."""

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import generate
from dcgan_tf.quality.nearest import GAP, neighbour_grid
from dcgan_tf.sampling.images import LABEL_HEIGHT, caption_grid, cell_spans, make_grid


def lit(region) -> bool:
    """Whether a band region holds text (light pixels on its black ground)."""
    return int(np.asarray(region).max()) > 200


def test_row_labels_are_written_left_of_an_unchanged_grid():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    plain = make_grid(images, columns=3, min_cell_size=8)
    named = make_grid(images, columns=3, min_cell_size=8, row_labels=["cat", "dog"])
    band = named.shape[1] - plain.shape[1]
    assert named.shape[0] == plain.shape[0] and band > 8
    np.testing.assert_array_equal(named[:, band:], plain)
    for start, end in cell_spans(2, 8):  # each row's name beside it
        assert lit(named[start:end, :band])
    assert not lit(named[: cell_spans(1, 8)[0][0], :band])
    with pytest.raises(ValueError, match="Expected 2 row labels, got 1"):
        make_grid(images, columns=3, row_labels=["cat"])


def test_caption_choices_take_the_first_that_fits():
    grid = np.zeros((20, 60, 1), np.uint8)
    long, short = "a caption far wider than sixty pixels", "fits"
    captioned = caption_grid(grid, top=[(0, 60, (long, short))])
    assert captioned.shape == (20 + LABEL_HEIGHT, 60, 1)
    assert lit(captioned[:LABEL_HEIGHT]) and not lit(captioned[:, 40:])


def test_neighbour_grid_names_the_sample_and_the_training_images():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 255, (10, 8, 8, 1), dtype=np.uint8)
    queries, indices = images[:3], np.array([[0, 4], [1, 5], [2, 6]])
    picture = neighbour_grid(queries, images, indices)
    left = make_grid(queries, columns=1)
    right = make_grid(images[indices.reshape(-1)], columns=2)
    band = picture[:LABEL_HEIGHT]
    assert lit(band[:, : left.shape[1]])  # "sample" over the sample column
    assert lit(band[:, left.shape[1] + GAP :])  # over the training images
    cells = picture[LABEL_HEIGHT:]
    np.testing.assert_array_equal(cells[:, : left.shape[1]], left)
    np.testing.assert_array_equal(cells[:, left.shape[1] + GAP :], right)


def test_generate_classes_grid_names_each_row(tmp_path):
    from dcgan_tf.model.networks import build_generator

    path = tmp_path / "generator.keras"
    build_generator((16, 16, 1), 8, 8, class_names=["cat", "dog", "owl"]).save(path)
    out = tmp_path / "classes.png"
    generate.main(
        [str(path), "--classes", "owl", "cat", "--num", "2"] + ["--out", str(out)]
    )
    grid = np.asarray(Image.open(out))
    cell = 64  # 16-pixel samples enlarged 4 times
    width = 2 * (cell + 2) + 2
    band = grid.shape[1] - width
    assert grid.shape[0] == 2 * (cell + 2) + 2 and band > 8
    for start, end in cell_spans(2, cell):
        assert lit(grid[start:end, :band])
    # The names are those of the rows, in the order asked: owl then cat.
    owl = make_grid(np.zeros((1, 16, 16, 1), np.uint8), 1, row_labels=["owl"])
    np.testing.assert_array_equal(
        grid[: owl.shape[0] - 2, :band], owl[:-2, : owl.shape[1] - (cell + 4)][..., 0]
    )
