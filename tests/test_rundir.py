"""The run directory's promises, each with the fault injected: a write that
raises ENOSPC or EROFS, a truncated or deleted file, a folder that is no run."""

import errno
import json
import pathlib

import h5py
import numpy as np
import pytest
from conftest import tiny_dcgan

from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
from dcgan_tf.rundir import RunDir, RunDirError
from dcgan_tf.system import files
from dcgan_tf.system.files import WriteError

SHAPE = (16, 16, 1)


def _model(seed=0):
    return tiny_dcgan(SHAPE, seed)


def _failing(code):
    def write(path):
        with open(path, "wb") as file:
            file.write(b"half a file")
        raise OSError(code, "injected")

    return write


@pytest.mark.parametrize(
    "code, advice",
    [(errno.ENOSPC, "disk is full"), (errno.EROFS, "not writable")],
)
def test_a_failed_write_keeps_the_old_file_and_says_what_to_do(tmp_path, code, advice):
    path = tmp_path / "metrics.csv"
    path.write_text("the old file\n")
    with pytest.raises(WriteError) as info:
        files.write_atomically(path, _failing(code))
    message = str(info.value)
    assert str(path) in message and advice in message and "\n" not in message
    assert path.read_text() == "the old file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]


def test_a_kill_during_a_write_leaves_only_a_hidden_temporary_file(tmp_path):
    path = tmp_path / "generator.keras"
    path.write_bytes(b"complete")

    def killed(tmp):
        tmp.write_bytes(b"par")
        raise KeyboardInterrupt  # stands in for the process dying here

    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(path, killed)
    assert path.read_bytes() == b"complete"
    # What a real kill -9 leaves behind is cleared on resume.
    (tmp_path / ".tmp-generator.keras").write_bytes(b"par")
    RunDir(tmp_path).remove_temporary_files()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generator.keras"]


def test_no_room_for_a_checkpoint_is_refused_before_hdf5_starts(tmp_path, monkeypatch):
    run = RunDir(tmp_path)
    model = _model()
    run.save_checkpoint(model, 1, model.seed_generator.state)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    class Usage:
        free = 1000

    monkeypatch.setattr(files.shutil, "disk_usage", lambda path: Usage)
    with pytest.raises(WriteError, match="disk is full"):
        run.save_checkpoint(model, 2, model.seed_generator.state)
    with pytest.raises(WriteError, match="disk is full"):
        files.save_model(model.generator, tmp_path / "generator.keras")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert run.latest_checkpoint().epoch == 1


