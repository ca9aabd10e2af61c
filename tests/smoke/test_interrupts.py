"""Ctrl-C while the engine is creating something waits for its answer, so the run's cleanup finds the object."""

from __future__ import annotations

import os
import signal

import pytest

from imagekit.engine import hold_ctrl_c


def test_ctrl_c_during_an_engine_call_is_raised_when_the_call_returns() -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with hold_ctrl_c():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("the call completed")  # not cut short by the signal
    assert finished == ["the call completed"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_ctrl_c_no_interrupt() -> None:
    with hold_ctrl_c():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
