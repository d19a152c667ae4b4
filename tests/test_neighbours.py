"""`python -m dcgan_tf.neighbours` draws each sample beside its nearest
training images, and refuses bad input in one line (exit code 2)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import save_generator
from PIL import Image

from dcgan_tf import neighbours
from dcgan_tf.quality.nearest import GAP, load_training_images, nearest_neighbours
from dcgan_tf.sampling import drawing as sampling
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import LABEL_HEIGHT, PADDING, to_uint8

DATA = Path(__file__).parent / "data"
PROG = "python -m dcgan_tf.neighbours"
# The trained run makes 28x28 images; make_grid enlarges them 3 times.
SCALE = 3
CELL = 28 * SCALE


def grid_width(columns):
    return columns * (CELL + PADDING) + PADDING


def cell(grid, index, columns):
    """The image at `index` (row-major) of a grid array, at its own size."""
    row, column = divmod(index, columns)
    top, left = PADDING + row * (CELL + PADDING), PADDING + column * (CELL + PADDING)
    return grid[top : top + CELL : SCALE, left : left + CELL : SCALE]


def test_neighbours_shows_each_sample_beside_its_nearest_images(
    trained_run, tmp_path, capsys
):
    out = tmp_path / "neighbours.png"
    neighbours.main(
        [str(trained_run), "--num", "4", "--neighbours", "3", "--seed", "0"]
        + ["--out", str(out)]
    )
    generator = sampling.load_generator(trained_run)
    images = load_training_images(generator)  # the run's config.json names them
    samples = to_uint8(sampling.sample(generator, 4, 0).images)
    found, _ = nearest_neighbours(samples, images, 3)
    picture = np.asarray(Image.open(out))[LABEL_HEIGHT:]  # under the captions
    assert picture.shape[1] == grid_width(1) + GAP + grid_width(3)
    right = picture[:, grid_width(1) + GAP :]
    for row in range(4):
        np.testing.assert_array_equal(cell(picture, row, 1), samples[row, ..., 0])
        for column in range(3):
            np.testing.assert_array_equal(
                cell(right, row * 3 + column, 3), images[found[row, column], ..., 0]
            )
    printed = capsys.readouterr().out
    assert f"Searching {len(images)} fashion_mnist training images" in printed
    assert "from a training image" in printed
    latents = latent_space.load_latents(out.with_suffix(".npz"))
    assert latents.shape == (4, generator.latent_dim)


def test_neighbours_of_samples_picked_from_an_earlier_grid(trained_run, tmp_path):
    earlier = latent_space.sample_latents(6, 8, seed=5)
    source = latent_space.save_latents(tmp_path / "grid.npz", earlier)
    out = tmp_path / "picked.png"
    neighbours.main(
        [str(trained_run), "--from", str(source), "--indices", "4", "1"]
        + ["--neighbours", "2", "--limit", "50", "--out", str(out)]
    )
    picked = latent_space.load_latents(out.with_suffix(".npz"))
    np.testing.assert_array_equal(picked, earlier[[4, 1]])
    assert Image.open(out).size[1] == LABEL_HEIGHT + 2 * (CELL + PADDING) + PADDING


@pytest.mark.parametrize(
    "args, message",
    [
        (["RUN", "--neighbours", "0"], "--neighbours must be at least 1"),
        (["RUN", "--forward-batch", "0"], "--forward-batch must be at least 1"),
        (["RUN", "--indices", "1"], "--indices needs --from"),
        (["RUN", "--out", "grid.txt"], "--out must end in .png"),
        (["BARE"], "pass --dataset"),
        (["DISCRIMINATOR"], "is a discriminator"),
        # cifar10's images were said to be 28x28x3 (read at the generator's size).
        (
            ["RUN", "--dataset", "cifar10"],
            "makes 28x28x1 images but cifar10 has 32x32x3",
        ),
        (["RUN", "--neighbours", "300", "--limit", "10"], "Neighbours must be in"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_error(
    trained_run, tmp_path, capsys, args, message
):
    bare = tmp_path / "bare.keras"  # a generator with no config.json beside it
    bare.write_bytes((trained_run / "generator.keras").read_bytes())
    paths = {
        "RUN": trained_run,
        "BARE": bare,
        "DISCRIMINATOR": trained_run / "discriminator.keras",
    }
    argv = [str(paths.get(arg, arg)) for arg in args]
    argv += ["--out", str(tmp_path / "out.png")] if "--out" not in argv else []
    if "--dataset" in argv:
        argv += ["--data-dir", str(DATA / "cifar10")]
    with pytest.raises(SystemExit) as raised:
        neighbours.main(argv)
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{PROG}: error: ") and message in errors[0]


def test_neighbours_answers_help_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.neighbours", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--neighbours" in result.stdout and "--forward-batch" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "RUN/neighbours.png"], "into the run directory"),
        (["--out", "FASHION/n.png"], "inside the run's data folder"),
        (
            ["--data-dir", "CIFAR", "--dataset", "cifar10", "--out", "CIFAR/cat/n.png"],
            "inside the --data-dir",
        ),
        (["--from", "GRID.npz", "--out", "GRID.png"], "would replace the --from file"),
    ],
)
def test_neighbours_refuses_outputs_over_its_inputs_before_any_work(
    small_run, tmp_path, monkeypatch, capsys, args, message
):
    monkeypatch.setattr(sampling, "load_generator", pytest.fail)
    latent_space.save_latents(tmp_path / "grid.npz", np.ones((3, 8)))
    paths = {
        "RUN": str(small_run),
        "FASHION": str(DATA / "fashion-mnist"),
        "CIFAR": str(DATA / "cifar10"),
        "GRID": str(tmp_path / "grid"),
    }
    argv = [str(small_run)]
    for arg in args:
        for key, value in paths.items():
            arg = arg.replace(key, value)
        argv.append(arg)
    with pytest.raises(SystemExit) as raised:
        neighbours.main(argv)
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and message in errors[0], errors
    assert sorted(p.name for p in small_run.iterdir()) == [
        "config.json",
        "generator.keras",
        "latents.npy",
    ]


def test_a_generator_that_is_not_finite_is_refused(tmp_path, capsys):
    path = save_generator(tmp_path / "diverged", fault="nan")
    with pytest.raises(SystemExit) as raised:
        neighbours.main(
            [str(path), "--dataset", "fashion_mnist"]
            + [
                "--data-dir",
                str(DATA / "fashion-mnist"),
                "--out",
                str(tmp_path / "n.png"),
            ]
        )
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "not finite (NaN or inf" in errors[0], errors


def test_too_many_rows_for_a_grid_are_refused_before_drawing(
    small_run, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3 * (CELL + PADDING) ** 2)
    monkeypatch.setattr(sampling, "generate", pytest.fail)
    with pytest.raises(SystemExit) as raised:
        neighbours.main(
            [str(small_run), "--num", "2", "--neighbours", "3"]
            + ["--out", str(tmp_path / "n.png")]
        )
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "fewer with --num or --neighbours" in errors[0]
