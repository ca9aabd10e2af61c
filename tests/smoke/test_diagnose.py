"""The pieces that name why /ping fails and what a smoke check's severity is, without an engine."""

from __future__ import annotations

import pytest

from imagekit import contract
from imagekit.smoke import diagnose
from imagekit.smoke.report import Report
from imagekit.smoke.serving import limit_body, payload_limit

# /proc/net/tcp and tcp6 as a container with nginx on 127.0.0.1:8080, flask on 0.0.0.0:5000 and [::1]:9000 writes
# them (one established connection, which is not a listener).
PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 48183 1
   1: 00000000:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 48184 1
   2: 020011AC:1388 010011AC:D0A2 01 00000000:00000000 00:00000000 00000000     0        0 48185 1
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000
"""


def test_listening_sockets_are_read_from_proc_net_tcp_v4_and_v6() -> None:
    found = diagnose.parse_proc_net_tcp(PROC_NET_TCP)
    assert {str(s): s.loopback for s in found} == {"127.0.0.1:8080": True, "0.0.0.0:5000": False,
                                                   "[::1]:9000": True, "127.0.0.1:8081": True}


class FakeContainer:
    id = "c0ffee"
    attrs = {"State": {"Pid": 0}}

    def __init__(self, proc_net_tcp: str) -> None:
        self.text = proc_net_tcp

    def exec_run(self, command, demux=False):  # the fallback when the host cannot read the container's /proc
        return 0, self.text.encode()


IPV6_ANY = "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A"  # [::]:8080


@pytest.mark.parametrize("sockets, ping, status, body, logs, kind, says", [
    ("   0: 0100007F:1F90 00000000:0000 0A", "/ping: no answer", None, b"", "", "loopback",
     "listens on 127.0.0.1:8080 only"),
    ("   0: 00000000:1388 00000000:0000 0A", "/ping: no answer", None, b"", "", "other-port",
     "nothing listens on port 8080, but it listens on 5000"),
    ("   0: 00000000:1F90 00000000:0000 0A", "/ping: 500", 500,
     b"<html><title>500 Internal Server Error</title><body>long page</body></html>",
     "Traceback (most recent call last):\n  File x\n_pickle.UnpicklingError: invalid load key, 'g'.\nGET /ping 500\n",
     "ping-500", "/ping answers 500 ('500 Internal Server Error'); the log says: _pickle.UnpicklingError"),
    ("   0: 00000000:1F90 00000000:0000 0A", "/ping: no answer", None, b"",
     "[CRITICAL] WORKER TIMEOUT (pid:9)\nBooting worker\n[CRITICAL] WORKER TIMEOUT (pid:10)\n", "restarts",
     "workers are restarting in a loop (2 restarts"),
    ("   0: 00000000:1F90 00000000:0000 0A", "/ping: 503", 503, b"loading", "", "loading", None),
    ("   0: 0100007F:1F40 00000000:0000 0A", "/ping: no answer", None, b"", "", "loading", None),  # a backend first
    (IPV6_ANY, "/ping: no answer (RemoteDisconnected)", None, b"", "", "ipv6-only",
     "it listens on [::]:8080 only, an IPv6 socket"),
    (IPV6_ANY, "/ping: no answer (TimeoutError)", None, b"", "", "loading", None),  # dual-stack, busy loading
], ids=["loopback", "other-port", "ping-500", "worker-loop", "loading", "backend-before-front", "ipv6-only",
        "ipv6-accepting"])
def test_a_not_ready_container_gets_its_cause_named(sockets: str, ping: str, status, body: bytes, logs: str,
                                                    kind: str, says: str | None) -> None:
    seen = diagnose.observe(FakeContainer(sockets), contract.SERVING_PORT, ping, status, body, logs,
                            ping_timed_out="TimeoutError" in ping)
    assert seen.kind == kind
    assert (says in seen.cause) if says else seen.cause is None, seen.cause


class Clock:
    """time for serving's /ping loop: sleeping moves it on, so a minute of waiting takes no time."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class LoadingContainer:
    """A serve container that shows *loading* (sockets, /ping status, log) until READY_AT, then answers 200; with
    *exits_at* it exits with code 1 then instead."""

    id = "c0ffee"

    def __init__(self, clock: Clock, loading: tuple[str, int | None, str], exits_at: float | None = None) -> None:
        self.clock, self.loading, self.exits_at = clock, loading, exits_at
        self.attrs = {"State": {"Pid": 0, "ExitCode": 1}, "Config": {}}

    @property
    def ready(self) -> bool:
        return self.clock.now >= READY_AT

    @property
    def status(self) -> str:
        return "exited" if self.exits_at is not None and self.clock.now >= self.exits_at else "running"

    def reload(self) -> None:
        pass

    def exec_run(self, command, demux=False):
        return 0, (SERVING if self.ready else self.loading[0]).encode()

    def logs(self, tail=None, **_) -> bytes:
        return self.loading[2].encode()

    def get_archive(self, path):
        raise FileNotFoundError(path)

    def ping(self, port, method, path, **_):
        status = 200 if self.ready else self.loading[1]
        if status is None:
            raise ConnectionRefusedError(path)
        return status, {}, b""


