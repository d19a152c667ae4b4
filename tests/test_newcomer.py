"""What a newcomer meets first (issue 23): files named as asked, labelled GIF
frames, plots that say what their lines are, help texts that match behaviour."""

import json
import math
import re

import numpy as np
import pytest
from PIL import Image

from dcgan_tf import evaluate, generate, neighbours
from dcgan_tf.sampling.images import GUTTER, LABEL_HEIGHT, PADDING, make_grid, read_gif
from dcgan_tf.training.plots import draw_run
from tests.conftest import DATA
from tests.test_docs import PAGES, ROOT

COMMANDS = ("train", "generate", "interpolate", "neighbours", "evaluate", "bench")


def test_picked_samples_are_named_after_their_indices_in_a_full_grid(
    trained_run, tmp_path, capsys
):
    grid = tmp_path / "grid.png"
    generate.main([str(trained_run), "--num", "64", "--seed", "3", "--out", str(grid)])
    picked = tmp_path / "picked.png"
    generate.main(
        [str(trained_run), "--from", str(grid.with_suffix(".npz"))]
        + ["--indices", "3", "17", "42", "--individual", "--out", str(picked)]
    )
    names = sorted(p.name for p in (tmp_path / "picked").iterdir())
    assert names == ["0003.png", "0017.png", "0042.png"]
    # One row of three: no empty grey cell.
    cell = 28 * math.ceil(64 / 28)
    assert Image.open(picked).size == (
        3 * (cell + PADDING) + PADDING,
        cell + 2 * PADDING,
    )


def test_progress_gif_frames_say_their_epoch_and_show_the_cells(trained_run):
    frames = read_gif(trained_run / "progress.gif")
    assert len(frames) == 3  # epochs 0, 1, 2
    bands = [frame[:LABEL_HEIGHT] for frame in frames]
    assert all(band.max() > 200 for band in bands)  # white text on black
    assert not np.array_equal(bands[1], bands[2])  # epoch 1, epoch 2
    assert not np.array_equal(bands[0], bands[1])  # "epoch 0 (untrained)"
    # A flat mid-grey grid (an untrained generator) still shows its cells.
    flat = make_grid(np.full((4, 8, 8, 1), 128, np.uint8), min_cell_size=8)
    assert set(np.unique(flat)) == {128, *GUTTER}
    between = flat[PADDING + 8 : 2 * PADDING + 8, :, 0]  # the gutter under row 1
    assert set(np.unique(between)) <= set(GUTTER)


def test_losses_plot_names_each_reference_line_and_shares_the_step_axis():
    steps = [
        {"step": s, "d_loss": 1.2, "g_loss": 0.8, "d_real": 0.6, "d_fake": 0.4}
        for s in range(25, 501, 25)
    ]
    epochs = [{"epoch": e, "d_loss": 1.2, "kid": 0.5 / e} for e in (1, 2, 3, 4, 5)]
    figure = draw_run(steps, epochs, 100)
    losses = [text.get_text() for text in figure.axes[0].texts]
    assert any("d_loss" in t and "2 ln 2" in t for t in losses), losses
    assert any("g_loss" in t and re.search(r"(?<!2 )ln 2", t) for t in losses), losses
    limits = {axis.get_xlim() for axis in figure.axes}
    assert len(limits) == 1, limits  # the KID panel starts where the others do
    assert figure.axes[-1].get_title().startswith("KID")


def test_neighbours_prints_the_seed_it_drew_with(trained_run, tmp_path, capsys):
    out = tmp_path / "neighbours.png"
    neighbours.main(
        [str(trained_run), "--num", "2", "--neighbours", "1", "--out", str(out)]
        + ["--data-dir", str(DATA / "fashion-mnist"), "--limit", "32"]
    )
    printed = capsys.readouterr().out
    seed = re.search(r"seed (\d+)", printed)
    assert seed, printed
    with np.load(out.with_suffix(".npz")) as saved:
        assert int(saved["seed"]) == int(seed.group(1))


def test_evaluate_lists_the_data_sets_it_takes(capsys):
    parser = evaluate.build_parser()
    assert "fashion_mnist|mnist|cifar10" in parser.format_help()
    with pytest.raises(SystemExit) as exit:
        parser.parse_args(["--dataset", "fashion-mnist"])
    assert exit.value.code == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_development_paths(command):
    import importlib

    module = importlib.import_module(f"dcgan_tf.{command}")
    assert "shared/" not in module.build_parser().format_help()


def test_docs_show_no_development_paths():
    for page in [*PAGES, ROOT / "notebooks" / "README.md", ROOT / "data" / "README.md"]:
        assert "../shared" not in page.read_text(), page


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name
)
def test_every_notebook_cell_has_an_id(notebook):
    # Without ids nbformat warns in every test run (and will refuse them).
    cells = json.loads(notebook.read_text())["cells"]
    assert all("id" in cell for cell in cells)


def test_steps_csv_rows_come_where_the_docs_say():
    # docs/training.md: a row at the end of the graph call that passes each
    # multiple of --log-every; 9 steps a call for Fashion-MNIST's 468.
    from dcgan_tf.training.tracking import MetricsLog

    log = MetricsLog(None, steps_per_epoch=468, log_every=25, tensorboard=False)
    log.on_epoch_begin(0)
    for end in range(9, 469, 9):
        log.on_train_batch_end(end - 1, {"d_loss": 1.0, "g_loss": 1.0})
    steps = [row["step"] for row in log.pending]
    assert steps[:6] == [27, 54, 81, 108, 126, 153]
    assert steps[-1] == 468
    # One step a call: exactly every --log-every steps.
    log = MetricsLog(None, steps_per_epoch=100, log_every=25, tensorboard=False)
    log.on_epoch_begin(0)
    for batch in range(100):
        log.on_train_batch_end(batch, {"d_loss": 1.0})
    assert [row["step"] for row in log.pending] == [25, 50, 75, 100]
