"""Ctrl-C and preemption: a signal stops training the way a user would.

Ctrl-C (SIGINT), SIGTERM (what Slurm, Kubernetes and cloud preemption send
before a kill, with a grace period) and SIGHUP (a closed terminal) are caught
while a run trains. The first asks training to stop at the next step: the
step's checkpoint is saved, so the run resumes exactly where it stopped. A
second signal while that is saved is ignored; a third ends the process at
once, with one line (the last complete checkpoint stays: every file is
written atomically). Outside training (loading data, building networks) the
first signal raises `Interrupted` at once: nothing is lost there.
"""

import contextlib
import os
import signal
import sys
import threading

SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP")
    if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A signal stopped the process; `signum` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int) -> int:
    """The shell's convention: 128 + the signal's number (130 for Ctrl-C)."""
    return 128 + int(signum)


def ignore_further() -> None:
    """Ignores the stop signals from now on: for a process that has saved
    what a signal asked it to and is about to exit with its one line."""
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


def describe(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


class Interruptions:
    """Catches the stop signals for the duration of a `with` block.

    Attributes:
        signum: the first signal received, or None.
        deferring: while True (training), a first signal only sets `signum`
            and training stops at the next step; while False it raises
            `Interrupted` at once.
    """

    def __init__(self, ignore_after=False):
        """`ignore_after`: at the block's end the signals are ignored rather
        than handed back (a command whose process ends there: a signal while
        Python shuts down must not kill it without a word)."""
        self.signum = None
        self.deferring = False
        self.count = 0
        self.ignore_after = ignore_after
        self._previous = {}

    def __enter__(self):
        # Python runs signal handlers in the main thread only. A signal the
        # process was started ignoring (`nohup` ignores SIGHUP; a shell's
        # background job, SIGINT) stays ignored: the user chose that.
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, signal.SIG_IGN if self.ignore_after else handler)
        self._previous.clear()
        return False

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def _handle(self, signum, frame):
        self.count += 1
        if self.signum is None:
            self.signum = signum
            if not self.deferring:
                raise Interrupted(signum)
            return
        if self.count >= 3:
            # Whatever was being written is a hidden temporary file: the
            # files before it stay whole.
            print(
                f"\nStopped at once by a third signal ({describe(signum)}); the last "
                "complete checkpoint is kept.",
                file=sys.stderr,
                flush=True,
            )
            os._exit(exit_code(self.signum))

    @contextlib.contextmanager
    def deferred(self):
        """Within: a first signal asks to stop at the next step."""
        self.deferring = True
        try:
            yield self
        finally:
            self.deferring = False
