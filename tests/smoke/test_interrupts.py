"""Ctrl-C while the engine is creating something waits for its answer, so the run's cleanup finds the object."""

from __future__ import annotations

import os
import signal

import pytest

from imagekit.engine import hold_ctrl_c


@pytest.fixture()
def default_ctrl_c():
    """Python's own Ctrl-C handling, whatever the test runner inherited (a background CI job ignores SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_an_engine_call_is_raised_when_the_call_returns(default_ctrl_c) -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with hold_ctrl_c():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("the call completed")  # not cut short by the signal
    assert finished == ["the call completed"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_ctrl_c_no_interrupt(default_ctrl_c) -> None:
    with hold_ctrl_c():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with hold_ctrl_c():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
