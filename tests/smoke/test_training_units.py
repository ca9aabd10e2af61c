"""`smoke train`'s wait for a multi-host job, with stand-in containers (no engine): the engine run of the same is
tests/smoke/test_distributed.py."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from imagekit import contract
from imagekit.smoke import training
from imagekit.smoke.report import Report


class StandInContainer:
    """Exits with *code* at once, or (code None) only when signalled, as a host waiting for the others does."""

    def __init__(self, code: int | None, ignores_sigterm: bool = False) -> None:
        self.code, self.exited, self.signals, self.ignores_sigterm = code, threading.Event(), [], ignores_sigterm
        if code is not None:
            self.exited.set()

    def wait(self, timeout: float | None = None) -> dict:
        if not self.exited.wait(timeout):
            raise TimeoutError("timed out")
        return {"StatusCode": self.code}

    def kill(self, signal: str) -> None:
        self.signals.append(signal)
        if signal == "SIGTERM" and self.ignores_sigterm:
            return
        self.code = 128 + 15 if signal == "SIGTERM" else 137
        self.exited.set()

    attrs: dict = {}

    def logs(self, tail: int) -> bytes:
        return b"the log\n"

    def reload(self) -> None:
        pass


def test_a_host_that_fails_ends_the_job_on_the_others_as_sagemaker_does() -> None:
    """algo-2 would wait for algo-1 for an hour: its failure stops algo-1 and algo-3, naming algo-2."""
    containers = [StandInContainer(None), StandInContainer(1), StandInContainer(None)]
    started = time.monotonic()
    results = training.wait_for_job(["algo-1", "algo-2", "algo-3"], containers, started, None, stop_grace=5)
    assert time.monotonic() - started < 5
    assert results == [(143, "stopped after algo-2 failed"), (1, "exited"), (143, "stopped after algo-2 failed")]
    assert [c.signals for c in containers] == [["SIGTERM"], [], ["SIGTERM"]]


def test_hosts_that_succeed_are_waited_for_and_left_alone() -> None:
    containers = [StandInContainer(0), StandInContainer(0)]
    assert training.wait_for_job(["algo-1", "algo-2"], containers, time.monotonic(), None, 5) == [(0, "exited")] * 2
    assert [c.signals for c in containers] == [[], []]


def test_a_host_that_ignores_the_stop_is_killed_after_the_grace() -> None:
    containers = [StandInContainer(2), StandInContainer(None, ignores_sigterm=True)]
    results = training.wait_for_job(["algo-1", "algo-2"], containers, time.monotonic(), None, stop_grace=0.2)
    assert results == [(2, "exited"), (137, "killed after algo-1 failed")]
    assert containers[1].signals == ["SIGTERM", "SIGKILL"]


@pytest.mark.parametrize("own_failure", [None, "my own reason"])
def test_a_stopped_host_says_so_and_fails_only_with_a_failure_file(tmp_path: Path, monkeypatch, own_failure) -> None:
    """The report keeps naming the host that failed: a host stopped for it says so, and fails only when it wrote a
    failure file (its program's answer to SIGTERM, or a failure of its own)."""
    monkeypatch.setattr(training.diagnose, "command_file", lambda container, command: None)
    if own_failure:
        (tmp_path / "output").mkdir()
        (tmp_path / "output" / contract.FAILURE_FILE.name).write_text(own_failure)
    report = Report("image")
    training._judge_host(report, "algo-1", tmp_path, StandInContainer(143), 143, "stopped after algo-2 failed",
                         stop_grace=5, multi=True)
    if own_failure:
        assert [(c.name, c.ok) for c in report.checks] == [("train.algo-1.stopped", True),
                                                           ("train.algo-1.exit-code", False)]
        assert report.data["failure_reasons"] == {"algo-1": own_failure}
    else:
        assert [(c.name, c.ok) for c in report.checks] == [("train.algo-1.stopped", True)]
        assert "stopped after algo-2 failed" in report.checks[0].detail


def judged(tmp_path: Path, monkeypatch, exit_code: int, how: str, failure: str | None = None,
           multi: bool = True) -> tuple[list[tuple[str, bool, str]], Report]:
    monkeypatch.setattr(training.diagnose, "command_file", lambda container, command: None)
    if failure is not None:
        (tmp_path / "output").mkdir()
        (tmp_path / "output" / contract.FAILURE_FILE.name).write_text(failure)
    report = Report("image")
    training._judge_host(report, "algo-1", tmp_path, StandInContainer(exit_code), exit_code, how, stop_grace=120,
                         multi=multi)
    return [(c.name, c.ok, c.severity) for c in report.checks], report


def test_a_peer_killed_after_the_grace_ignored_sigterm_as_a_single_host_would(tmp_path: Path, monkeypatch) -> None:
    """F9: exit 137 after the grace is a host that ignored SIGTERM: judged like single-host train.sigterm."""
    checks, report = judged(tmp_path, monkeypatch, 137, "killed after algo-2 failed")
    assert checks == [("train.algo-1.stopped", True, "error"), ("train.algo-1.sigterm", False, "error")]
    assert "ignored SIGTERM and was killed after 120 s" in report.checks[1].detail


def test_a_peer_that_finished_on_its_own_after_sigterm_is_not_called_stopped(tmp_path: Path, monkeypatch) -> None:
    checks, report = judged(tmp_path, monkeypatch, 0, "stopped after algo-2 failed")
    assert checks == [("train.algo-1.exit-code", True, "error")]
    assert "finished on its own" in report.checks[0].detail and "stopped after" not in report.checks[0].detail


def test_exit_0_after_writing_the_failure_file_warns_with_its_first_line(tmp_path: Path, monkeypatch) -> None:
    """F7: the except branch wrote the failure file and forgot to exit non-zero: SageMaker says Completed."""
    checks, report = judged(tmp_path, monkeypatch, 0, "exited", failure="\nboom: bad data\nTraceback ...\n",
                            multi=False)
    assert checks == [("train.exit-code", True, "error"), ("train.failure-file", False, "warning")]
    assert "train exited 0 but wrote /opt/ml/output/failure: 'boom: bad data'. SageMaker reports the job " \
        "Completed and ignores it — exit non-zero after writing it" in report.checks[1].detail
    assert report.ok


def test_a_channel_given_twice_is_refused_naming_both_directories(tmp_path: Path) -> None:
    """F10: the first directory was silently dropped; channels are keys of inputdataconfig.json."""
    result = subprocess.run([sys.executable, "-m", "imagekit", "smoke", "train", "x:1", "--data", "train=a",
                             "--data", "train=b"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("imagekit: error: --data train given 2 times (a, b): a training job has one "
                                    "directory per channel."), result.stderr