READY_AT = 20.0  # longer than any early verdict smoke ever gave (4 s, 8 s for a side port)
SERVING = "   0: 00000000:1F90 00000000:0000 0A"
SIDE_PORT = "   0: 00000000:733C 00000000:0000 0A"  # 0.0.0.0:29500, a rendezvous store or metrics exporter
LOADING = {  # what a server that gets ready at READY_AT may show before (sockets, /ping status, log)
    "side-port": (SIDE_PORT, None, "rendezvous store on 0.0.0.0:29500; loading weights\n"),
    "ping-500-with-an-error-line": (SERVING, 500, "huggingface_hub.errors.LocalEntryNotFoundError: offline, using "
                                                  "the local copy\n"),
    "loopback-first": ("   0: 0100007F:1F90 00000000:0000 0A", None, ""),
    "workers-restarting": (SERVING, None, "[CRITICAL] WORKER TIMEOUT (pid:9)\n[CRITICAL] WORKER TIMEOUT (pid:10)\n"),
}


def _wait(monkeypatch, container: LoadingContainer, clock: Clock, window: float, shown: list[str]) -> Report:
    from imagekit.smoke import serving

    monkeypatch.setattr(serving, "time", clock)
    monkeypatch.setattr(serving, "_request", container.ping)
    report = Report("img")
    serving._wait_ready(report, container, 1234, window, contract.SERVING_PORT,
                        on_progress=lambda elapsed, window, seen: shown.append(seen))
    return report


@pytest.mark.parametrize("loading", LOADING.values(), ids=LOADING.keys())
def test_a_server_alive_within_the_window_is_waited_for_whatever_it_shows_while_loading(
        monkeypatch: pytest.MonkeyPatch, loading: tuple[str, int | None, str]) -> None:
    """SageMaker polls /ping for the whole window while the process lives: what smoke sees meanwhile is the likely
    cause shown in the progress line, never a verdict."""
    clock, shown = Clock(), []
    report = _wait(monkeypatch, LoadingContainer(clock, loading), clock, contract.STARTUP_HEALTH_TIMEOUT_S, shown)
    assert report.ok and report.data["time_to_ready_s"] >= READY_AT, report.to_json()
    assert shown[0].startswith("likely cause: "), shown


