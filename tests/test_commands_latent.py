"""The generate, interpolate and neighbours commands write what they promise."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_latent import IMAGE_SHAPE, LATENT_DIM

# `from dcgan_tf import interpolate` would give the function that
# dcgan_tf/__init__.py exports, not this command module of the same name.
import dcgan_tf.interpolate as interpolate
from dcgan_tf import generate, latent, neighbours
from dcgan_tf.data import load_images
from dcgan_tf.images import PADDING, read_gif, to_uint8

# make_grid enlarges 28-pixel images 3 times, to cells of 84 pixels.
SCALE = 3
CELL = IMAGE_SHAPE[0] * SCALE


def grid_size(rows, columns):
    """(width, height) of a grid of 28x28 images."""
    return (columns * (CELL + PADDING) + PADDING, rows * (CELL + PADDING) + PADDING)


def cell(grid, index, columns):
    """The enlarged image at `index` (row-major) of a grid array."""
    row, column = divmod(index, columns)
    top, left = PADDING + row * (CELL + PADDING), PADDING + column * (CELL + PADDING)
    return grid[top : top + CELL, left : left + CELL]


def read(path):
    return np.asarray(Image.open(path))


@pytest.fixture(scope="module")
def grid(trained_run, tmp_path_factory):
    """`generate --num 9 --seed 3 --columns 3 --individual`: its grid path."""
    out = tmp_path_factory.mktemp("generated") / "grid.png"
    generate.main(
        [str(trained_run), "--num", "9", "--seed", "3", "--columns", "3"]
        + ["--out", str(out), "--individual"]
    )
    return out


def test_generate_writes_grid_latents_and_individual_images(trained_run, grid):
    assert Image.open(grid).size == grid_size(3, 3)
    with np.load(grid.with_suffix(".npz")) as data:
        latents = data["latents"]
        assert latents.shape == (9, LATENT_DIM)
        assert int(data["seed"]) == 3 and int(data["columns"]) == 3
    expected = to_uint8(latent.sample(latent.load_generator(trained_run), 9, 3).images)
    individual = sorted((grid.parent / "grid").glob("*.png"))
    assert [p.name for p in individual] == [f"{i:04d}.png" for i in range(9)]
    picture = read(grid)
    for index, path in enumerate(individual):
        image = read(path)
        assert image.shape == IMAGE_SHAPE[:2]
        np.testing.assert_array_equal(image, expected[index, ..., 0])
        # The grid shows image i at row-major position i.
        np.testing.assert_array_equal(cell(picture, index, 3)[::SCALE, ::SCALE], image)


def test_generate_from_indices_draws_the_same_images_as_the_grid(trained_run, grid):
    out = grid.parent / "picked.png"
    generate.main(
        [
            str(trained_run),
            "--from",
            str(grid.with_suffix(".npz")),
            "--indices",
            "7",
            "2",
        ]
        + ["--out", str(out), "--individual"]
    )
    assert Image.open(out).size == grid_size(1, 2)
    for position, index in enumerate([7, 2]):
        np.testing.assert_array_equal(
            read(out.parent / "picked" / f"{position:04d}.png"),
            read(grid.parent / "grid" / f"{index:04d}.png"),
        )


def test_interpolate_writes_one_row_per_pair_and_a_gif(trained_run, tmp_path):
    out, gif = tmp_path / "walk.png", tmp_path / "walk.gif"
    interpolate.main(
        [str(trained_run), "--pairs", "3", "--steps", "5", "--method", "slerp"]
        + ["--seed", "1", "--out", str(out), "--gif", str(gif)]
    )
    assert Image.open(out).size == grid_size(3, 5)
    with np.load(out.with_suffix(".npz")) as data:
        latents = data["latents"]
    assert latents.shape == (3 * 5, LATENT_DIM)
    # Each row starts and ends at latents drawn from the seed.
    ends = latent.sample_latents(6, LATENT_DIM, seed=1)
    np.testing.assert_allclose(latents[0::5], ends[:3], atol=1e-6)
    np.testing.assert_allclose(latents[4::5], ends[3:], atol=1e-6)
    # The GIF plays the pairs side by side, forth (5 frames) and back (3).
    frames = read_gif(gif)
    assert len(frames) == 5 + 3
    assert frames[0].shape[:2] == grid_size(1, 3)[::-1]
    picture = read(out)
    for step in (0, 2, 4):
        frame = frames[step][..., 0] if frames[step].ndim == 3 else frames[step]
        for pair in range(3):
            np.testing.assert_array_equal(
                cell(frame, pair, 3), cell(picture, pair * 5 + step, 5)
            )


def test_interpolate_walks_between_chosen_samples_of_a_grid(
    trained_run, grid, tmp_path
):
    out, gif = tmp_path / "tour.png", tmp_path / "tour.gif"
    interpolate.main(
        [str(trained_run), "--from", str(grid.with_suffix(".npz"))]
        + ["--indices", "3", "7", "0", "--loop", "--steps", "4", "--method", "linear"]
        + ["--out", str(out), "--gif", str(gif)]
    )
    # A loop 3 -> 7 -> 0 -> 3, one grid row per leg.
    assert Image.open(out).size == grid_size(3, 4)
    source, tour = read(grid), read(out)
    for leg, (first, last) in enumerate([(3, 7), (7, 0), (0, 3)]):
        np.testing.assert_array_equal(cell(tour, leg * 4, 4), cell(source, first, 3))
        np.testing.assert_array_equal(cell(tour, leg * 4 + 3, 4), cell(source, last, 3))
    frames = read_gif(gif)
    assert len(frames) == 3 * 3  # three legs, no keyframe twice
    first = frames[0][..., 0] if frames[0].ndim == 3 else frames[0]
    np.testing.assert_array_equal(cell(first, 0, 1), cell(source, 3, 3))


def test_nearest_neighbours_finds_copies_across_chunks(monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 6, 6, 1), dtype=np.uint8)
    queries = np.concatenate([images[[11, 42]], rng.integers(0, 256, (3, 6, 6, 1))])
    queries = queries.astype(np.uint8)
    monkeypatch.setattr(neighbours, "CHUNK_BYTES", 4 * 36 * 7)  # chunks of a few
    indices, distances = neighbours.nearest_neighbours(queries, images, k=4)
    assert indices.shape == distances.shape == (5, 4)
    assert list(indices[:2, 0]) == [11, 42] and np.all(distances[:2, 0] == 0)
    flat = lambda x: x.reshape(len(x), -1).astype(np.float64) / 255  # noqa: E731
    brute = np.sqrt(((flat(queries)[:, None] - flat(images)) ** 2).mean(axis=2))
    np.testing.assert_array_equal(indices, np.argsort(brute, axis=1)[:, :4])
    np.testing.assert_allclose(distances, np.sort(brute, axis=1)[:, :4])
    # A training image's own index can be left out, for the reference scale.
    others, _ = neighbours.nearest_neighbours(
        images[[11]], images, k=1, exclude=np.array([11])
    )
    assert others[0, 0] != 11
    with pytest.raises(ValueError, match="cannot be compared"):
        neighbours.nearest_neighbours(queries[:, :5], images)


def test_neighbours_shows_each_sample_beside_its_nearest_images(
    trained_run, fashion_dir, tmp_path, monkeypatch, capsys
):
    images = load_images("fashion_mnist", data_dir=fashion_dir)  # trained on these
    monkeypatch.setattr(
        neighbours, "load_training_images", lambda *args, **kwargs: images
    )
    out = tmp_path / "neighbours.png"
    neighbours.main(
        [str(trained_run), "--num", "4", "--neighbours", "3", "--seed", "0"]
        + ["--out", str(out)]
    )
    width, height = grid_size(4, 1)
    assert Image.open(out).size == (width + neighbours.GAP + grid_size(4, 3)[0], height)
    picture = read(out)
    right = picture[:, width + neighbours.GAP :]
    samples = to_uint8(latent.sample(latent.load_generator(trained_run), 4, 0).images)
    found, _ = neighbours.nearest_neighbours(samples, images, 3)
    for row in range(4):
        np.testing.assert_array_equal(
            cell(picture, row, 1)[::SCALE, ::SCALE], samples[row, ..., 0]
        )
        for column in range(3):
            np.testing.assert_array_equal(
                cell(right, row * 3 + column, 3)[::SCALE, ::SCALE],
                images[found[row, column], ..., 0],
            )
    assert "from a training image" in capsys.readouterr().out
    assert latent.load_latents(out.with_suffix(".npz")).shape == (4, LATENT_DIM)


@pytest.mark.parametrize(
    "command, args, message",
    [
        (generate, ["RUN", "--num", "0"], "--num must be at least 1"),
        (generate, ["RUN", "--out", "grid.txt"], "--out must end in .png"),
        (generate, ["MISSING"], "No such run directory or .keras file"),
        (generate, ["DISCRIMINATOR"], "is a discriminator"),
        (generate, ["RUN", "--indices", "1"], "--indices needs --from"),
        (generate, ["RUN", "--from", "GRID", "--indices", "9"], "Index 9 is out of"),
        (generate, ["RUN", "--from", "GRID", "--num", "2"], "exclude each other"),
        (generate, ["RUN", "--from", "WIDE"], "holds 5-dimensional latents"),
        (interpolate, ["RUN", "--steps", "1"], "--steps must be at least 2"),
        (interpolate, ["RUN", "--gif", "walk.png"], "--gif must end in .gif"),
        (interpolate, ["RUN", "--from", "GRID"], "at least 2 indices"),
        (interpolate, ["RUN", "--from", "GRID", "--indices", "0", "-1"], "Index -1"),
        (interpolate, ["RUN", "--loop"], "--loop needs --from"),
        (interpolate, ["RUN", "--method", "cubic"], "invalid choice"),
        (neighbours, ["RUN", "--neighbours", "0"], "--neighbours must be at least 1"),
        (neighbours, ["BARE"], "pass --dataset"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_error(
    trained_run, grid, tmp_path, capsys, command, args, message
):
    wide = latent.save_latents(tmp_path / "wide.npz", np.zeros((2, 5)))
    bare = tmp_path / "bare.keras"  # a generator with no config.json beside it
    bare.write_bytes((trained_run / "generator.keras").read_bytes())
    paths = {
        "RUN": trained_run,
        "MISSING": tmp_path / "nothing",
        "DISCRIMINATOR": trained_run / "discriminator.keras",
        "GRID": grid.with_suffix(".npz"),
        "WIDE": wide,
        "BARE": bare,
    }
    argv = [str(paths.get(arg, arg)) for arg in args]
    argv += ["--out", str(tmp_path / "out.png")] if "--out" not in argv else []
    with pytest.raises(SystemExit) as raised:
        command.main(argv)
    assert raised.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]
    assert errors[0].startswith(f"python -m dcgan_tf.{command.__name__.split('.')[-1]}")


def test_commands_run_as_modules_with_help():
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.interpolate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        "counted from 0" in result.stdout and "--method {slerp,linear}" in result.stdout
    )
