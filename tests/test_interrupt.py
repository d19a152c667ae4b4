"""The stop signals while a run trains (dcgan_tf.training.interrupt): caught only where
the user has not chosen to ignore them, and given back afterwards."""

import json
import signal
import subprocess
import time

import pytest
from test_console import TRAIN, _env

from dcgan_tf.training.interrupt import Interrupted, Interruptions, exit_code


def test_a_signal_outside_training_stops_at_once_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as info, Interruptions():
        signal.raise_signal(signal.SIGTERM)
    assert info.value.signum == signal.SIGTERM
    assert exit_code(info.value.signum) == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_within_training_a_signal_only_asks_to_stop_and_a_second_is_ignored():
    # As from a terminal (under `nohup`, as the suite may run, SIGHUP is ignored).
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        with Interruptions() as interruptions, interruptions.deferred():
            signal.raise_signal(signal.SIGHUP)
            signal.raise_signal(signal.SIGHUP)
            assert interruptions.requested and interruptions.signum == signal.SIGHUP
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_signal_ignored_when_the_run_started_stays_ignored():
    # `nohup python -m dcgan_tf.train ...`: a closed terminal must not stop it.
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with Interruptions() as interruptions, interruptions.deferred():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            signal.raise_signal(signal.SIGHUP)
            assert not interruptions.requested
    finally:
        signal.signal(signal.SIGHUP, previous)


def _as_from_a_terminal():
    """In the child: SIGHUP back to its default, as under a terminal (under
    `nohup`, as the suite may run, it is ignored, and so in every child)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _train(run_dir, *flags):
    return subprocess.Popen(
        [*TRAIN, *flags, "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=_as_from_a_terminal,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_tensorflow_imports_stops_with_one_line(tmp_path, signum):
    """`data:` is printed, then TensorFlow imports for seconds: a scheduler's
    SIGTERM or a closed terminal there ends the command as Ctrl-C does."""
    run_dir = tmp_path / "run"
    child = _train(run_dir, "--epochs", "1")
    for line in child.stdout:
        if line.startswith("data:"):
            break
    child.send_signal(signum)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 128 + signum, err
    assert err.strip().splitlines() == [
        f"python -m dcgan_tf.train: stopped by {signal.Signals(signum).name} "
        "before training started; nothing was written."
    ]
    assert not run_dir.exists()


def test_a_signal_after_the_last_epoch_is_saved_says_the_run_is_complete(tmp_path):
    """SIGTERM as the last epoch's `state.json` appears, and after `done:`:
    no advice to resume a finished run, no silent death, exit 0."""
    first = _train(tmp_path / "first", "--epochs", "1", "--steps-per-epoch", "30")
    state = tmp_path / "first" / "state.json"
    deadline = time.monotonic() + 300
    while not state.exists() or json.loads(state.read_text())["epoch"] < 1:
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "Resume" not in err and "Traceback" not in err, err
    assert "done: trained to epoch 1" in out

    second = _train(tmp_path / "second", "--epochs", "1")
    for line in second.stdout:
        if line.startswith("done:"):
            break
    second.send_signal(signal.SIGTERM)  # while Python shuts down
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
