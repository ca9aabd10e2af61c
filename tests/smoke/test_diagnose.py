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
], ids=["loopback", "other-port", "ping-500", "worker-loop", "loading", "backend-before-front"])
def test_a_not_ready_container_gets_its_cause_named(sockets: str, ping: str, status, body: bytes, logs: str,
                                                    kind: str, says: str | None) -> None:
    seen = diagnose.observe(FakeContainer(sockets), contract.SERVING_PORT, ping, status, body, logs)
    assert seen.kind == kind
    assert (says in seen.cause) if says else seen.cause is None, seen.cause


def test_only_causes_a_loading_server_cannot_show_end_the_wait_early() -> None:
    """SageMaker keeps polling /ping for the whole window: an error answer with nothing wrong in the log, or a side
    port bound before 8080, may be a server still loading, so they are not judged as fast as a loopback bind."""
    def look(sockets: str, status, logs: str) -> diagnose.Observation:
        return diagnose.observe(FakeContainer(sockets), contract.SERVING_PORT, f"/ping: {status}", status, b"", logs)

    serving = "   0: 00000000:1F90 00000000:0000 0A"
    assert look(serving, 404, "").settle_s is None  # answered at the end of the window, named then
    assert look(serving, 500, "Traceback (most recent call last):\nValueError: bad model\n").settle_s == \
        contract.CAUSE_SETTLE_S
    assert look("   0: 00000000:7531 00000000:0000 0A", None, "").settle_s == contract.OTHER_PORT_SETTLE_S
    assert look("   0: 0100007F:1F90 00000000:0000 0A", None, "").settle_s == contract.CAUSE_SETTLE_S


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
