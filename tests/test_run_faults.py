"""A hostile user's faults against a run directory (issue #28): a kill while
the final generator is written, damaged grids, config.json and sidecars, a
TensorBoard folder that cannot be written, a lock that is no file, links.
Each keeps every completed epoch and ends in one line or a warning, never a
traceback or a silent wrong result."""

import errno
import json
import os
import shutil

import numpy as np
import pytest
from conftest import DATA, TINY

from dcgan_tf.model import build_dcgan
from dcgan_tf.rundir import RunDir, RunDirError, checkpoints
from dcgan_tf.sampling.images import read_gif
from dcgan_tf.sampling.loading import load_generator
from dcgan_tf.system import files
from dcgan_tf.train import main
from dcgan_tf.training.callbacks import restore

FASHION = str(DATA / "fashion-mnist")
COMMON = ["--data-dir", FASHION, "--steps-per-epoch", "2", "--quality-every", "0"]


def _train(args):
    main([*COMMON, "--seed", "7", *TINY, *args])


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A finished run of one epoch of 2 tiny steps, copied by each test."""
    run_dir = tmp_path_factory.mktemp("made") / "run"
    _train(["--epochs", "1", "--keep-every", "1", "--run-dir", str(run_dir)])
    return run_dir


@pytest.fixture
def run_dir(one_epoch, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(one_epoch, copy)
    return copy


def _error(capsys, args):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("python -m dcgan_tf.train: error: ")
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


def _resume(args, capsys):
    """Resumes; returns (stdout, the warning lines of stderr)."""
    main(["--resume", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return out, [line for line in err.splitlines() if line.startswith("warning:")]


# --- 1. A kill while the final generator.keras is written -------------------


class Killed(BaseException):
    """What a kill -9 does to the process: nothing after it runs."""


def test_a_generator_cut_short_by_a_kill_is_refused_then_rewritten(
    run_dir, capsys, monkeypatch
):
    save_model = files.save_model

    def killed_at_epoch_2(model, path):
        if path.name == "generator.keras" and RunDir(run_dir).completed_epochs() == 2:
            raise Killed  # after the checkpoint and state.json of epoch 2
        return save_model(model, path)

    monkeypatch.setattr(files, "save_model", killed_at_epoch_2)
    with pytest.raises(Killed):
        main(["--resume", str(run_dir), "--epochs", "2"])
    monkeypatch.setattr(files, "save_model", save_model)
    capsys.readouterr()
    run = RunDir(run_dir)
    assert run.completed_epochs() == 2
    # generate and every other command: the stale generator is not used.
    with pytest.raises(RunDirError, match="epoch 1, not of the run's last"):
        load_generator(run_dir)

    with pytest.raises(SystemExit) as info:
        main(["--resume", str(run_dir)])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "rewritten from checkpoint_epoch_0002.weights.h5" in out
    generator = load_generator(run_dir)  # accepted now
    model = build_dcgan(run.read_config())
    restore(model, run.latest_checkpoint())
    for saved, trained in zip(
        generator.model.get_weights(), model.sampling_generator.get_weights()
    ):
        np.testing.assert_array_equal(saved, trained)
    # And a resume again has nothing to rewrite.
    with pytest.raises(SystemExit):
        main(["--resume", str(run_dir)])
    assert "rewritten" not in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_finished_run_missing_its_generator_gets_it_back(run_dir, capsys, damage):
    path = run_dir / "generator.keras"
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(SystemExit) as info:
        main(["--resume", str(run_dir)])
    assert info.value.code == 0
    assert "rewritten from checkpoint_epoch_0001" in capsys.readouterr().out
    load_generator(run_dir)


# --- 2. Damaged grids never cost an epoch -------------------------------------


def test_a_truncated_or_foreign_grid_costs_no_epoch(run_dir, capsys):
    grid = run_dir / "samples" / "epoch_0001.png"
    grid.write_bytes(grid.read_bytes()[:100])
    (run_dir / "samples" / "epoch_0007.png").write_text("not an image")
    _, warnings = _resume([str(run_dir), "--epochs", "2"], capsys)
    assert RunDir(run_dir).completed_epochs() == 2
    assert len(warnings) == 1
    assert "epoch_0001.png" in warnings[0] and "epoch_0007.png" in warnings[0]
    assert len(read_gif(run_dir / "progress.gif")) == 2  # untrained, epoch 2


# --- 3. TensorBoard trouble never stops training -----------------------------


def test_tensorboard_as_a_file_is_a_warning_and_the_run_goes_on(run_dir, capsys):
    shutil.rmtree(run_dir / "tensorboard")
    (run_dir / "tensorboard").write_text("mine")
    _, warnings = _resume([str(run_dir), "--epochs", "2"], capsys)
    assert RunDir(run_dir).completed_epochs() == 2
    assert len(warnings) == 1 and "TensorBoard" in warnings[0]
    assert (run_dir / "tensorboard").read_text() == "mine"


def test_a_read_only_tensorboard_folder_is_a_warning(run_dir, capsys, monkeypatch):
    # As root, chmod does not stop a write: the writer raises what it would.
    from tensorboard.summary.writer import event_file_writer

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(event_file_writer, "EventFileWriter", read_only)
    _, warnings = _resume([str(run_dir), "--epochs", "2"], capsys)
    assert RunDir(run_dir).completed_epochs() == 2
    assert len(warnings) == 1 and "Permission denied" in warnings[0]


def test_no_tensorboard_is_accepted_on_resume(run_dir, capsys):
    before = sorted(p.name for p in (run_dir / "tensorboard").iterdir())
    _resume([str(run_dir), "--epochs", "2", "--no-tensorboard"], capsys)
    assert RunDir(run_dir).completed_epochs() == 2
    assert sorted(p.name for p in (run_dir / "tensorboard").iterdir()) == before
    assert json.loads((run_dir / "config.json").read_text())["tensorboard"] is False


def test_random_byte_event_files_are_set_aside_as_damaged(run_dir, capsys):
    (event,) = (run_dir / "tensorboard").glob("*tfevents*")
    event.write_bytes(np.random.default_rng(0).bytes(3000))
    _, warnings = _resume([str(run_dir), "--epochs", "2"], capsys)
    assert RunDir(run_dir).completed_epochs() == 2
    assert (event.parent / (event.name + ".damaged")).is_file()
    assert any("damaged" in line for line in warnings)


# --- 4. config.json: what is missing, and which file is damaged ---------------


@pytest.mark.parametrize("field", ["steps_per_epoch", "latent_dim"])
def test_a_config_json_missing_a_field_is_refused_naming_it(run_dir, capsys, field):
    config = json.loads((run_dir / "config.json").read_text())
    del config[field]
    (run_dir / "config.json").write_text(json.dumps(config))
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "2"])
    assert field in message and "config.json" in message
    assert RunDir(run_dir).completed_epochs() == 1


@pytest.mark.parametrize("field", ["epochs", "batch_size", "latent_dim"])
@pytest.mark.parametrize("more", [[], ["--epochs", "3"]])
def test_a_config_json_with_a_null_number_is_refused_naming_it(
    run_dir, capsys, field, more
):
    # A hostile pass: "epochs": null ended in a TypeError traceback.
    config = json.loads((run_dir / "config.json").read_text())
    config[field] = None
    (run_dir / "config.json").write_text(json.dumps(config))
    message = _error(capsys, ["--resume", str(run_dir), *more])
    assert field in message and "null" in message and "config.json" in message
    assert RunDir(run_dir).completed_epochs() == 1


def test_a_damaged_config_json_is_blamed_not_the_intact_checkpoint(run_dir, capsys):
    config = json.loads((run_dir / "config.json").read_text())
    config["generator_filters"] = 16
    (run_dir / "config.json").write_text(json.dumps(config))
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "2"])
    assert "config.json was changed or damaged" in message
    assert "intact" in message


# --- 5. A lock that is not a file --------------------------------------------


def test_a_lock_that_is_a_folder_refuses_the_resume(run_dir, capsys):
    (run_dir / ".lock").unlink(missing_ok=True)
    (run_dir / ".lock").mkdir()
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "2"])
    assert ".lock is a folder" in message
    assert RunDir(run_dir).completed_epochs() == 1


# --- 6. An empty sidecar and a bad seed state -----------------------------------


@pytest.mark.parametrize("sidecar", ["", "{}"], ids=["empty", "empty_object"])
def test_an_empty_sidecar_and_a_bad_seed_state_resume_saying_so(
    run_dir, capsys, sidecar
):
    (run_dir / "checkpoint_epoch_0001.json").write_text(sidecar)
    state = json.loads((run_dir / "state.json").read_text())
    state["seed_state"] = "bad"
    (run_dir / "state.json").write_text(json.dumps(state))
    out, warnings = _resume([str(run_dir), "--epochs", "2"], capsys)
    assert "from epoch 1 (checkpoint_epoch_0001.weights.h5)" in out  # kept
    assert len(warnings) == 1 and "not exactly" in warnings[0]
    assert RunDir(run_dir).completed_epochs() == 2


# --- 7. Checkpoint intervals and orphan sidecars -------------------------------


def test_step_checkpoints_come_at_every_interval_not_after_it(tmp_path):
    # 10 steps at a time would checkpoint 15 at 20 (a kill could lose 19
    # steps): the steps per execution divide the interval too.
    from dcgan_tf.config import TrainConfig
    from dcgan_tf.model import steps_per_execution

    config = TrainConfig(
        steps_per_epoch=30, steps_per_execution=10, checkpoint_every_steps=15
    )
    assert steps_per_execution(config) == 5
    run_dir = tmp_path / "run"
    main(
        [
            *COMMON[:2],
            "--steps-per-epoch",
            "30",
            "--steps-per-execution",
            "10",
            "--checkpoint-every-steps",
            "15",
            "--epochs",
            "1",
            "--run-dir",
            str(run_dir),
            *TINY,
        ]
    )
    names = sorted(p.name for p in run_dir.glob("checkpoint_*.weights.h5"))
    assert names == [
        "checkpoint_epoch_0000_step_000015.weights.h5",
        "checkpoint_epoch_0001.weights.h5",
    ]
    assert not (run_dir / "checkpoint_epoch_0000_step_000020.json").exists()


def test_orphan_sidecars_are_removed_and_others_kept(run_dir):
    orphan = run_dir / "checkpoint_epoch_0000_step_000020.json"
    orphan.write_text("{}")
    newer = run_dir / "checkpoint_epoch_0009.json"  # not older: not ours to judge
    newer.write_text("{}")
    run = RunDir(run_dir)
    config = run.read_config()
    model = build_dcgan(config)
    restore(model, run.latest_checkpoint())
    run.save_checkpoint(model, 1, model.seed_generator.state, step=1)
    assert not orphan.exists() and newer.exists()
    assert (run_dir / "checkpoint_epoch_0001.json").exists()
    assert checkpoints.latest(run_dir).position == (1, 1)


# --- 8. Lines that say what is wrong ------------------------------------------


def test_a_run_dir_that_is_a_link_is_refused_at_once(tmp_path, capsys):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "run"
    link.symlink_to(target)
    message = _error(capsys, [*COMMON, "--run-dir", str(link), *TINY])
    assert "symbolic link" in message
    assert link.is_symlink() and not any(target.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_a_data_dir_that_is_a_file_is_called_a_file(tmp_path, capsys):
    path = tmp_path / "images.zip"
    path.write_text("x")
    message = _error(capsys, ["--dataset", "folder", "--data-dir", str(path)])
    assert "is a file, not a folder" in message


def test_samples_as_a_file_says_what_to_move(run_dir, capsys):
    shutil.rmtree(run_dir / "samples")
    (run_dir / "samples").write_text("mine")
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "2"])
    assert f"mv {run_dir / 'samples'}" in message
    assert "Resume with" not in message
    assert (run_dir / "samples").read_text() == "mine"
    assert not os.path.exists(run_dir / "checkpoint_epoch_0002.weights.h5")
