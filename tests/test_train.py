import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import TINY

from dcgan_tf import runs
from dcgan_tf.callbacks import read_state
from dcgan_tf.config import TrainConfig
from dcgan_tf.images import read_gif
from dcgan_tf.train import main

ARTIFACTS = [
    "config.json",
    "latents.npy",
    "samples/epoch_0000.png",
    "samples/epoch_0001.png",
    "progress.gif",
    "metrics.csv",
    "losses.png",
    "generator.keras",
    "state.json",
]


def _train(args):
    main([*args, "--seed", "7", *TINY])


def _csv_rows(run_dir):
    return (run_dir / "metrics.csv").read_text().strip().splitlines()[1:]


def test_dry_run_from_the_command_line_writes_every_artifact(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dcgan_tf.train",
            "--dry-run",
            "--run-dir",
            str(run_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert '"seed": 42' in result.stdout
    for name in ARTIFACTS:
        assert (run_dir / name).exists(), name
    assert json.loads((run_dir / "state.json").read_text())["epoch"] == 1


def test_short_run_on_real_fashion_mnist_writes_every_artifact(tmp_path, fashion_dir):
    run_dir = tmp_path / "run"
    _train(
        [
            "--data-dir",
            fashion_dir,
            "--epochs",
            "2",
            "--steps-per-epoch",
            "3",
            "--keep-every",
            "2",
            "--run-dir",
            str(run_dir),
        ]
    )
    for name in [*ARTIFACTS, "samples/epoch_0002.png", "generator_epoch_0002.keras"]:
        assert (run_dir / name).exists(), name
    config = json.loads((run_dir / "config.json").read_text())
    assert config["dataset"] == "fashion_mnist" and config["steps_per_epoch"] == 3
    assert len(_csv_rows(run_dir)) == 2
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["epoch", "d_loss", "g_loss"]
    frames = read_gif(run_dir / "progress.gif")
    assert len(frames) == 3  # untrained, epoch 1, epoch 2
    # 16 samples in a 4x4 grid of 28 px images enlarged 3x, 2 px borders.
    assert frames[0].shape[:2] == (4 * 84 + 5 * 2, 4 * 84 + 5 * 2)
    generator = keras.models.load_model(run_dir / "generator.keras")
    latents = np.load(run_dir / "latents.npy")
    assert latents.shape == (16, 16)
    images = np.asarray(generator(latents))
    assert images.shape == (16, 28, 28, 1)


def test_resume_after_one_epoch_equals_two_epochs(tmp_path, fashion_dir):
    common = ["--data-dir", fashion_dir, "--steps-per-epoch", "3"]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _train([*common, "--epochs", "2", "--run-dir", str(straight)])
    _train([*common, "--epochs", "1", "--run-dir", str(resumed)])
    main(["--resume", str(resumed), "--epochs", "2"])
    assert read_state(resumed)["epoch"] == 2
    config = TrainConfig.load(straight / "config.json")
    a, b = runs.build_model(config), runs.build_model(config)
    runs.restore(a, straight)
    runs.restore(b, resumed)
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.g_optimizer.variables, b.g_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert len(_csv_rows(resumed)) == 2
    assert len(read_gif(resumed / "progress.gif")) == 3


class _InterruptAt(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_last_epoch_and_resumes(tmp_path):
    config = TrainConfig(
        dataset="fashion_mnist",
        epochs=2,
        steps_per_epoch=2,
        batch_size=8,
        generator_filters=8,
        discriminator_filters=8,
        num_samples=4,
        run_dir=str(tmp_path / "run"),
    )
    first = runs.train(config, dry_run=True, verbose=0)
    assert read_state(first.run_dir)["epoch"] == 1
    interrupted = runs.train(
        TrainConfig(epochs=3),
        resume=first.run_dir,
        dry_run=True,
        callbacks=[_InterruptAt()],
        verbose=0,
    )
    assert interrupted.interrupted
    assert read_state(first.run_dir)["epoch"] == 1
    assert (first.run_dir / "generator_interrupted.keras").exists()
    finished = runs.train(TrainConfig(epochs=2), resume=first.run_dir, dry_run=True)
    assert finished.initial_epoch == 1 and not finished.interrupted
    assert read_state(first.run_dir)["epoch"] == 2


def _error(capsys, args):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("python -m dcgan_tf.train: error: ")
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


def test_bad_inputs_are_one_line_errors(tmp_path, capsys, fashion_dir):
    message = _error(capsys, ["--dataset", "folder", "--image-size", "30"])
    assert "28, 32" in message
    message = _error(
        capsys, ["--dataset", "folder", "--data-dir", str(tmp_path / "no")]
    )
    assert str(tmp_path / "no") in message
    (tmp_path / "empty").mkdir()
    message = _error(
        capsys, ["--dataset", "folder", "--data-dir", str(tmp_path / "empty")]
    )
    assert "image" in message.lower()
    assert "at least 1" in _error(capsys, ["--batch-size", "0"])
    assert "--epochs" in _error(capsys, ["--epochs", "-3"])
    assert "label-smoothing" in _error(capsys, ["--label-smoothing", "1.5"])
    assert "invalid choice" in _error(capsys, ["--dataset", "imagenet"])
    assert "invalid int" in _error(capsys, ["--epochs", "many"])
    assert "not a run directory" in _error(capsys, ["--resume", str(tmp_path)])
    assert "only --epochs" in _error(capsys, ["--resume", str(tmp_path), "--seed", "1"])


def test_a_run_directory_is_never_overwritten(tmp_path, capsys, fashion_dir):
    run_dir = str(tmp_path / "run")
    main(["--dry-run", "--run-dir", run_dir, *TINY])
    before = (tmp_path / "run" / "state.json").read_text()
    message = _error(capsys, ["--dry-run", "--run-dir", run_dir, *TINY])
    assert "already holds a run" in message and "--resume" in message
    assert (tmp_path / "run" / "state.json").read_text() == before


def test_new_runs_are_numbered(tmp_path):
    assert runs.next_run_dir("mnist", tmp_path).name == "00000-mnist"
    (tmp_path / "00000-mnist").mkdir()
    (tmp_path / "00007-cifar10").mkdir()
    assert runs.next_run_dir("mnist", tmp_path).name == "00008-mnist"
