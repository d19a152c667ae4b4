"""Shipped presets (issue #31): the registry, a name resolved in one place (a
path here wins, with a note), presets read-only, and shipping a trained run
(`benchmarks/ship_preset.py`, `dcgan_tf.shipping.ship.ship`) into a preset
that draws exactly the run's images, with a complete card.

The registry's root is the package's folder; tests point it at a temporary
folder by an argument (`root=`) or, in a child process or here, by setting
`registry.ROOT`, never by writing into the package.
"""

import argparse
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_commands, save_generator
from PIL import Image

from dcgan_tf import presets
from dcgan_tf.presets import registry
from dcgan_tf.shipping import cards
from dcgan_tf.shipping import ship as shipping

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "fashion-mnist"
NAME = "fashion_mnist"


def fake_preset(folder: Path, files=registry.PRESET_FILES) -> Path:
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_bytes(b"x")
    return folder


# --- The registry and locate ---------------------------------------------------


def test_the_registry_lists_only_complete_preset_folders(tmp_path):
    root = tmp_path / "presets"
    fake_preset(root / "good")
    fake_preset(root / "partial", registry.PRESET_FILES[:-1])
    fake_preset(root / ".staging", registry.PRESET_FILES)
    fake_preset(root / "with_d", (*registry.PRESET_FILES, registry.DISCRIMINATOR))
    (root / "linked").symlink_to(root / "good", target_is_directory=True)
    (root / "stray.txt").write_text("x")
    linked_file = fake_preset(root / "link_inside", registry.PRESET_FILES[1:])
    (linked_file / registry.GENERATOR).symlink_to(root / "good" / registry.GENERATOR)
    assert presets.available(root) == ["good", "with_d"]
    assert presets.available(root, registry.DISCRIMINATOR) == ["with_d"]
    assert presets.listing(root) == "good, with_d"
    assert presets.listing(tmp_path / "empty") == "none yet"


def test_a_name_is_its_preset_when_no_path_of_that_name_exists(tmp_path, monkeypatch):
    root = tmp_path / "presets"
    fake_preset(root / NAME)
    monkeypatch.chdir(tmp_path)
    assert presets.locate(NAME, root=root) == root / NAME
    # A Path is always a path; a path-like string that is missing is left to
    # the loader, which names what is missing.
    assert presets.locate(Path(NAME), root=root) == Path(NAME)
    assert presets.locate("runs/" + NAME, root=root) == Path("runs/" + NAME)
    assert presets.locate("g.keras", root=root) == Path("g.keras")


def test_a_path_here_wins_over_a_preset_of_its_name_with_one_note(
    tmp_path, monkeypatch
):
    root = tmp_path / "presets"
    fake_preset(root / NAME)
    (tmp_path / "here" / NAME).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "here")
    notes = []
    assert presets.locate(NAME, root=root, note=notes.append) == Path(NAME)
    assert notes == [
        f"using the run directory ./{NAME} here, not the shipped preset {NAME} "
        f"(pass {root / NAME} to use the preset)"
    ]
    with pytest.warns(presets.PresetShadowedWarning, match="using the run directory"):
        presets.locate(NAME, root=root)


def test_a_name_that_is_no_path_and_no_preset_says_which_are_shipped(tmp_path):
    root = tmp_path / "presets"
    with pytest.raises(presets.PresetError) as error:
        presets.locate("nosuch", root=root)
    assert str(error.value) == (
        "No such run directory or .keras file: nosuch; nor is it a shipped "
        "preset's name (shipped: none yet)."
    )
    fake_preset(root / NAME)
    with pytest.raises(presets.PresetError, match=rf"\(shipped: {NAME}\)"):
        presets.locate("nosuch", root=root)
    with pytest.raises(presets.PresetError, match="has no discriminator.keras"):
        presets.locate(NAME, root=root, member=registry.DISCRIMINATOR)


