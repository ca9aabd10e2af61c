"""The variants router behaves like InvokeEndpoint in front of the containers (no engine: a stub container)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imagekit import contract
from imagekit.smoke.variants import Router, Variant


class _Container(BaseHTTPRequestHandler):
    """Answers 500 to the body `fail`, else 200 echoing the custom attributes, like a model container."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status, answer = (500, b"model exploded") if body == b"fail" else (200, b'{"ok": true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header(contract.HEADER_CUSTOM_ATTRIBUTES, "model-says=" + (self.headers.get(
            contract.HEADER_CUSTOM_ATTRIBUTES) or ""))
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture()
def router() -> Iterator[tuple[Router, Variant]]:
    container = ThreadingHTTPServer(("127.0.0.1", 0), _Container)
    variant = Variant("blue", "stub", 1.0, port=container.server_address[1])
    front = Router([variant])
    for server in (container, front):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield front, variant
    for server in (front, container):
        server.shutdown()
        server.server_close()


def _invoke(router: Router, body: bytes, **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", router.server_address[1], timeout=10)
    try:
        connection.request("POST", contract.INVOCATIONS_ROUTE, body=body,
                           headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_answers_carry_the_variant_and_the_models_custom_attributes(router) -> None:
    front, _ = router
    status, headers, body = _invoke(front, b"{}", **{contract.HEADER_CUSTOM_ATTRIBUTES: "trace=1"})
    assert status == 200 and body == b'{"ok": true}'
    assert headers[contract.HEADER_INVOKED_VARIANT] == "blue"
    assert headers[contract.HEADER_CUSTOM_ATTRIBUTES] == "model-says=trace=1"


def test_a_model_error_reaches_the_caller_as_424_and_counts_as_5xx(router) -> None:
    front, variant = router
    status, _, body = _invoke(front, b"fail")
    error = json.loads(body)
    assert status == contract.MODEL_ERROR_STATUS
    assert (error["ErrorCode"], error["OriginalStatusCode"], error["OriginalMessage"]) == (
        "INTERNAL_FAILURE_FROM_MODEL", 500, "model exploded")
    metrics = variant.metrics()
    assert (metrics[contract.METRIC_INVOCATIONS], metrics[contract.METRIC_5XX]) == (1, 1)


def test_requests_invoke_endpoint_would_refuse_never_reach_a_variant(router) -> None:
    front, variant = router
    assert _invoke(front, b"0" * (contract.MAX_PAYLOAD_BYTES + 1))[0] == 413
    assert _invoke(front, b"{}", Accept="a/" + "b" * contract.MAX_HEADER_VALUE_CHARS)[0] == 400
    assert _invoke(front, b"{}", **{contract.HEADER_INFERENCE_ID: "i" * 65})[0] == 400
    assert variant.metrics()[contract.METRIC_INVOCATIONS] == 0
