"""Real faults against the training command (slow): kill -9 at many moments,
and a real full disk (a tiny tmpfs, where this machine lets root mount one).

Each checks the run directory's promise: every file that exists is complete,
the run resumes from its last completed epoch, and nothing ends in a traceback.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import keras
import pytest
from conftest import TINY

from dcgan_tf.rundir import RunDir

pytestmark = pytest.mark.slow


def _command(run_dir, fashion_dir, steps=4):
    return [
        sys.executable,
        "-m",
        "dcgan_tf.train",
        "--data-dir",
        fashion_dir,
        "--steps-per-epoch",
        str(steps),
        "--keep-every",
        "1",
        "--quality-every",
        "0",
        "--run-dir",
        str(run_dir),
        *TINY,
    ]


def _assert_complete(run_dir):
    """Every generator file loads; the checkpoint resumes."""
    for path in run_dir.glob("*.keras"):
        keras.models.load_model(path)
    return RunDir(run_dir).completed_epochs()


def test_kill_9_at_many_moments_never_loses_a_completed_epoch(tmp_path, fashion_dir):
    run_dir = tmp_path / "run"
    done = 0
    # Seconds after each start: during start-up, mid-epoch, at epoch ends
    # (about 5 s to start, 2 s an epoch of 60 tiny steps on 2 cores).
    for delay in (2.0, 3.5, 5.5, 6.5, 7.5, 8.5, 9.5):
        if RunDir(run_dir).is_run():
            command = [sys.executable, "-m", "dcgan_tf.train", "--resume", str(run_dir)]
        else:
            command = [*_command(run_dir, fashion_dir, steps=60), "--epochs", "10"]
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if RunDir(run_dir).is_run():
            now = _assert_complete(run_dir)
            assert now >= done
            done = now
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.train", "--resume", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert RunDir(run_dir).completed_epochs() == 10
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 11
    assert not list(run_dir.glob(".tmp-*"))
    for epoch in range(1, 11):
        keras.models.load_model(run_dir / f"generator_epoch_{epoch:04d}.keras")


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
    )
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_the_run_resumes_once_space_is_freed(
    tiny_disk, fashion_dir
):
    filler = tiny_disk / f"filler-{uuid.uuid4().hex}"
    # Leave about 600 KB: room for the start and a few epochs, not for 12.
    free = os.statvfs(tiny_disk).f_bavail * os.statvfs(tiny_disk).f_frsize
    filler.write_bytes(b"\0" * (free - 600_000))
    run_dir = tiny_disk / "run"
    result = subprocess.run(
        [*_command(run_dir, fashion_dir), "--epochs", "12"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert "disk is full" in lines[-1] and "--resume" in lines[-1]
    completed = _assert_complete(run_dir)
    assert completed < 12

    filler.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "dcgan_tf.train", "--resume", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert RunDir(run_dir).completed_epochs() == 12
