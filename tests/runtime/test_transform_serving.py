"""In-image `serve` under batch transform: /execution-parameters from serve.transform (the job's variables win),
MultiRecord CSV and JSON Lines bodies through the default handlers (one answer line per record), and the body
limit following MaxPayloadInMB."""

from __future__ import annotations

import json

import pytest

from imagekit import contract
from runtime.harness import FakeImage, RuntimeConfig, free_port, kill_group, request, wait_ready
from runtime.test_serving import DEFAULTS_ONLY


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(transform: dict | None = None, env: dict[str, str] | None = None, workers: int = 1) -> int:
        image = FakeImage(tmp_path / str(len(started)), RuntimeConfig(handler="inference", serve_workers=workers,
                                                                      transform=transform),
                          {"inference.py": DEFAULTS_ONLY})
        port = free_port()
        started.append(image.start("serve", {contract.ENV_BIND_TO_PORT: str(port), **(env or {})}))
        wait_ready(port, started[-1])
        return port

    yield start
    for process in started:
        kill_group(process)


def parameters(port: int) -> dict:
    status, _, body = request(port, contract.EXECUTION_PARAMETERS_ROUTE)
    assert status == 200
    return json.loads(body)


def test_execution_parameters_come_from_serve_transform_and_the_job_variables_win(serve) -> None:
    spec = {"max_concurrent_transforms": 3, "batch_strategy": "SingleRecord", "max_payload_mb": 2}
    assert parameters(serve(spec)) == {"MaxConcurrentTransforms": 3, "BatchStrategy": "SINGLE_RECORD",
                                       "MaxPayloadInMB": 2}
    job = {contract.ENV_MAX_CONCURRENT_TRANSFORMS: "1", contract.ENV_BATCH_STRATEGY: "MULTI_RECORD",
           contract.ENV_MAX_PAYLOAD_IN_MB: "4"}
    assert parameters(serve(spec, env=job)) == {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD",
                                                "MaxPayloadInMB": 4}


def test_the_body_limit_follows_serve_transform_max_payload(serve) -> None:
    port = serve({"max_payload_mb": 1})
    over = b"1,2\n" * (contract.MEGABYTE // 4 + 1)
    assert request(port, contract.INVOCATIONS_ROUTE, over, {"Content-Type": "text/csv"})[0] == 413
    assert request(port, contract.INVOCATIONS_ROUTE, over[:contract.MEGABYTE], {"Content-Type": "text/csv",
                                                                              "Accept": "text/csv"})[0] == 200


@pytest.mark.parametrize(("content_type", "body", "accept", "expected"), [
    ("text/csv", b"1,2\n3,4\n5,6\n", "text/csv", b"3\n7\n11\n"),
    ("application/jsonlines", b"[1, 2]\n[3, 4]\n\n[5, 6]\n", "application/jsonlines", b"3\n7\n11\n"),
    # SplitType None: the whole file, one JSON document spanning lines, read as the toolkit reads JSON
    ("application/jsonlines", b"[\n  [1, 2],\n  [3, 4]\n]\n", "application/jsonlines", b"3\n7\n"),
    # Line split of JSON records sent as application/json: a MultiRecord body of several documents
    ("application/json", b"[1, 2]\n[3, 4]\n", "application/jsonlines", b"3\n7\n"),
])
def test_a_multirecord_body_gets_one_answer_line_per_record(serve, content_type: str, body: bytes, accept: str,
                                                            expected: bytes) -> None:
    port = serve()
    status, headers, answer = request(port, contract.INVOCATIONS_ROUTE, body,
                                      {"Content-Type": content_type, "Accept": accept})
    assert status == 200 and headers["Content-Type"] == accept
    assert answer == expected


def test_a_json_body_that_is_neither_one_document_nor_json_lines_is_400_naming_the_line(serve) -> None:
    port = serve()
    for content_type, body, said in (("application/jsonlines", b"[1, 2]\n[3,\n", b"line 2"),
                                     ("application/json", b"[1, 2]\n{nope\n", b"line 2")):
        status, _, answer = request(port, contract.INVOCATIONS_ROUTE, body, {"Content-Type": content_type})
        assert status == 400 and said in answer, answer


def test_the_default_concurrency_keeps_requests_in_flight_within_100_mb(serve) -> None:
    """One request per worker, but never more than MaxPayloadInMB allows within the job's 100 MB."""
    assert parameters(serve({"max_payload_mb": 40}, workers=3))["MaxConcurrentTransforms"] == 2
    assert parameters(serve(workers=3))["MaxConcurrentTransforms"] == 3
