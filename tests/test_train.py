import json
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import TINY

from dcgan_tf import training
from dcgan_tf.callbacks import restore
from dcgan_tf.files import Lock
from dcgan_tf.images import read_gif
from dcgan_tf.model import build_dcgan
from dcgan_tf.rundir import RunDir
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
        # As a user's shell: earlier in-process commands set it in this one.
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    assert result.returncode == 0, result.stderr
    assert '"seed": 42' in result.stdout
    # What is printed is what runs: one epoch of two steps.
    assert '"epochs": 1,' in result.stdout and '"steps_per_epoch": 2,' in result.stdout
    # TensorFlow's C++ start-up chatter is hidden.
    assert "absl" not in result.stderr and "cuda" not in result.stderr.lower()
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
    # 16 samples in a 4x4 grid of 28 px images enlarged 3x, 2 px borders,
    # under the 16 px band that says the epoch.
    assert frames[0].shape[:2] == (16 + 4 * 84 + 5 * 2, 4 * 84 + 5 * 2)
    generator = keras.models.load_model(run_dir / "generator.keras")
    latents = np.load(run_dir / "latents.npy")
    assert latents.shape == (16, 16)
    images = np.asarray(generator(latents))
    assert images.shape == (16, 28, 28, 1)


# ADA's p moves by 1 in 50 images here, so that it changes at every step.
AUGMENTED = ["--augment", "ada", "--ada-kimg", "0.05", "--ema", "0.9"]


@pytest.mark.parametrize("flags", [[], AUGMENTED], ids=["plain", "ada_ema"])
def test_resume_after_one_epoch_equals_two_epochs(tmp_path, fashion_dir, flags):
    common = ["--data-dir", fashion_dir, "--steps-per-epoch", "3", *flags]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _train([*common, "--epochs", "2", "--run-dir", str(straight)])
    _train([*common, "--epochs", "1", "--run-dir", str(resumed)])
    main(["--resume", str(resumed), "--epochs", "2"])
    assert RunDir(resumed).completed_epochs() == 2
    config = RunDir(straight).read_config()
    a, b = build_dcgan(config), build_dcgan(config)
    restore(a, RunDir(straight).latest_checkpoint())
    restore(b, RunDir(resumed).latest_checkpoint())
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.g_optimizer.variables, b.g_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert len(_csv_rows(resumed)) == 2
    assert len(read_gif(resumed / "progress.gif")) == 3
    if flags:
        # p and the averaged generator are part of the state that resumes.
        assert 0.0 < float(np.asarray(b.augment_probability)) < 1.0
        assert config.saved_generator == "ema"
        saved = keras.models.load_model(resumed / "generator.keras")
        for x, y in zip(saved.get_weights(), b.ema_generator.get_weights()):
            np.testing.assert_array_equal(x, y)


def _error(capsys, args):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("python -m dcgan_tf.train: error: ")
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


def test_bad_inputs_are_one_line_errors(tmp_path, capsys, fashion_dir):
    folder = os.path.join(os.path.dirname(fashion_dir), "folder")
    message = _error(
        capsys, ["--dataset", "folder", "--data-dir", folder, "--image-size", "30"]
    )
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
    assert "--learning-rate" in _error(capsys, ["--learning-rate", "nan"])
    assert "--learning-rate" in _error(capsys, ["--learning-rate", "inf"])
    assert "--generator-filters" in _error(capsys, ["--generator-filters", "0"])
    assert "--discriminator-filters" in _error(
        capsys, ["--discriminator-filters", "-8"]
    )
    assert "--seed" in _error(capsys, ["--seed", "-1"])
    assert "--ema" in _error(capsys, ["--ema", "1.5"])
    assert "--ada-kimg" in _error(capsys, ["--ada-kimg", "0"])
    assert "--ada-target" in _error(capsys, ["--ada-target", "nan"])
    assert "invalid choice" in _error(capsys, ["--augment", "mixup"])
    # Typos of a few digits are refused before anything is allocated.
    assert "--latent-dim must be at most" in _error(
        capsys, ["--latent-dim", "100000000"]
    )
    assert "--grid-size must be at most" in _error(capsys, ["--grid-size", "100000"])


def test_running_out_of_memory_is_one_line_that_says_how_to_resume(
    tmp_path, capsys, monkeypatch, fashion_dir
):
    def out_of_memory(run, **kwargs):
        raise MemoryError("Unable to allocate 3.2 TiB")

    monkeypatch.setattr(training, "fit", out_of_memory)
    run_dir = tmp_path / "run"
    args = ["--data-dir", fashion_dir, *TINY, "--run-dir", str(run_dir)]
    message = _error(capsys, args)
    assert "out of memory (MemoryError)" in message
    assert f"--resume {run_dir}" in message and "--batch-size" in message