def test_generate_with_no_such_run_and_no_preset_fails_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.generate", "nosuch"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "python -m dcgan_tf.generate: error: No such run directory or .keras "
        "file: nosuch; nor is it a shipped preset's name (shipped: "
        f"{presets.listing()})."
    ]


def test_help_of_the_commands_lists_the_shipped_presets(tmp_path):
    root = tmp_path / "presets"
    fake_preset(root / NAME)
    calls = [
        ("generate", ["--help"]),
        ("interpolate", ["--help"]),
        ("neighbours", ["--help"]),
        ("evaluate", ["--help"]),
        ("explore", ["--help"]),
    ]
    for code, out, _ in run_commands(root, calls, tmp_path):
        assert code == 0
        assert f"(shipped: {NAME})" in " ".join(out.split())
    for _, out, _ in run_commands(tmp_path / "none", calls[:1], tmp_path):
        assert "(shipped: none yet)" in " ".join(out.split())


def test_commands_never_write_into_a_preset(tmp_path):
    from dcgan_tf.cli import outputs

    preset = fake_preset(tmp_path / "anywhere" / NAME)
    for output in (
        outputs.Output("--json", preset / "results.json"),
        outputs.Output("--out", preset / "sub" / "grid.png"),
        outputs.Output("--out", preset / "walk", folder=True),
    ):
        with pytest.raises(outputs.OutputError, match="shipped preset's folder"):
            outputs.check_outputs([output])
    outputs.check_outputs([outputs.Output("--out", tmp_path / "grid.png")])


# --- Shipping a trained run -----------------------------------------------------


@pytest.fixture(scope="module")
def shipped(trained_run, tmp_path_factory):
    """The presets folder into which `benchmarks/ship_preset.py` shipped the
    trained run (with its D) as `fashion_mnist`, measured on 40 samples."""
    root = tmp_path_factory.mktemp("shipped") / "presets"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ship_preset.py")]
        + [str(trained_run), "--name", NAME, "--root", str(root)]
        + ["--discriminator", "--num-samples", "40"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1].startswith(f"Shipped {root / NAME}: ")
    return root


def test_ship_writes_a_complete_preset_and_nothing_else(shipped):
    assert presets.available(shipped) == [NAME]
    assert presets.available(shipped, registry.DISCRIMINATOR) == [NAME]
    assert sorted(p.name for p in shipped.iterdir()) == [NAME]  # no staging left
    assert sorted(p.name for p in (shipped / NAME).iterdir()) == sorted(
        (*registry.PRESET_FILES, registry.DISCRIMINATOR)
    )


def test_the_shipped_generator_is_the_runs_file_without_optimiser_state(
    shipped, trained_run
):
    file = shipped / NAME / registry.GENERATOR
    assert file.read_bytes() == (trained_run / "generator.keras").read_bytes()
    assert not shipping.optimizer_in_archive(file)
    config = json.loads((shipped / NAME / registry.CONFIG).read_text())
    run_config = json.loads((trained_run / "config.json").read_text())
    assert config["run_dir"] is None and config["data_dir"] is None
    assert {**config, "run_dir": None, "data_dir": None} == {
        **run_config,
        "run_dir": None,
        "data_dir": None,
    }


def test_a_preset_by_name_draws_exactly_the_runs_images(
    shipped, trained_run, tmp_path, monkeypatch
):
    from dcgan_tf.sampling import drawing, load_generator

    monkeypatch.setattr(registry, "ROOT", shipped)
    monkeypatch.chdir(tmp_path)
    preset = load_generator(NAME)
    run = load_generator(trained_run)
    assert preset.path == shipped / NAME / registry.GENERATOR
    assert (preset.latent_dim, preset.seed, preset.dataset) == (8, 7, NAME)
    latents = np.random.default_rng(3).standard_normal((12, 8)).astype(np.float32)
    assert np.array_equal(
        drawing.generate(preset, latents), drawing.generate(run, latents)
    )