def test_checkpoints_resume_without_state_json_and_past_a_damaged_one(tmp_path):
    run = RunDir(tmp_path)
    model = _model()
    for epoch in (1, 2, 3):
        model.sample_latents(1)  # moves the seed state on
        run.save_checkpoint(model, epoch, model.seed_generator.state)
    # Only the last two are kept.
    assert sorted(p.name for p in tmp_path.glob("*.weights.h5")) == [
        "checkpoint_epoch_0002.weights.h5",
        "checkpoint_epoch_0003.weights.h5",
    ]
    newest = run.latest_checkpoint()
    assert newest.epoch == 3
    assert newest.seed_state == np.asarray(model.seed_generator.state).tolist()

    (tmp_path / "state.json").unlink()
    assert run.latest_checkpoint() == newest

    (tmp_path / "state.json").write_text('{"epoch": 3, "weig')  # cut short
    assert run.latest_checkpoint() == newest

    weights = newest.weights.read_bytes()
    newest.weights.write_bytes(weights[: len(weights) // 2])  # truncated
    assert run.latest_checkpoint().epoch == 2
    newest.weights.write_bytes(b"")  # empty
    assert run.latest_checkpoint().epoch == 2

    # Flipped bytes inside a file that still opens: its checksum tells.
    newest.weights.write_bytes(weights)
    assert run.latest_checkpoint().epoch == 3
    damaged = bytearray(weights)
    damaged[-100] ^= 0xFF  # in the last weights written, past HDF5's headers
    newest.weights.write_bytes(bytes(damaged))
    assert h5py.File(newest.weights, "r").visit(lambda name: None) is None  # opens
    assert run.latest_checkpoint().epoch == 2

    run.checkpoint_path(2).write_bytes(b"")
    with pytest.raises(RunDirError) as info:
        run.latest_checkpoint()
    assert "checkpoint_epoch_0002.weights.h5" in str(info.value)


def test_a_checkpoint_restores_weights_and_the_latent_seed_state(tmp_path):
    from dcgan_tf.training.callbacks import restore

    run = RunDir(tmp_path)
    model = _model()
    model.sample_latents(3)
    run.save_checkpoint(model, 1, model.seed_generator.state)
    (tmp_path / "state.json").unlink()  # the sidecar keeps the seed state
    fresh = _model(seed=5)
    assert restore(fresh, run.latest_checkpoint()) == 1
    np.testing.assert_array_equal(
        np.asarray(fresh.seed_generator.state), np.asarray(model.seed_generator.state)
    )
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_new_run_goes_only_where_nothing_is(tmp_path):
    config = TrainConfig(run_dir=str(tmp_path / "run")).resolve()
    latents = np.zeros((4, 100), "float32")
    RunDir(tmp_path / "run").create(config, latents)
    assert RunDir(tmp_path / "run").read_config() == config
    with pytest.raises(RunDirError, match="already holds a run"):
        RunDir(tmp_path / "run").create(config, latents)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "holiday.jpg").write_bytes(b"mine")
    with pytest.raises(RunDirError, match="not a run"):
        RunDir(tmp_path / "photos").create(config, latents)
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["holiday.jpg"]
    (tmp_path / "empty").mkdir()
    RunDir(tmp_path / "empty").create(config, latents)


def test_a_read_only_parent_is_one_error_and_leaves_nothing(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(pathlib.Path, "mkdir", refuse)
    with pytest.raises(RunDirError, match="not writable"):
        RunDir(tmp_path / "run").create(TrainConfig().resolve(), np.zeros((1, 1)))
    assert not (tmp_path / "run").exists()


def test_config_json_errors_name_the_file(tmp_path):
    with pytest.raises(RunDirError, match="not a run directory"):
        RunDir(tmp_path).read_config()
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(RunDirError) as info:
        RunDir(tmp_path).read_config()
    assert str(tmp_path / "config.json") in str(info.value)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(RunDirError, match="config.json"):
        RunDir(tmp_path).read_config()


def test_a_run_with_results_but_no_checkpoint_is_not_started_over(tmp_path):
    run = RunDir(tmp_path)
    run.check_nothing_to_lose()  # killed in its first epoch: starts again
    (tmp_path / "generator_epoch_0010.keras").write_bytes(b"a user's work")
    with pytest.raises(RunDirError, match="generator_epoch_0010.keras"):
        run.check_nothing_to_lose()


def test_resume_changes_are_recorded_in_config_json(tmp_path):
    config = TrainConfig().resolve()
    run = RunDir(tmp_path / "run")
    run.create(config, np.zeros((1, 1)))
    changed = TrainConfig(learning_rate=1e-4).resolve()
    run.write_config(changed, at_epoch=3)
    values = json.loads(run.config_path.read_text())
    assert values["learning_rate"] == 1e-4
    # --learning-rate sets both networks' rates, each recorded.
    assert values["resume_changes"] == [
        {"epoch": 3, "field": name, "from": 2e-4, "to": 1e-4}
        for name in ("learning_rate", "d_learning_rate", "g_learning_rate")
    ]
    assert run.read_config() == changed


def test_new_runs_are_numbered(tmp_path):
    assert rundir.next_run_dir("mnist", tmp_path).name == "00000-mnist"
    (tmp_path / "00000-mnist").mkdir()
    (tmp_path / "00007-cifar10").mkdir()
    assert rundir.next_run_dir("mnist", tmp_path).name == "00008-mnist"


def test_a_run_from_before_augmentation_and_ema_reads_as_it_trained(tmp_path):
    values = TrainConfig(dataset="fashion_mnist").resolve().to_dict()
    for name in ("augment", "ema", "saved_generator", "ada_target"):
        del values[name]
    values["num_samples"] = 16  # and a field renamed since
    (tmp_path / rundir.CONFIG).write_text(json.dumps(values))
    config = RunDir(tmp_path).read_config()
    assert (config.augment, config.ema, config.saved_generator) == (
        "none",
        0.0,
        "trained",
    )
    assert config.ada_target == 0.6 and config.grid_size == 16
    # A new run records which generator its .keras files hold.
    ema = TrainConfig(dataset="fashion_mnist", ema=0.999).resolve()
    assert ema.saved_generator == "ema"


def _made_run(path):
    run = RunDir(path)
    run.create(TrainConfig(run_dir=str(path)).resolve(), np.zeros((1, 1)))
    return run


def test_a_lock_that_is_a_link_is_refused_and_its_target_kept(tmp_path):
    run = _made_run(tmp_path / "run")
    mine = tmp_path / "thesis.txt"
    mine.write_text("a user's work")
    run.file(rundir.LOCK).symlink_to(mine)
    with pytest.raises(RunDirError, match="symbolic link"):
        run.lock()
    assert mine.read_text() == "a user's work"


def test_a_run_whose_folders_are_links_is_refused_and_nothing_there_touched(
    tmp_path,
):
    run = _made_run(tmp_path / "run")
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "epoch_0001.png").write_bytes(b"a user's picture")
    (photos / ".tmp-notes.txt").write_text("a user's own temporary file")
    run.file(rundir.SAMPLES).symlink_to(photos)
    run.remove_temporary_files()
    with pytest.raises(RunDirError) as info:
        run.lock()
    assert "samples" in str(info.value) and "\n" not in str(info.value)
    assert (photos / "epoch_0001.png").read_bytes() == b"a user's picture"
    assert (photos / ".tmp-notes.txt").exists()


def test_the_clean_up_deletes_only_what_the_run_left(tmp_path):
    run = _made_run(tmp_path / "run")
    (run.path / rundir.SAMPLES).mkdir()
    left = [".tmp-generator.keras", ".tmp-checkpoint_epoch_0003.weights.h5"]
    left += ["samples/.tmp-epoch_0003.png"]
    mine = [".tmp-notes.txt", "samples/.tmp-sketch.png"]
    for name in left + mine:
        run.file(name).write_text("x")
    run.remove_temporary_files()
    assert not any(run.file(name).exists() for name in left)
    assert all(run.file(name).exists() for name in mine)


def test_an_atomic_write_never_follows_a_planted_temporary_link(tmp_path):
    mine = tmp_path / "thesis.txt"
    mine.write_text("a user's work")
    (tmp_path / ".tmp-metrics.csv").symlink_to(mine)
    files.write_text(tmp_path / "metrics.csv", "epoch\n1\n")
    assert mine.read_text() == "a user's work"
    assert (tmp_path / "metrics.csv").read_text() == "epoch\n1\n"


# Each child waits for the word go, then makes one run: they race for numbers.
_NUMBER_A_RUN = """
import pathlib, sys, time
import numpy as np
from dcgan_tf import rundir
from dcgan_tf.config import TrainConfig
root = pathlib.Path(sys.argv[1])
while not (root / "go").exists():
    time.sleep(0.001)
config = TrainConfig().resolve()
run, config = rundir.create_numbered(config, np.zeros((1, 1)), "mnist", root)
print(run.path, config.run_dir)
"""


def test_runs_started_together_each_get_their_own_number(tmp_path):
    import subprocess
    import sys

    children = [
        subprocess.Popen(
            [sys.executable, "-c", _NUMBER_A_RUN, str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(10)
    ]
    (tmp_path / "go").touch()
    made = [child.communicate(timeout=120)[0].split() for child in children]
    assert all(child.returncode == 0 for child in children)
    paths = [path for path, _ in made]
    expected = {str(tmp_path / f"{n:05d}-mnist") for n in range(10)}
    assert sorted(paths) == sorted(expected)
    for path, recorded in made:
        assert recorded == path
        assert RunDir(path).read_config().run_dir == path
    assert not list(tmp_path.glob(".tmp-*"))
