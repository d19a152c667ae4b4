"""`python -m dcgan_tf.interpolate` writes what it promises, and refuses bad
input in one line (exit code 2, no traceback)."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import save_generator
from PIL import Image
from test_generate import (
    CELL,
    cell,
    generated_grid,
    grid_size,
    read,
    truncated,
)
from test_sampling import LATENT_DIM

# `from dcgan_tf import interpolate` gives the library function (the public
# API); the command is the module of the same name.
import dcgan_tf.interpolate as interpolate
from dcgan_tf.sampling import drawing as sampling
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.sampling.images import PADDING, read_gif


@pytest.fixture(scope="module")
def grid(trained_run, tmp_path_factory):
    """The grid of `generate --num 9 --seed 3 --columns 3`, to walk through."""
    return generated_grid(trained_run, tmp_path_factory.mktemp("generated"))


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
    ends = latent_space.sample_latents(6, LATENT_DIM, seed=1)
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
        + ["--forward-batch", "5", "--out", str(out), "--gif", str(gif)]
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


@pytest.mark.parametrize(
    "args, message",
    [
        (["RUN", "--steps", "1"], "--steps must be at least 2"),
        (["RUN", "--pairs", "0"], "--pairs must be at least 1"),
        (["RUN", "--forward-batch", "0"], "--forward-batch must be at least 1"),
        (["RUN", "--seconds-per-frame", "0"], "--seconds-per-frame must be positive"),
        (["RUN", "--gif", "walk.png"], "--gif must end in .gif"),
        (["RUN", "--gif", "FOLDER.gif"], "is a folder"),
        (["RUN", "--out", "FILE/walk.png"], "is a file, not a folder"),
        (["RUN", "--from", "GRID"], "at least 2 indices"),
        (["RUN", "--from", "GRID", "--indices", "0", "-1"], "Index -1"),
        (["RUN", "--from", "GRID", "--indices", "0", "1", "--pairs", "2"], "exclude"),
        (["RUN", "--from", "NOT_NPZ", "--indices", "0", "1"], "not a latents file"),
        (["RUN", "--indices", "0", "1"], "--indices needs --from"),
        (["RUN", "--loop"], "--loop needs --from"),
        # nan and inf passed the `<= 0` check and ended in a traceback.
        (["RUN", "--seconds-per-frame", "nan"], "must be positive and finite"),
        (["RUN", "--seconds-per-frame", "inf"], "must be positive and finite"),
        (["RUN", "--seconds-per-frame", "1000"], "must be at most 200"),
        (["MISSING"], "No such run directory or .keras file"),
        (["DISCRIMINATOR"], "is a discriminator"),
        (["TRUNCATED"], "not a zip archive; truncated"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_error(
    trained_run, grid, tmp_path, capsys, args, message
):
    (tmp_path / "folder.gif").mkdir()
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "not.npz").write_text("hello")
    paths = {
        "RUN": trained_run,
        "MISSING": tmp_path / "nothing",
        "DISCRIMINATOR": trained_run / "discriminator.keras",
        "TRUNCATED": truncated(trained_run, tmp_path),
        "GRID": grid.with_suffix(".npz"),
        "NOT_NPZ": tmp_path / "not.npz",
        "FOLDER.gif": tmp_path / "folder.gif",
        "FILE/walk.png": tmp_path / "file" / "walk.png",
    }
    argv = [str(paths.get(arg, arg)) for arg in args]
    argv += ["--out", str(tmp_path / "out.png")] if "--out" not in argv else []
    with pytest.raises(SystemExit) as raised:
        interpolate.main(argv)
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith("python -m dcgan_tf.interpolate: error: ")
    assert message in errors[0]


def test_flag_syntax_errors_keep_argparses_usage(capsys):
    with pytest.raises(SystemExit) as raised:
        interpolate.main(["RUN", "--method", "cubic"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m dcgan_tf.interpolate")
    assert "invalid choice: 'cubic'" in err
    with pytest.raises(SystemExit):
        interpolate.main(["RUN", "--seed", "-1"])
    assert "argument --seed: must be 0 or more, got -1" in capsys.readouterr().err


def test_interpolate_runs_as_a_module_with_help():
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.interpolate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "counted from 0" in result.stdout
    assert "--method {slerp,linear}" in result.stdout
    assert "--forward-batch" in result.stdout and "--batch-size" not in result.stdout
    # --help answers without loading TensorFlow (its messages, its seconds).
    assert result.stderr == ""


def test_the_walk_of_from_is_never_replaced(small_run, tmp_path):
    # The case: `--from walk.npz` with the default --out walk.png.
    latent_space.save_latents(tmp_path / "walk.npz", np.ones((4, LATENT_DIM)), 5)
    before = (tmp_path / "walk.npz").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.interpolate", str(small_run)]
        + ["--from", "walk.npz", "--indices", "0", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    errors = result.stderr.splitlines()
    assert len(errors) == 1, errors
    assert "would replace the --from file walk.npz" in errors[0]
    assert (tmp_path / "walk.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.npz"]


@pytest.mark.parametrize(
    "args",
    [["--out", "RUN/walk.png"], ["--gif", "RUN/samples/walk.gif"]],
)
def test_nothing_is_written_into_a_run_directory(
    small_run, tmp_path, monkeypatch, capsys, args
):
    monkeypatch.setattr(sampling, "load_generator", pytest.fail)  # before any work
    argv = [str(small_run), *(arg.replace("RUN", str(small_run)) for arg in args)]
    argv += ["--out", str(tmp_path / "out.png")] if "--out" not in argv else []
    with pytest.raises(SystemExit) as raised:
        interpolate.main(argv)
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and f"into the run directory {small_run}" in errors[0]
    assert not (small_run / "samples").exists()


def test_a_generator_that_is_not_finite_is_refused(tmp_path, capsys):
    path = save_generator(tmp_path / "diverged", fault="nan")
    out = tmp_path / "walk.png"
    with pytest.raises(SystemExit) as raised:
        interpolate.main([str(path), "--pairs", "1", "--out", str(out)])
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "not finite (NaN or inf" in errors[0], errors
    assert not out.exists()


def test_a_walk_too_long_for_a_grid_is_refused_before_drawing(
    small_run, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3 * (CELL + PADDING) ** 2)
    monkeypatch.setattr(sampling, "generate", pytest.fail)
    with pytest.raises(SystemExit) as raised:
        interpolate.main(
            [str(small_run), "--pairs", "1", "--steps", "5"]
            + ["--out", str(tmp_path / "walk.png")]
        )
    assert raised.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "ask for fewer with --steps or --pairs" in errors[0]
