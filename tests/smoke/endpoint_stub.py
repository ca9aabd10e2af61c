"""A local endpoint without the engine: the real Router in front of stub model containers (plain HTTP servers),
and boto3 clients that can only ever reach it (fake static credentials, endpoint_url always set)."""

from __future__ import annotations

import http.client
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from imagekit import contract
from imagekit.smoke.variants import Router, Variant

REGION = "eu-west-1"
ENDPOINT = "blue-green"


class StubModel(ThreadingHTTPServer):
    """A model container: answers 200 with JSON; every `fail_every`-th request 500 (0: never); the body `bad`
    gets 400; custom attributes come back prefixed, like a model that sets them."""

    daemon_threads = True

    def __init__(self, fail_every: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.fail_every, self.counter, self.lock = fail_every, itertools.count(1), threading.Lock()
        self.seen: list[dict[str, str]] = []


class _StubHandler(BaseHTTPRequestHandler):
    server: StubModel

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            number = next(self.server.counter)
            self.server.seen.append(dict(self.headers.items()))
        every = self.server.fail_every
        if body == b"bad":
            status, answer = 400, b"cannot parse bad"
        elif every and number % every == 0:
            status, answer = 500, b"model exploded"
        else:
            status, answer = 200, b'{"prediction": 1}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.headers.get(contract.HEADER_CUSTOM_ATTRIBUTES):
            self.send_header(contract.HEADER_CUSTOM_ATTRIBUTES,
                             "model-says=" + self.headers[contract.HEADER_CUSTOM_ATTRIBUTES])
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@contextmanager
def stub_endpoint(weights: dict[str, float], fail_every: dict[str, int] | None = None) -> Iterator[Router]:
    """A Router named ENDPOINT with one stub model per variant."""
    models = {name: StubModel((fail_every or {}).get(name, 0)) for name in weights}
    variants = [Variant(name, f"my-model:{name}", weight, port=models[name].server_address[1])
                for name, weight in weights.items()]
    router = Router(variants, endpoint_name=ENDPOINT)
    router.models = models
    servers = [*models.values(), router]
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield router
    finally:
        for server in reversed(servers):
            server.shutdown()
            server.server_close()


def url(router: Router) -> str:
    return f"http://127.0.0.1:{router.server_address[1]}"


def client(service: str, router: Router):
    """A real boto3 client that can only reach the local endpoint."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=url(router), region_name=REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing", aws_session_token="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30))


def post(router: Router, body: bytes = b"{}", headers: dict[str, str] | None = None) -> int:
    """One InvokeEndpoint over plain HTTP (load generation: cheaper than boto3); the status."""
    connection = http.client.HTTPConnection("127.0.0.1", router.server_address[1], timeout=30)
    try:
        connection.request("POST", contract.RUNTIME_INVOKE_ROUTE.format(name=ENDPOINT), body=body,
                           headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
