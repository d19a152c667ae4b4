"""What a resume reads back is checked like a flag: `state.json` and the
sidecars can name only this run's own checkpoints, with sane values; anything
else is passed over (with a warning) or one line, never a traceback."""

import json
import shutil

import pytest
from conftest import tiny_dcgan

from dcgan_tf.rundir import RunDir, RunDirError, checkpoints

SHAPE = (16, 16, 1)


@pytest.fixture(scope="module")
def model():
    return tiny_dcgan(SHAPE)


def _run(folder, model, positions):
    run = RunDir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for epoch, step in positions:
        model.sample_latents(1)  # moves the seed state on
        run.save_checkpoint(model, epoch, model.seed_generator.state, step=step)
    return run


def test_checkpoints_within_epochs_are_ordered_and_named_by_position(tmp_path, model):
    run = _run(tmp_path, model, [(1, 0), (1, 3), (2, 0), (2, 2)])
    names = sorted(p.name for p in tmp_path.glob("*.weights.h5"))
    assert names == [
        "checkpoint_epoch_0002.weights.h5",
        "checkpoint_epoch_0002_step_000002.weights.h5",
    ]
    latest = run.latest_checkpoint()
    assert latest.position == (2, 2)
    assert latest.describe() == "epoch 2, step 2 of epoch 3"
    (tmp_path / "state.json").unlink()
    assert run.latest_checkpoint().position == (2, 2)


def test_state_json_naming_another_runs_checkpoint_is_ignored(tmp_path, model):
    other = _run(tmp_path / "other", model, [(5, 0)])
    run = _run(tmp_path / "run", model, [(1, 0)])
    state = json.loads(run.state_path.read_text())
    for name in (
        str(other.checkpoint_path(5)),  # an absolute path
        "../other/checkpoint_epoch_0005.weights.h5",
        "config.json",
    ):
        run.state_path.write_text(json.dumps({**state, "weights": name, "epoch": 5}))
        with pytest.warns(UserWarning, match="names no checkpoint of this run"):
            assert run.latest_checkpoint().weights == run.checkpoint_path(1)


@pytest.mark.parametrize("epoch", [-5, 3, "1", 1e308, None])
def test_state_json_whose_epoch_disagrees_with_its_file_is_ignored(
    tmp_path, model, epoch
):
    run = _run(tmp_path, model, [(1, 0), (2, 0)])
    state = json.loads(run.state_path.read_text())
    # Named epoch 1's file but says another epoch: it would relabel the weights.
    state.update(weights=run.checkpoint_path(1).name, epoch=epoch)
    run.state_path.write_text(json.dumps(state))
    with pytest.warns(UserWarning):
        assert run.latest_checkpoint().position == (2, 0)


@pytest.mark.parametrize(
    "seed_state", [[1e29, 0], [-1, 0], [2**40, 0], "0 0", [True, 0], []]
)
def test_a_damaged_sidecar_passes_its_checkpoint_over(tmp_path, model, seed_state):
    run = _run(tmp_path, model, [(1, 0), (2, 0)])
    sidecar = checkpoints.sidecar(run.checkpoint_path(2))
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "seed_state": seed_state}))
    run.state_path.unlink()
    with pytest.warns(UserWarning, match="is damaged"):
        assert run.latest_checkpoint().position == (1, 0)
    shutil.copy(sidecar, checkpoints.sidecar(run.checkpoint_path(1)))
    with pytest.warns(UserWarning), pytest.raises(RunDirError) as info:
        run.latest_checkpoint()
    assert "No complete checkpoint" in str(info.value)
    assert "\n" not in str(info.value)


def test_running_metrics_in_a_sidecar_are_checked(tmp_path, model):
    run = RunDir(tmp_path)
    metrics = {"d_loss": [3.5, 2.0]}
    run.save_checkpoint(model, 1, model.seed_generator.state, step=2, metrics=metrics)
    assert run.latest_checkpoint().metrics == metrics
    sidecar = checkpoints.sidecar(run.checkpoint_path(1, 2))
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "metrics": {"d_loss": ["x"]}}))
    with pytest.warns(UserWarning), pytest.raises(RunDirError):
        run.latest_checkpoint()


def test_values_of_config_json_are_checked_and_name_the_file(tmp_path):
    from dcgan_tf.config import TrainConfig

    values = TrainConfig().resolve().to_dict()
    for field, value in [
        ("epochs", 1e308),
        ("steps_per_epoch", 1e23),
        ("generator_filters", 8.5),
        ("epochs", 10**9),
        ("seed", "0"),
    ]:
        (tmp_path / "config.json").write_text(json.dumps({**values, field: value}))
        with pytest.raises(RunDirError) as info:
            RunDir(tmp_path).read_config()
        message = str(info.value)
        assert str(tmp_path / "config.json") in message and field.split("_")[0] in (
            message
        )
        assert "\n" not in message
