"""`imagekit endpoint` with real containers: boto3 invokes it and shifts its weights; --rollout completes to a good
image and rolls back by itself from one that fails 5 % of requests; bad options are refused before the engine."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .endpoint_stub import REGION

MODEL = r'''#!/usr/bin/env python3
import os, signal, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
fail_every, count, lock = int(os.environ.get("FAIL_EVERY", "0")), [0], threading.Lock()
class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        self.send_response(status); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        self.reply(200 if self.path == "/ping" else 404, b"{}")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            count[0] += 1
            failing = fail_every and count[0] % fail_every == 0
        self.reply(500, b'{"error": "boom"}') if failing else self.reply(200, b'{"prediction": 1}')
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
server.serve_forever()
'''
ENDPOINT = "my-model-prod"


@pytest.fixture(scope="module")
def images(module_image) -> dict[str, str]:
    return {"good": module_image("FROM {base}\nCOPY serve /usr/local/bin/\n", {"serve": MODEL}),
            "bad": module_image("FROM {base}\nENV FAIL_EVERY=20\nCOPY serve /usr/local/bin/\n", {"serve": MODEL})}


class Endpoint:
    """`imagekit endpoint ... --json` as a child process: its URL once ready, its report and exit code at the end."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "imagekit", "endpoint", "--port", "0", "--quiet",
                                         "--endpoint-name", ENDPOINT, "--json", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        self.reader = threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True)
        self.reader.start()

    def url(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"ready at (http://[\d.:]+)/endpoints/", "".join(self.log))
            if found:
                return found.group(1)
            time.sleep(0.05)
        raise AssertionError("".join(self.log))

    def finish(self, timeout: float = 120) -> tuple[int, dict]:
        out = self.process.stdout.read()
        self.process.wait(timeout=timeout)
        self.reader.join()
        assert out.startswith("{"), "".join(self.log)  # the report, or why there is none
        return self.process.returncode, json.loads(out)


def _client(service: str, url: str):
    import boto3

    return boto3.session.Session().client(service, endpoint_url=url, region_name=REGION,
                                          aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="any")


def _load(url: str, stop: threading.Event) -> list[threading.Thread]:
    """Two boto3 clients invoking the endpoint until *stop* or until it is gone (ModelErrors are part of the
    load)."""
    from botocore.exceptions import EndpointConnectionError

    def invoke() -> None:
        runtime = _client("sagemaker-runtime", url)
        while not stop.is_set():
            try:
                runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", ContentType="application/json")
            except runtime.exceptions.ModelError:
                pass
            except EndpointConnectionError:
                return

    threads = [threading.Thread(target=invoke, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    return threads


def test_boto3_invokes_the_endpoint_and_shifts_its_weights(images: dict[str, str]) -> None:
    endpoint = Endpoint("--variant", f"blue={images['good']}:1", "--variant", f"green={images['good']}:0")
    try:
        url = endpoint.url()
        runtime, sagemaker = _client("sagemaker-runtime", url), _client("sagemaker", url)
        answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", ContentType="application/json")
        assert (answer["InvokedProductionVariant"], answer["Body"].read()) == ("blue", b'{"prediction": 1}')
        sagemaker.update_endpoint_weights_and_capacities(EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[
            {"VariantName": "blue", "DesiredWeight": 0.0}, {"VariantName": "green", "DesiredWeight": 1.0}])
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=ENDPOINT, WaiterConfig={"Delay": 1})
        variants = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"]
        assert [(v["VariantName"], v["CurrentWeight"]) for v in variants] == [("blue", 0.0), ("green", 1.0)]
        answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", ContentType="application/json")
        assert answer["InvokedProductionVariant"] == "green"
    finally:
        endpoint.process.send_signal(signal.SIGTERM)
    code, report = endpoint.finish()
    assert code == 143  # stopped by SIGTERM, cleaned up
    assert (report["variants"]["blue"]["Invocations"], report["variants"]["green"]["Invocations"]) == (1, 1)
    assert "rollout" not in report


@pytest.mark.parametrize("green, outcome, code", [("good", "completed", 0), ("bad", "rolled-back", 1)])
def test_a_canary_rollout_completes_or_rolls_back_by_itself(images: dict[str, str], green: str, outcome: str,
                                                            code: int) -> None:
    endpoint = Endpoint("--variant", f"blue={images['good']}:1", "--variant", f"green={images[green]}:0",
                        "--rollout", "canary:50%:3s", "--rollback-if", "Invocation5XXErrors>1%",
                        "--rollback-if", "ModelLatency.p99>10s")
    stop = threading.Event()
    try:
        threads = _load(endpoint.url(), stop)
        status, report = endpoint.finish()
    finally:
        stop.set()
        endpoint.process.kill()
    for thread in threads:
        thread.join()
    log = "".join(endpoint.log)
    assert status == code, log
    assert report["rollout"]["outcome"] == outcome
    events = [e["event"] for e in report["rollout"]["events"]]
    if outcome == "completed":
        assert events == ["start", "shift", "baked", "shift", "baked", "complete"]
        assert report["variants"]["green"]["CurrentWeight"] == 1.0
        assert "rollout completed" in log
    else:
        assert events[-1] == "rollback" and report["rollout"]["alarm"] == "Invocation5XXErrors>1%"
        assert (report["variants"]["blue"]["CurrentWeight"], report["variants"]["green"]["CurrentWeight"]) == (1, 0)
        assert report["variants"]["green"]["Invocation5XXErrors"] >= 1
        assert "rollout rolled-back: alarm Invocation5XXErrors>1% fired" in log


@pytest.mark.parametrize("args, message", [
    (["--rollout", "canary:80%:10s"], "at most 50 %"),
    (["--rollout", "canary:10%:10s", "--rollback-if", "Latency>1ms"], "not a metric the endpoint keeps"),
    (["--rollout", "canary:10%:10s", "--rollout-to", "red"], "no variant of that name"),
    (["--rollback-if", "Invocation5XXErrors>1%"], "need --rollout"),
    (["--endpoint-name", "my_endpoint"], "is not an EndpointName"),
], ids=["canary-size", "alarm-metric", "rollout-to", "alarm-without-rollout", "endpoint-name"])
def test_bad_endpoint_options_are_exit_2_before_the_engine_is_asked(tmp_path: Path, args: list[str],
                                                                    message: str) -> None:
    run = subprocess.run([sys.executable, "-m", "imagekit", "endpoint", "--variant", "blue=my-model:v1:1",
                          "--variant", "green=my-model:v2:0", *args], capture_output=True, text=True,
                         env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in " ".join(run.stderr.split())
    assert "Traceback" not in run.stderr and "No Docker engine" not in run.stderr