def test_the_card_holds_every_field_and_finite_figures(shipped):
    card = json.loads((shipped / NAME / registry.CARD_JSON).read_text())
    training, evaluation = card["training"], card["evaluation"]
    assert card["name"] == NAME
    assert training["dataset"] == NAME and training["seed"] == 7
    assert training["epochs"] == 2 and training["generator_epoch"] == 2
    assert training["command_source"] == "rebuilt from the run's config.json"
    command = training["command"].split()
    assert command[:5] == ["python", "-m", "dcgan_tf.train", "--dataset", NAME]
    for flag, value in (("--epochs", "2"), ("--seed", "7"), ("--latent-dim", "8")):
        assert command[command.index(flag) + 1] == value
    assert "--run-dir" not in command
    assert training["machine"] and training["machine_source"]
    assert card["data"] == {"dataset": NAME, **cards.LICENCES[NAME]}
    assert card["data"]["licence"] == "MIT"
    assert evaluation["features"] and evaluation["num_samples"] == 40
    assert evaluation["num_real"] > 0 and evaluation["real_split"] == "test"
    for key in ("fid", "kid", "kid_std", "is", "is_std"):
        assert math.isfinite(evaluation[key]), key
    generator = card["generator"]
    assert generator["bytes"] == (shipped / NAME / registry.GENERATOR).stat().st_size
    assert generator["latent_dim"] == 8 and generator["image_shape"] == [28, 28, 1]
    assert card["samples"] == {"file": "samples.png", "count": 64, "seed": 0}
    assert [point["epoch"] for point in card["curve"]["points"]] == [2]
    assert math.isfinite(card["curve"]["points"][0]["fid"])
    quick = card["quick_check"]
    assert quick["data_dir"] == "tests/data/fashion-mnist" and quick["num_real"] == 256
    assert quick["seeds"] == list(range(10)) and quick["num_samples"] == 256
    for key in ("fid", "kid", "is"):
        values = quick["values"][key]
        assert len(values) == 10 and len(set(values)) > 1, key  # seeds differ
        assert quick[key]["low"] < quick[key]["mean"] < quick[key]["high"], key
    markdown = (shipped / NAME / registry.CARD_MD).read_text()
    assert "## Quick check" in markdown and "| epoch | FID |" in markdown
    assert training["command"] in markdown and "MIT" in markdown
    assert f"| FID | {evaluation['fid']:.4g} |" in markdown
    assert f"| KID | {evaluation['kid']:.4g} ± {evaluation['kid_std']:.2g} |" in (
        markdown
    )


def test_the_training_command_trains_the_recorded_configuration():
    from dcgan_tf.cli import arguments
    from dcgan_tf.config import TrainConfig

    config = TrainConfig(dataset=NAME, epochs=3, seed=5, recipe="modern").resolve()
    config = TrainConfig(**{**config.to_dict(), "run_dir": "/somewhere"})
    command = cards.training_command(config).split()
    assert command[command.index("--recipe") + 1] == "modern"
    parser = argparse.ArgumentParser()
    arguments.add_config_arguments(parser, TrainConfig)
    given = arguments.config_values(parser.parse_args(command[3:]), TrainConfig)
    rebuilt = TrainConfig(**given).resolve()
    expected = {**config.to_dict(), "run_dir": None}
    assert {**rebuilt.to_dict(), "run_dir": None} == expected


