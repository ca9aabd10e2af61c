"""What smoke would send to /invocations is refused up front when InvokeEndpoint itself refuses it: one paragraph,
exit 2, before any container starts (so no engine is needed here) and nothing created (not even --junit's dir)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from imagekit import contract


def _smoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imagekit", "smoke", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("command", ["serve", "all"])
@pytest.mark.parametrize("option, value, expected", [
    ("--content-type", "text/csv\r\nX-Evil: 1", "holds '\\r' at position 9"),
    ("--content-type", "text/csv\r", "holds '\\r' at position 9"),
    ("--accept", "application/json\t", "holds '\\t' at position 17"),
    ("--accept", "a/" + "b" * 2000, "is 2002 characters long"),
], ids=["crlf-injection", "trailing-cr", "tab", "too-long"])
def test_a_header_value_invoke_endpoint_refuses_is_bad_input(tmp_path: Path, command: str, option: str, value: str,
                                                             expected: str) -> None:
    junit = tmp_path / "reports" / "smoke.xml"
    result = _smoke(command, "any-image:latest", option, value, "--junit", str(junit))
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"{option} " in message and expected in message and "printable ASCII" in message, message
    assert "Traceback" not in result.stderr and not (tmp_path / "reports").exists()


def test_a_payload_over_the_invoke_endpoint_limit_is_refused_not_reported_ok(tmp_path: Path) -> None:
    """SageMaker refuses bodies over 6 MB before the container sees them: smoke must not call that request ok."""
    big, limit = tmp_path / "big.json", tmp_path / "limit.json"
    big.write_bytes(b" " * (contract.MAX_PAYLOAD_BYTES + 1))
    limit.write_bytes(b" " * contract.MAX_PAYLOAD_BYTES)
    for command in ("serve", "all"):
        result = _smoke(command, "any-image:latest", "--payload", str(limit), "--payload", str(big))
        assert result.returncode == 2, result.stderr
        message = " ".join(result.stderr.split())
        assert f"--payload {big} is 6,291,457 bytes, over InvokeEndpoint's limit of 6,291,456 bytes" in message
        assert "Asynchronous Inference" in message and "Traceback" not in result.stderr
