"""`python -m dcgan_tf.generate` writes what it promises, and refuses bad input
in one line (exit code 2, no traceback)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import save_generator
from PIL import Image
from test_sampling import IMAGE_SHAPE, LATENT_DIM, overflowing_generator

from dcgan_tf import generate
from dcgan_tf.sampling import drawing as sampling
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import PADDING, to_uint8

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


def generated_grid(trained_run, folder):
    """Runs `generate --num 9 --seed 3 --columns 3 --individual`; its grid path."""
    out = folder / "grid.png"
    generate.main(
        [str(trained_run), "--num", "9", "--seed", "3", "--columns", "3"]
        + ["--out", str(out), "--individual"]
    )
    return out


@pytest.fixture(scope="module")
def grid(trained_run, tmp_path_factory):
    return generated_grid(trained_run, tmp_path_factory.mktemp("generated"))


def test_an_individual_folder_that_is_a_link_is_refused(trained_run, tmp_path, capsys):
    # A hostile pass: --individual wrote through a linked folder, over a
    # file of the user's there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "0000.png").write_text("keep")
    (tmp_path / "g").symlink_to(elsewhere)
    with pytest.raises(SystemExit) as raised:
        generate.main(
            [str(trained_run), "--num", "4", "--seed", "1", "--individual"]
            + ["--out", str(tmp_path / "g.png")]
        )
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "symbolic link" in errors[0], errors
    assert sorted(p.name for p in elsewhere.iterdir()) == ["0000.png"]
    assert (elsewhere / "0000.png").read_text() == "keep"
    assert not (tmp_path / "g.png").exists()


def test_generate_writes_grid_latents_and_individual_images(trained_run, grid):
    assert Image.open(grid).size == grid_size(3, 3)
    with np.load(grid.with_suffix(".npz")) as data:
        latents = data["latents"]
        assert latents.shape == (9, LATENT_DIM)
        assert int(data["seed"]) == 3 and int(data["columns"]) == 3
    generator = sampling.load_generator(trained_run)
    expected = to_uint8(sampling.sample(generator, 9, 3).images)
    individual = sorted((grid.parent / "grid").glob("*.png"))
    assert [p.name for p in individual] == [f"{i:04d}.png" for i in range(9)]
    picture = read(grid)
    for index, path in enumerate(individual):
        image = read(path)
        assert image.shape == IMAGE_SHAPE[:2]
        np.testing.assert_array_equal(image, expected[index, ..., 0])
        # The grid shows image i at row-major position i.
        np.testing.assert_array_equal(cell(picture, index, 3)[::SCALE, ::SCALE], image)
    # No temporary file of the atomic write is left behind.
    assert not list(grid.parent.glob(".tmp-*"))


def test_generate_from_indices_draws_the_same_images_as_the_grid(trained_run, grid):
    out = grid.parent / "picked.png"
    generate.main(
        [str(trained_run), "--from", str(grid.with_suffix(".npz"))]
        + ["--indices", "7", "2", "--out", str(out), "--individual"]
    )
    assert Image.open(out).size == grid_size(1, 2)
    # Each file is named after its index in the --from grid.
    for index in [7, 2]:
        np.testing.assert_array_equal(
            read(out.parent / "picked" / f"{index:04d}.png"),
            read(grid.parent / "grid" / f"{index:04d}.png"),
        )


def test_forward_batch_does_not_change_the_images(trained_run, grid, tmp_path):
    out = tmp_path / "small_batches.png"
    generate.main(
        [str(trained_run), "--num", "9", "--seed", "3", "--columns", "3"]
        + ["--forward-batch", "2", "--out", str(out)]
    )
    np.testing.assert_array_equal(read(out), read(grid))


def test_generate_runs_as_a_module_without_tensorflow_chatter(trained_run, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = tmp_path / "grid.png"
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.generate", str(trained_run)]
        + ["--num", "4", "--seed", "0", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Drew 4 samples with seed 0" in result.stdout
    assert out.is_file() and out.with_suffix(".npz").is_file()


def truncated(trained_run, folder):
    data = (trained_run / "generator.keras").read_bytes()
    path = folder / "truncated.keras"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (["RUN", "--num", "0"], "--num must be at least 1"),
        (["RUN", "--forward-batch", "0"], "--forward-batch must be at least 1"),
        (["RUN", "--out", "grid.txt"], "--out must end in .png"),
        (["RUN", "--out", "FOLDER.png"], "is a folder"),
        (["RUN", "--out", "FILE/grid.png"], "is a file, not a folder"),
        (["RUN", "--out", "NPZ_FOLDER.png"], "npz_folder.npz is a folder"),
        (["MISSING"], "No such run directory or .keras file"),
        (["DISCRIMINATOR"], "is a discriminator"),
        (["TRUNCATED"], "not a zip archive; truncated"),
        (["RUN", "--indices", "1"], "--indices needs --from"),
        (["RUN", "--from", "GRID", "--indices", "9"], "Index 9 is out of"),
        (["RUN", "--from", "GRID", "--num", "2"], "exclude each other"),
        (["RUN", "--from", "WIDE"], "holds 5-dimensional latents"),
        (["RUN", "--from", "NOT_NPZ"], "is not a latents file"),
        (["RUN", "--from", "CUT_NPZ"], "Cannot read latents from"),
        (["RUN", "--from", "MISSING"], "No such latents file"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_error(
    trained_run, grid, tmp_path, capsys, args, message
):
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "npz_folder.npz").mkdir()  # where the latents would go
    (tmp_path / "not.npz").write_text("hello")
    (tmp_path / "cut.npz").write_bytes(grid.with_suffix(".npz").read_bytes()[:300])
    paths = {
        "RUN": trained_run,
        "MISSING": tmp_path / "nothing",
        "DISCRIMINATOR": trained_run / "discriminator.keras",
        "TRUNCATED": truncated(trained_run, tmp_path),
        "GRID": grid.with_suffix(".npz"),
        "WIDE": latent_space.save_latents(tmp_path / "wide.npz", np.zeros((2, 5))),
        "NOT_NPZ": tmp_path / "not.npz",
        "CUT_NPZ": tmp_path / "cut.npz",
        "FOLDER.png": tmp_path / "folder.png",
        "FILE/grid.png": tmp_path / "file" / "grid.png",
        "NPZ_FOLDER.png": tmp_path / "npz_folder.png",
    }
    argv = [str(paths.get(arg, arg)) for arg in args]
    argv += ["--out", str(tmp_path / "out.png")] if "--out" not in argv else []
    with pytest.raises(SystemExit) as raised:
        generate.main(argv)
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith("python -m dcgan_tf.generate: error: ")
    assert message in errors[0]


def test_a_grid_too_big_for_an_image_file_is_one_line(
    trained_run, tmp_path, monkeypatch, capsys
):
    # Pillow's limit lowered, rather than generating a grid of 200 M pixels
    # (`--num 100000000` drew for minutes, then advised training's flags).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3 * (CELL + PADDING) ** 2)
    monkeypatch.setattr(sampling, "generate", pytest.fail)  # refused before drawing
    with pytest.raises(SystemExit) as raised:
        generate.main(
            [str(trained_run), "--num", "4", "--out", str(tmp_path / "g.png")]
        )
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "ask for fewer samples with --num" in errors[0]
    assert not (tmp_path / "g.png").exists()


def test_a_read_only_folder_is_refused_before_any_work(
    trained_run, tmp_path, monkeypatch, capsys
):
    # Root may write into a chmod 555 folder, so the refusal is what is tested.
    folder = tmp_path / "read_only"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: path != folder and real_access(path, mode)
    )
    monkeypatch.setattr(sampling, "load_generator", pytest.fail)
    with pytest.raises(SystemExit) as raised:
        generate.main([str(trained_run), "--out", str(folder / "grid.png")])
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"python -m dcgan_tf.generate: error: --out {folder / 'grid.png'}: "
        f"the folder {folder} is not writable."
    ]


def test_a_failed_write_is_one_line_and_keeps_the_old_latents(
    trained_run, grid, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "grid.png"
    old = latent_space.save_latents(out.with_suffix(".npz"), np.ones((2, LATENT_DIM)))

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(np, "savez", read_only)
    with pytest.raises(SystemExit) as raised:
        generate.main([str(trained_run), "--num", "4", "--out", str(out)])
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "not writable" in errors[0], errors
    np.testing.assert_array_equal(latent_space.load_latents(old), 1.0)
    assert not list(tmp_path.glob(".tmp-*"))
    # No grid is left without its latents.
    assert not out.exists()


def test_the_latents_of_from_are_never_replaced(small_run, tmp_path):
    # The case: `--from samples.npz` with the default --out samples.png
    # rewrote samples.npz with the 2 latents picked from it.
    latent_space.save_latents(tmp_path / "samples.npz", np.ones((6, LATENT_DIM)), 5)
    before = (tmp_path / "samples.npz").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.generate", str(small_run)]
        + ["--from", "samples.npz", "--indices", "3", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "python -m dcgan_tf.generate: error: --out samples.png (its latents go to "
        "samples.npz) would replace the --from file samples.npz, which this "
        "command reads; choose another --out."
    ]
    assert (tmp_path / "samples.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.npz"]
    help_text = " ".join(generate.build_parser().format_help().split())
    assert "would replace the --from file or land in a run directory is refused" in (
        help_text
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--out", "RUN/grid.png"],
        ["--out", "RUN/samples/grid.png"],
        ["--out", "LINK/grid.png"],  # a link to the run directory
        ["--out", "PARENT/other/../run/grid.png"],
        ["--out", "RUN.png", "--individual"],  # its images would go into RUN/
    ],
)
def test_nothing_is_written_into_a_run_directory(
    small_run, tmp_path, monkeypatch, capsys, args
):
    (tmp_path / "link").symlink_to(small_run)
    monkeypatch.setattr(sampling, "load_generator", pytest.fail)  # before any work
    names = {
        "RUN": str(small_run),
        "LINK": str(tmp_path / "link"),
        "PARENT": str(small_run.parent),
    }
    for key, value in names.items():
        args = [arg.replace(key, value) for arg in args]
    before = sorted(small_run.rglob("*"))
    with pytest.raises(SystemExit) as raised:
        generate.main([str(small_run), *args])
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert (
        f"into the run directory {small_run} (it holds config.json and latents.npy)"
        in errors[0]
    )
    assert sorted(small_run.rglob("*")) == before


def test_a_generator_that_is_not_finite_is_refused(tmp_path, capsys):
    path = save_generator(tmp_path / "diverged", fault="nan")
    out = tmp_path / "grid.png"
    with pytest.raises(SystemExit) as raised:
        generate.main([str(path), "--num", "4", "--out", str(out)])
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "not finite (NaN or inf" in errors[0], errors
    assert not out.exists() and not out.with_suffix(".npz").exists()


@pytest.mark.parametrize("seed", [2**63, 2**32])
def test_a_seed_too_big_is_refused_before_any_work(small_run, tmp_path, capsys, seed):
    # The case: 2**63 drew and wrote the PNG, then a traceback before
    # its .npz; 2**32 and up is more than the other commands' seeds take.
    out = tmp_path / "grid.png"
    with pytest.raises(SystemExit) as raised:
        generate.main([str(small_run), "--seed", str(seed), "--out", str(out)])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "python -m dcgan_tf.generate: error: argument --seed: must be at most "
        f"2**32 - 1 = 4294967295, got {seed}; pick a smaller seed"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["away from zero", "far latents"])
def test_images_that_are_not_finite_are_never_written(tmp_path, capsys, case):
    # The case: a generator finite at z = 0 but NaN for normal z wrote
    # a grid of junk with exit code 0.
    out = tmp_path / "out" / "grid.png"
    if case == "away from zero":
        path = overflowing_generator(tmp_path / "g", 3e38)
        argv = [str(path), "--num", "4"]
    else:  # it passes the loader's check; a latent of the --from file overflows
        path = overflowing_generator(tmp_path / "g", 1e37, first_only=True)
        latents = np.zeros((3, LATENT_DIM), np.float32)
        latents[1, 0] = 1000.0
        source = latent_space.save_latents(tmp_path / "far.npz", latents)
        argv = [str(path), "--from", str(source), "--individual"]
    with pytest.raises(SystemExit) as raised:
        generate.main([*argv, "--out", str(out)])
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "not finite (NaN or inf" in errors[0], errors
    assert not (tmp_path / "out").exists()
