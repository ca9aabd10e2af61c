"""SIGINT, SIGTERM and SIGHUP end a run the same way: clean up, say what was stopped, exit 128 + the signal.

CI systems and supervisors stop jobs with SIGTERM (`timeout`, GitLab, Jenkins, systemd, `docker stop`), GitHub
Actions with SIGINT then SIGTERM, a closed terminal with SIGHUP. Inside ``handled()`` (the CLI's whole run) each
of them raises ``Interrupted``, a KeyboardInterrupt, in the main thread, so every run's ``finally`` removes what
it made exactly as for Ctrl-C. Two places must not be cut short, and ``deferred()`` holds the signal there until
they are done: an engine request that creates something (cut short, the engine may create the object after the
cleanup has looked) and the cleanup itself. Once a run is interrupted, a further signal never interrupts the
cleanup: it only ``hurried()``, so containers are killed at once instead of being given their stop grace.

A signal the process inherited as ignored stays ignored (a background job in a script ignores SIGINT; `nohup`
ignores SIGHUP), and a handler someone else installed is left alone.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; ``except KeyboardInterrupt`` and ``finally`` treat it exactly like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    installed = False
    received: int | None = None  # the first stop signal
    holding = 0  # depth of deferred() blocks in the main thread
    hurry = threading.Event()  # a further signal arrived: finish the cleanup now
    removed: Counter[str] = Counter()  # what the cleanups removed, by kind, for the closing message


_state = _State()


def _on_signal(signum: int, frame: object) -> None:
    if _state.received is not None:  # already stopping: speed the cleanup up, never cut it short
        _state.hurry.set()
        return
    _state.received = signum
    if not _state.holding:
        raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into ``Interrupted`` for the block (in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum, handler in previous.items():
        if handler in (signal.SIG_DFL, signal.default_int_handler):  # ignored or someone else's: theirs to keep
            signal.signal(signum, _on_signal)
    _reset(installed=True)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _reset(installed=False)  # what follows in this process (a test suite) is not interrupted


def _reset(installed: bool) -> None:
    _state.installed, _state.received, _state.holding = installed, None, 0
    _state.hurry.clear()
    _state.removed.clear()


def received() -> int | None:
    """The stop signal this process got inside ``handled()``, if any."""
    return _state.received


def hurried() -> bool:
    """A second signal asked to finish the cleanup now."""
    return _state.hurry.is_set()


def ignore_late_signals() -> None:
    """After an interrupted run has cleaned up and chosen its exit status: a signal repeated while Python shuts
    down (a supervisor escalating, a second Ctrl-C) would otherwise kill the process with a different status."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def exit_status(signum: int) -> int:
    """The shell's convention: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + signum


def notice(text: str) -> None:
    """Tell the person (or CI log) watching what the interrupted run is doing about it."""
    if _state.received is not None:
        say(f"imagekit: {text}")


def say(line: str) -> None:
    """Write to stderr if it is still there: a closed pipe or terminal (SIGHUP) must not cut a cleanup short."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def count_removed(kind: str, count: int = 1) -> None:
    """A cleanup removed *count* objects of *kind* (containers, networks, volumes, work dirs)."""
    _state.removed[kind] += count


def summary() -> str:
    """What the cleanups removed, for the closing message: "2 containers, 1 network, 1 work dir"."""
    parts = [f"{count} {kind if count != 1 else kind.removesuffix('s')}" for kind, count in _state.removed.items()
             if count]
    return ", ".join(parts) or "nothing (the run had not created anything yet)"


@contextmanager
def deferred() -> Iterator[None]:
    """Hold stop signals until the block is done; a signal that arrived meanwhile is raised when it ends.

    Outside ``handled()`` (the Python API) only Python's own Ctrl-C handling is held, as before.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread, never here
        return
    if _state.installed:
        already = _state.received is not None
        _state.holding += 1
        try:
            yield
        finally:
            _state.holding -= 1
            if not already and not _state.holding and _state.received is not None:
                raise Interrupted(_state.received)
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:  # ignored, or someone else's
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            raise KeyboardInterrupt