def test_a_run_directory_is_never_overwritten(tmp_path, capsys, fashion_dir):
    run_dir = str(tmp_path / "run")
    main(["--dry-run", "--run-dir", run_dir, *TINY])
    before = (tmp_path / "run" / "state.json").read_text()
    message = _error(capsys, ["--dry-run", "--run-dir", run_dir, *TINY])
    assert "already holds a run" in message and "--resume" in message
    assert (tmp_path / "run" / "state.json").read_text() == before


def test_resume_accepts_the_same_flags_and_records_a_new_learning_rate(
    tmp_path, capsys, fashion_dir
):
    run_dir = tmp_path / "run"
    command = ["--data-dir", fashion_dir, "--steps-per-epoch", "2", "--seed", "7"]
    command += [*TINY, "--quality-every", "0", "--run-dir", str(run_dir)]
    main([*command, "--epochs", "1"])
    # The same command with --resume added, more epochs and a lower rate.
    main([*command, "--resume", str(run_dir), "--epochs", "2"])
    main(["--resume", str(run_dir), "--epochs", "3", "--learning-rate", "1e-4"])
    config = json.loads((run_dir / "config.json").read_text())
    assert config["epochs"] == 3 and config["learning_rate"] == 1e-4
    assert {"epoch": 2, "field": "learning_rate", "from": 2e-4, "to": 1e-4} in (
        config["resume_changes"]
    )
    assert RunDir(run_dir).completed_epochs() == 3

    before = (run_dir / "config.json").read_text()
    message = _error(
        capsys, ["--resume", str(run_dir), "--epochs", "5", "--seed", "1", *TINY]
    )
    assert "--seed 1 differs from the run's recorded 7" in message
    assert "drop the flag to resume, or start a new run" in message
    assert "grid" not in message and "filters" not in message  # only what differs
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "2"])
    assert "completed 3 epochs" in message
    assert (run_dir / "config.json").read_text() == before


def test_resume_without_state_json_continues_from_the_newest_checkpoint(
    tmp_path, capsys, fashion_dir
):
    run_dir = tmp_path / "run"
    _train(
        ["--data-dir", fashion_dir, "--epochs", "2", "--steps-per-epoch", "2"]
        + ["--keep-every", "1", "--quality-every", "0", "--run-dir", str(run_dir)]
    )
    kept = (run_dir / "generator_epoch_0001.keras").read_bytes()
    (run_dir / "state.json").unlink()
    main(["--resume", str(run_dir), "--epochs", "3"])
    assert RunDir(run_dir).completed_epochs() == 3
    assert (run_dir / "generator_epoch_0001.keras").read_bytes() == kept
    assert len(_csv_rows(run_dir)) == 3

    # With every checkpoint gone too, the run is not started over.
    for path in run_dir.glob("checkpoint_epoch_*"):
        path.unlink()
    (run_dir / "state.json").unlink()
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "4"])
    assert "no checkpoint" in message
    assert (run_dir / "generator_epoch_0001.keras").read_bytes() == kept


def test_a_full_disk_stops_with_one_line_and_the_run_resumes(
    tmp_path, capsys, fashion_dir, monkeypatch
):
    from dcgan_tf import rundir

    run_dir = tmp_path / "run"
    command = ["--data-dir", fashion_dir, "--steps-per-epoch", "2", "--epochs", "3"]
    command += ["--quality-every", "0", "--run-dir", str(run_dir)]
    real = rundir.RunDir.save_checkpoint

    def full_at_epoch_2(self, model, epoch, seed_state):
        if epoch == 2:
            raise rundir.RunDirError(
                f"Cannot write {self.checkpoint_path(2)}: the disk is full; free "
                "some space and resume the run."
            )
        return real(self, model, epoch, seed_state)

    monkeypatch.setattr(rundir.RunDir, "save_checkpoint", full_at_epoch_2)
    message = _error(capsys, [*command, "--seed", "7", *TINY])
    assert "disk is full" in message and f"--resume {run_dir}" in message
    assert RunDir(run_dir).completed_epochs() == 1
    monkeypatch.setattr(rundir.RunDir, "save_checkpoint", real)
    main(["--resume", str(run_dir)])
    assert RunDir(run_dir).completed_epochs() == 3


def test_a_failed_start_leaves_no_run_directory(tmp_path, capsys):
    run_dir = tmp_path / "run"
    message = _error(
        capsys,
        ["--dataset", "folder", "--data-dir", str(tmp_path / "no"), "--run-dir"]
        + [str(run_dir)],
    )
    assert str(tmp_path / "no") in message
    assert not run_dir.exists()
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"a user's photo")
    message = _error(capsys, ["--dry-run", "--run-dir", str(tmp_path / "photos")])
    assert "not a run" in message
    assert [p.name for p in (tmp_path / "photos").iterdir()] == ["cat.jpg"]