def test_the_likely_cause_is_named_when_the_window_ends_or_the_process_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    clock, shown = Clock(), []
    report = _wait(monkeypatch, LoadingContainer(clock, LOADING["side-port"]), clock, 10, shown)
    assert report.failed() == ["serve.ready"]
    detail = report.checks[0].detail
    assert detail.startswith("/ping never answered 200 within 10 s: likely cause (seen for the last 10 s): nothing "
                             "listens on port 8080, but it listens on 29500."), detail
    assert "likely cause: listening on 29500, not 8080" in shown[0], shown
    clock = Clock()
    report = _wait(monkeypatch, LoadingContainer(clock, LOADING["side-port"], exits_at=5), clock, 60, [])
    assert report.failed() == ["serve.start"] and clock.now < 6
    assert "exited with code 1 before /ping answered 200" in report.checks[0].detail
    assert "While it ran, smoke saw: nothing listens on port 8080" in report.checks[0].detail


def test_still_loading_names_the_platform_window_and_the_setting_that_extends_it() -> None:
    text = diagnose.still_loading(6.2, 6, diagnose.Observation(None, "/ping: no answer; listening: 0.0.0.0:8080"))
    assert text.startswith("still loading after 6 s (/ping: no answer; listening: 0.0.0.0:8080)")
    assert f"SageMaker waits {contract.STARTUP_HEALTH_TIMEOUT_S:g} s" in text
    assert contract.STARTUP_HEALTH_SETTING in text


@pytest.mark.parametrize("code, logs, found, says", [
    (127, "/usr/bin/env: 'python3\r': No such file or directory", diagnose.CommandFile("/opt/program/serve", 0o755,
                                                                                       True), "CRLF"),
    (126, "", diagnose.CommandFile("/opt/program/serve", 0o644, False), "is not executable (mode 644)"),
    (1, "Traceback...\nModuleNotFoundError: No module named 'flask'\n", None,
     "the log says: ModuleNotFoundError: No module named 'flask'"),
    (127, "sh: 1: gunicorn: not found\n", None, "was not found"),
], ids=["crlf", "not-executable", "traceback", "not-found"])
def test_an_exit_gets_its_cause(code: int, logs: str, found, says: str) -> None:
    assert says in diagnose.exit_cause(code, False, logs, found)


@pytest.mark.parametrize("sample, size, parsed", [
    (b'{"x": 1}', 64, b'{"x": 1}' + b" " * 56),
    (b"1,2\n3,4\n", 20, b"1,2\n3,4\n1,2\n3,4\n\n\n\n\n"),  # whole rows, then blank lines (parsers skip them)
    (b"1,2\n3,4", 10, b"1,2\n3,4\n\n\n"),
])
def test_the_limit_body_is_exactly_the_limit_and_still_parses(sample: bytes, size: int, parsed: bytes) -> None:
    assert limit_body(sample, size) == parsed and len(parsed) == size


def test_the_payload_limit_is_6mb_unless_sagemaker_max_payload_in_mb_says_otherwise() -> None:
    assert payload_limit({}) == contract.MAX_PAYLOAD_BYTES == 6291456
    assert payload_limit({contract.ENV_MAX_PAYLOAD_IN_MB: "20"}) == 20 * contract.MEGABYTE
    assert payload_limit({contract.ENV_MAX_PAYLOAD_IN_MB: "lots"}) == contract.MAX_PAYLOAD_BYTES


def test_a_failed_warning_fails_the_run_only_under_fail_on_warning() -> None:
    report = Report("img")
    report.check("serve.ready", True, "fine")
    report.check("serve.sigterm", False, "ignored SIGTERM")
    report.check("variants.blue.sigterm", False, "ignored SIGTERM")
    assert [c.severity for c in report.checks] == ["error", "warning", "warning"]
    assert report.ok and report.failed() == [] and report.warnings() == ["serve.sigterm", "variants.blue.sigterm"]
    report.fail_on = "warning"
    assert not report.ok and report.failed() == ["serve.sigterm", "variants.blue.sigterm"]
    report.fail_on = "error"
    report.check("serve.payload-limit", False, "413")
    assert report.failed() == ["serve.payload-limit"] and report.to_dict()["warnings"] == report.warnings()