def test_commands_take_a_presets_name_and_a_path_here_wins(
    shipped, trained_run, tmp_path
):
    here = tmp_path / "here"
    save_generator(here / NAME, dataset=NAME)  # another generator, same name
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = str(busy.getsockname()[1])
    preset_grid = tmp_path / "preset.png"
    calls = [
        ("generate", [NAME, "--num", "64", "--seed", "0", "--out", str(preset_grid)]),
        ("generate", [str(shipped / NAME), "--num", "4", "--out", "x.png"]),
        ("explore", [NAME, "--port", port]),
        ("evaluate", [NAME, "--json", str(shipped / NAME / "results.json")]),
        ("interpolate", [NAME, "--pairs", "1", "--steps", "3", "--out", "walk.png"]),
        ("evaluate", [NAME, "--data-dir", str(DATA), "--num-samples", "20"]),
        ("neighbours", [NAME, "--data-dir", str(DATA), "--num", "2"]),
    ]
    results = run_commands(shipped, calls, tmp_path)
    busy.close()
    code, out, err = results[0]
    assert code == 0 and "note" not in err, err
    assert f"Generator {shipped / NAME / 'generator.keras'}" in out
    # The card's grid is what `generate NAME --num 64 --seed 0` draws.
    assert np.array_equal(
        np.asarray(Image.open(preset_grid)),
        np.asarray(Image.open(shipped / NAME / registry.SAMPLES)),
    )
    assert results[1][0] == 0
    code, out, err = results[2]
    assert code == 2 and f"Cannot listen on 127.0.0.1:{port}" in err
    assert f"Generator {shipped / NAME / 'generator.keras'}" in out
    code, out, err = results[3]
    assert code == 2 and "shipped preset's folder" in err
    assert not (shipped / NAME / "results.json").exists()
    for code, out, err in results[4:]:
        assert code == 0, err
        assert f"Generator {shipped / NAME / 'generator.keras'}" in out
    assert (tmp_path / "walk.png").is_file() and (tmp_path / "neighbours.png").is_file()
    assert "FID" in results[5][1]

    # In a folder holding ./fashion_mnist, that run wins, said once.
    calls = [("generate", [NAME, "--num", "4", "--out", "x.png"])]
    code, out, err = run_commands(shipped, calls, here)[0]
    assert code == 0, err
    assert err.splitlines() == [
        f"python -m dcgan_tf.generate: note: using the run directory ./{NAME} "
        f"here, not the shipped preset {NAME} (pass {shipped / NAME} to use the "
        "preset)"
    ]
    assert f"Generator {NAME}/generator.keras" in out


def test_represent_loads_a_presets_discriminator_by_name(
    shipped, trained_run, tmp_path, monkeypatch
):
    import keras

    from dcgan_tf import probe

    monkeypatch.setattr(registry, "ROOT", shipped)
    monkeypatch.chdir(tmp_path)
    loaded = probe.load_discriminator(NAME)
    assert loaded.source == shipped / NAME
    assert loaded.config.seed == 7
    run = probe.load_discriminator(trained_run)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    assert np.allclose(
        keras.ops.convert_to_numpy(loaded.model(images, training=False)),
        keras.ops.convert_to_numpy(run.model(images, training=False)),
        atol=1e-6,
    )


def test_ship_refuses_a_preset_that_exists_a_bad_name_and_an_unknown_licence(
    shipped, trained_run
):
    with pytest.raises(ValueError, match="exists.*--replace"):
        shipping.ship(trained_run, NAME, root=shipped)
    with pytest.raises(ValueError, match="bare word"):
        shipping.ship(trained_run, "../elsewhere", root=shipped)
    with pytest.raises(ValueError, match="--licence"):
        cards.data_licence("biked")
    assert cards.data_licence("biked", "CC BY 4.0")["licence"] == "CC BY 4.0"
    assert os.listdir(shipped) == [NAME]


def test_a_failed_ship_leaves_no_preset_and_no_staging_folder(
    trained_run, tmp_path, monkeypatch
):
    from dcgan_tf.data import DataError
    from dcgan_tf.quality import evaluation

    # The measurement fails after the generator is staged (its data gone, say).
    def no_data(*args, **kwargs):
        raise DataError("the data set went away")

    monkeypatch.setattr(evaluation, "evaluate", no_data)
    root = tmp_path / "presets"
    with pytest.raises(DataError, match="went away"):
        shipping.ship(trained_run, NAME, root=root, num_samples=20)
    assert presets.available(root) == []
    assert os.listdir(root) == []