def test_bad_starts_found_by_trying_fail_before_the_run_directory_exists(
    tmp_path, capsys, fashion_dir
):
    run_dir = tmp_path / "run"
    base = ["--data-dir", fashion_dir, "--run-dir", str(run_dir), *TINY]
    message = _error(capsys, [*base, "--image-size", "32", "--quality-every", "2"])
    assert "--quality-every" in message and "(28, 28, 1)" in message
    message = _error(capsys, [*base, "--batch-size", "4096", "--steps-per-epoch", "2"])
    assert "fewer than one batch" in message
    assert "--seed" in _error(capsys, [*base, "--seed", str(2**40)])
    assert not run_dir.exists()


def test_damaged_run_files_are_one_line_or_repaired(tmp_path, capsys, fashion_dir):
    run_dir = tmp_path / "run"
    _train(
        ["--data-dir", fashion_dir, "--epochs", "1", "--steps-per-epoch", "2"]
        + ["--quality-every", "0", "--run-dir", str(run_dir)]
    )
    message = _error(capsys, ["--resume", str(run_dir), "--dry-run"])
    assert "--dry-run" in message
    # Lost latents are drawn again from the seed, exactly as at the start.
    latents = np.load(run_dir / "latents.npy")
    (run_dir / "latents.npy").unlink()
    main(["--resume", str(run_dir), "--epochs", "2"])
    assert RunDir(run_dir).completed_epochs() == 2
    # A config.json edited into nonsense is named, not a KeyError.
    config = json.loads((run_dir / "config.json").read_text())
    (run_dir / "config.json").write_text(json.dumps({**config, "dataset": 5}))
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "3"])
    assert "config.json" in message
    assert latents.shape == (16, 16)


def test_a_run_being_trained_is_not_resumed_by_a_second_process(
    tmp_path, capsys, fashion_dir
):
    run_dir = tmp_path / "run"
    _train(
        ["--data-dir", fashion_dir, "--steps-per-epoch", "2", "--epochs", "1"]
        + ["--run-dir", str(run_dir)]
    )
    # Another process training the run holds its lock (flock: a second open
    # file conflicts even within one process).
    other = Lock(run_dir / ".lock")
    assert other.acquire() is None
    message = _error(capsys, ["--resume", str(run_dir), "--epochs", "2"])
    assert "being trained by process" in message
    assert RunDir(run_dir).completed_epochs() == 1
    other.release()  # it ended (a crash or kill -9 drops the lock as well)
    main(["--resume", str(run_dir), "--epochs", "2"])
    assert RunDir(run_dir).completed_epochs() == 2


def _wait_for(path, process, seconds=240):
    import time

    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no {path}"
        time.sleep(0.02)


@pytest.mark.parametrize(
    "signum",
    [
        signal.SIGTERM,
        pytest.param(signal.SIGINT, marks=pytest.mark.slow),
        pytest.param(signal.SIGHUP, marks=pytest.mark.slow),
    ],
    ids=["SIGTERM", "SIGINT", "SIGHUP"],
)
def test_a_signal_mid_epoch_stops_with_one_line_and_the_run_resumes(
    tmp_path, fashion_dir, signum
):
    """A scheduler's preemption (SIGTERM, twice), two quick Ctrl-C, a closed
    terminal: each checkpoints the step it stops at, with one line and the
    shell's exit code, and the run resumes from there."""
    import time

    run_dir = tmp_path / "run"
    common = ["--data-dir", fashion_dir, "--steps-per-execution", "1", *TINY]
    command = [sys.executable, "-m", "dcgan_tf.train", *common]
    child = subprocess.Popen(
        [*command, "--epochs", "3", "--steps-per-epoch", "300"]
        + ["--quality-every", "0", "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(run_dir / "generator.keras", child)  # written after epoch 1's save
    time.sleep(0.3)  # into epoch 2
    child.send_signal(signum)
    time.sleep(0.2)
    child.send_signal(signum)  # ignored while the step is saved
    out, err = child.communicate(timeout=240)
    assert child.returncode == 128 + signum, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Stopped by "), err
    assert "generator_interrupted.keras" in last and "--resume" in last
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epoch"] == 1 and 0 < state["step"] < 300
    assert (run_dir / "generator_interrupted.keras").is_file()
    # The progress bar ends where the run stopped, not full.
    assert f"{state['step']}/300 - " in out, out
    assert out.count("300/300 - ") == 1, out  # epoch 1 only

    resumed = subprocess.run(
        [*command, "--resume", str(run_dir), "--epochs", "2"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr
    name = f"checkpoint_epoch_0001_step_{state['step']:06d}.weights.h5"
    assert f"from epoch 1, step {state['step']} of epoch 2 ({name})" in resumed.stdout
    # The resumed epoch's bar counts on to 300, not its own remaining steps.
    assert "300/300 - " in resumed.stdout
    assert f"{300 - state['step']}/{300 - state['step']}" not in resumed.stdout
    assert RunDir(run_dir).completed_epochs() == 2
