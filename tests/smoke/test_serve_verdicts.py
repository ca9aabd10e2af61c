"""serve's verdicts around a server that died, a slow /ping, an IPv6-only listener and a 200 without Content-Type,
with fake containers and requests: no engine."""

from __future__ import annotations

import http.client

import pytest

from imagekit import contract
from imagekit.smoke import diagnose, serving
from imagekit.smoke.report import Report

from .test_diagnose import Clock


class DeadContainer:
    """A serve container that exited with *code* (its log says why); SIGTERM would 'stop' it at once."""

    id = "c0ffee"
    status = "exited"

    def __init__(self, code: int = 3) -> None:
        self.attrs = {"State": {"Pid": 0, "ExitCode": code, "OOMKilled": False}, "Config": {}}
        self.signals: list[str] = []

    def reload(self) -> None:
        pass

    def logs(self, tail=None, **_) -> bytes:
        return b"ready\ncrashing on invocation\nRuntimeError: model blew up\n"

    def get_archive(self, path):
        raise FileNotFoundError(path)

    def wait(self, timeout=None) -> dict:
        return {"StatusCode": self.attrs["State"]["ExitCode"]}


def _hung_up(*_, **__):
    raise http.client.RemoteDisconnected("Remote end closed connection without response")


@pytest.fixture
def dead(monkeypatch: pytest.MonkeyPatch) -> DeadContainer:
    container = DeadContainer()
    monkeypatch.setattr(serving.engine, "send_signal", lambda c, signal: container.signals.append(signal))
    monkeypatch.setattr(serving, "log_tail", lambda c: "crashing on invocation")
    monkeypatch.setattr(diagnose, "log_tail", lambda c: "crashing on invocation")
    monkeypatch.setattr(serving, "_request", _hung_up)
    return container


def test_sigterm_is_not_judged_for_a_server_that_had_already_exited(dead: DeadContainer, tmp_path) -> None:
    report = Report("img")
    serving._stop(report, dead, 30)
    check = report.checks[-1]
    assert check.name == "serve.sigterm" and not check.ok and check.skipped, check
    assert check.detail == "not run: serve had exited with code 3 before SIGTERM was sent"
    assert dead.signals == [] and report.ok and report.skipped() == ["serve.sigterm"]
    assert report.to_dict()["checks"][0]["skipped"] is True
    report.write_junit(tmp_path / "r.xml")
    assert '<skipped message="not run: serve had exited with code 3' in (tmp_path / "r.xml").read_text()


def _serve(container, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Report:
    """serve() on *container*, already ready on port 1234; the payload-limit body must not be sent."""
    monkeypatch.setattr(serving, "start_ready", lambda *a, **k: (container, 1234, contract.SERVING_PORT))
    monkeypatch.setattr(serving, "_config", lambda image: {})
    monkeypatch.setattr(serving, "run_workdir", lambda kind: tmp_path)
    monkeypatch.setattr(serving, "finish_run", lambda *a: None)
    monkeypatch.setattr(serving.engine, "new_run_id", lambda: "run")
    monkeypatch.setattr(serving, "_payload_limit", lambda *a: pytest.fail("payload-limit sent to a dead server"))
    return serving.serve("img", stop_grace=30)


def test_an_invocation_the_server_died_answering_names_the_exit_and_stops_the_later_checks(
        dead: DeadContainer, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The 6 MB body is not sent to a dead server (it would be blamed for the exit), SIGTERM not judged."""
    report = _serve(dead, monkeypatch, tmp_path)
    by_name = {check.name: check for check in report.checks}
    invocations = by_name["serve.invocations"]
    assert not invocations.ok
    assert invocations.detail.startswith("`serve` exited with code 3 while answering POST /invocations: its program "
                                         "failed; the log says: RuntimeError: model blew up"), invocations.detail
    assert report.failed() == ["serve.invocations"]
    assert report.skipped() == ["serve.payload-limit", "serve.sigterm"]
    assert by_name["serve.sigterm"].detail == "not run: serve had exited with code 3"
    assert dead.signals == []


def test_a_server_that_exits_after_answering_fails_serve_exited(
        dead: DeadContainer, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(serving, "_request", lambda *a, **k: (200, {"content-type": "application/json"}, b"[1]"))
    report = _serve(dead, monkeypatch, tmp_path)
    assert report.failed() == ["serve.exited"] and report.skipped() == ["serve.payload-limit", "serve.sigterm"]
    assert "exited with code 3 after answering POST /invocations" in report.checks[-3].detail


def test_a_200_without_content_type_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """SDK local mode falls back to the Accept type and InvokeEndpoint's ContentType is optional."""
    monkeypatch.setattr(serving, "_request", lambda *a, **k: (200, {}, b"[1]"))
    report = Report("img")
    serving._invoke(report, 1234, [b"{}"], "application/json", "application/json")
    assert report.ok and report.warnings() == ["serve.content-type"], report.to_json()
    assert "SDK local mode falls back to the Accept type (application/json)" in report.checks[-1].detail


class SlowPingContainer:
    """Running, listening on 0.0.0.0:8080, and every /ping accepted but unanswered within the 2 s timeout."""

    id = "c0ffee"
    status = "running"
    attrs = {"State": {"Pid": 0}, "Config": {}}

    def reload(self) -> None:
        pass

    def exec_run(self, command, demux=False):
        return 0, b"   0: 00000000:1F90 00000000:0000 0A"

    def logs(self, tail=None, **_) -> bytes:
        return b'"GET /ping HTTP/1.1" 200 -\n'


def _ping_answering_after(monkeypatch: pytest.MonkeyPatch, seconds: float) -> str:
    """serve.ready's detail for a server refused while it starts, then accepting and answering /ping 200 only
    after *seconds*."""
    clock = Clock()

    def ping(*_, timeout: float, **__):
        if clock.now < 1:
            raise ConnectionRefusedError("not listening yet")
        if timeout < seconds:
            clock.sleep(timeout)
            raise TimeoutError("timed out")
        clock.sleep(seconds)
        return 200, {}, b""

    monkeypatch.setattr(serving, "time", clock)
    monkeypatch.setattr(serving, "_request", ping)
    monkeypatch.setattr(serving, "log_tail", lambda c: "")
    report = Report("img")
    assert not serving._wait_ready(report, SlowPingContainer(), 1234, 20, contract.SERVING_PORT)
    return report.checks[-1].detail


def test_a_ping_slower_than_the_platform_timeout_is_named_at_the_end_of_the_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    detail = _ping_answering_after(monkeypatch, 3)
    assert "/ping takes longer than SageMaker's 2 s per-check timeout: the last " in detail, detail
    assert "answered 200 after 3 s" in detail and "make /ping cheap" in detail and "still loading" not in detail


def test_a_front_that_accepts_while_the_model_loads_is_still_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """nginx accepts /ping while gunicorn's worker loads the model: no answer even given longer, so not 'slow'."""
    detail = _ping_answering_after(monkeypatch, 600)
    assert "still loading after" in detail and "per-check timeout" not in detail, detail
