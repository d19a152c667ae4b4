"""The check every command makes before writing (dcgan_tf.cli.outputs): no output
replaces one of the command's inputs or lands in a run directory, whatever
links or `..` lead there."""

import os

import pytest

from dcgan_tf.cli import outputs
from dcgan_tf.cli.outputs import Output, OutputError, check_outputs, run_directory_of
from dcgan_tf.config import TrainConfig
from dcgan_tf.system import files


@pytest.fixture
def run(tmp_path):
    """A run directory (config.json, latents.npy) with a samples/ folder."""
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    files.write_json(run / "config.json", TrainConfig().to_dict())
    (run / "latents.npy").write_bytes(b"latents")
    (run / "generator.keras").write_bytes(b"model")
    return run


def test_a_run_is_found_from_any_path_inside_it(run, tmp_path):
    assert run_directory_of(run / "grid.png") == run
    assert run_directory_of(run / "samples" / "new" / "grid.png") == run
    assert run_directory_of(tmp_path / "elsewhere" / "../run/x.png") == run
    (tmp_path / "link").symlink_to(run)
    assert run_directory_of(tmp_path / "link" / "grid.png") == run
    assert run_directory_of(tmp_path / "grid.png") is None
    # A run whose latents are gone is still a run: its state.json says so.
    (run / "latents.npy").unlink()
    (run / "state.json").write_text("{}")
    assert run_directory_of(run / "samples" / "grid.png") == run
    # A project's own config.json alone makes no run.
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "config.json").write_text("{}")
    assert run_directory_of(tmp_path / "project" / "grid.png") is None


@pytest.mark.parametrize(
    "out",
    [
        "run/config.json",
        "run/grid.png",
        "run/samples/epoch_0001.png",
        "run/new/folder/grid.png",
        "elsewhere/../run/grid.png",
        "run_link/grid.png",  # a link to the run's folder
        "link_to_config.json",  # a link to the run's config.json
    ],
)
def test_nothing_is_written_into_a_run(run, tmp_path, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "run_link").symlink_to(run)
    (tmp_path / "link_to_config.json").symlink_to(run / "config.json")
    with pytest.raises(OutputError, match=f"into the run directory {run} ") as error:
        check_outputs([Output("--json", out)])
    assert "choose another --json" in str(error.value)


def test_a_link_inside_a_run_is_refused_though_it_points_outside(run, tmp_path):
    # An atomic write replaces the link itself, which is the run's entry.
    (run / "samples" / "out.png").symlink_to(tmp_path / "mine.png")
    with pytest.raises(OutputError, match="run directory"):
        check_outputs([Output("--out", run / "samples" / "out.png")])


def test_an_input_is_never_replaced_under_any_name(tmp_path):
    source = tmp_path / "grid.npz"
    source.write_bytes(b"latents")
    (tmp_path / "alias.npz").symlink_to(source)
    os.link(source, tmp_path / "hard.npz")
    inputs = [("the --from file", source)]
    for name in ("grid.npz", "alias.npz", "hard.npz", "sub/../grid.npz"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        out = Output("--out", tmp_path / name, "the latents of --out")
        with pytest.raises(OutputError) as error:
            check_outputs([out], inputs)
        assert str(error.value) == (
            f"the latents of --out would replace the --from file {source}, which "
            "this command reads; choose another --out."
        )


def test_nothing_is_written_inside_the_data(tmp_path):
    data = tmp_path / "flowers"
    (data / "roses").mkdir(parents=True)
    inputs = [("the --data-dir", data)]
    for out in (data / "n.png", data / "roses" / "n.png"):
        with pytest.raises(OutputError, match="inside the --data-dir"):
            check_outputs([Output("--out", out)], inputs)
    with pytest.raises(OutputError, match="inside the --data-dir"):
        check_outputs([Output("--out", data / "roses", folder=True)], inputs)


def test_outputs_beside_the_inputs_are_fine(tmp_path):
    (tmp_path / "g.keras").write_bytes(b"model")
    (tmp_path / "grid.npz").write_bytes(b"latents")
    inputs = [("the --from file", tmp_path / "grid.npz"), ("no --data-dir", None)]
    inputs += outputs.generator_inputs(tmp_path / "g.keras")
    written = [*outputs.grid_outputs(tmp_path / "g.png"), Output("--gif", None)]
    # --individual writes into a folder of its own beside the grid.
    written.append(Output("--out", tmp_path / "g", folder=True))
    check_outputs(written, inputs)


def test_a_generators_inputs_are_its_file_and_its_runs_data(run, tmp_path):
    files.write_json(
        run / "config.json", TrainConfig(data_dir=str(tmp_path / "data")).to_dict()
    )
    assert outputs.generator_inputs(run) == [
        ("the generator", run / "generator.keras"),
        ("the run's data folder", tmp_path / "data"),
    ]
    # What cannot be read yet is the loader's to report, after the checks.
    assert outputs.generator_inputs(tmp_path / "missing") == [
        ("the generator", tmp_path / "missing")
    ]
    (run / "config.json").write_text("{ half")
    assert outputs.generator_inputs(run) == [("the generator", run / "generator.keras")]
