"""The stop signals while a run trains (dcgan_tf.interrupt): caught only where
the user has not chosen to ignore them, and given back afterwards."""

import signal

import pytest

from dcgan_tf.interrupt import Interrupted, Interruptions, exit_code


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
