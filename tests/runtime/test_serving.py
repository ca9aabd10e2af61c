"""In-image `serve`: /ping after load, handlers and defaults, limits, headers, workers, SIGTERM drain."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time

import pytest

from imagekit import contract
from runtime.harness import FakeImage, RuntimeConfig, free_port, hidden_modules, kill_group, request, wait_ready

DEFAULTS_ONLY = """import os, time
class Model:
    def predict(self, rows):
        time.sleep(float(os.environ.get("PREDICT_SLEEP", "0")))
        return [sum(row) if hasattr(row, "__len__") else row for row in rows]  # lists, or numpy rows
def model_fn(model_dir):
    time.sleep(float(os.environ.get("LOAD_SLEEP", "0")))
    return Model()
"""
CUSTOM = """import json, os
def model_fn(model_dir):
    return {"pid": os.getpid()}
def input_fn(body, content_type):
    if content_type == "application/x-fail":
        raise RuntimeError("handler exploded")
    return body.decode()  # only JSON and CSV arrive as text, like the toolkit
def predict_fn(data, model):
    return {"pid": model["pid"], "echo": data}
def output_fn(prediction, accept):
    return json.dumps(prediction), "application/vnd.custom+json"
"""
TRANSFORM = """def model_fn(model_dir):
    return "m"
def transform_fn(model, body, content_type, accept):
    return b"transformed:" + body, "text/plain"
"""


class Serving:
    def __init__(self, tmp_path, source: str, env: dict[str, str] | None = None, workers: int | None = None,
                 code: dict[str, str] | None = None):
        self.image = FakeImage(tmp_path, RuntimeConfig(handler="inference", serve_workers=workers),
                               {"inference.py": source, **(code or {})})
        self.port = free_port()
        self.process = self.image.start("serve", {contract.ENV_BIND_TO_PORT: str(self.port), **(env or {})})

    def post(self, body: bytes, content_type: str = "application/json", **headers: str):
        return request(self.port, contract.INVOCATIONS_ROUTE, body, {"Content-Type": content_type, **headers})

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=contract.SERVE_STOP_GRACE_S)


@pytest.fixture
def serving(tmp_path):
    started = []

    def start(source: str, **kwargs) -> Serving:
        started.append(Serving(tmp_path / str(len(started)), source, **kwargs))
        return started[-1]

    yield start
    for server in started:
        kill_group(server.process)


def test_ping_is_503_until_the_model_is_loaded(serving):
    server = serving(DEFAULTS_ONLY, env={"LOAD_SLEEP": "1.5"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            status = request(server.port, contract.PING_ROUTE, timeout=2)[0]
            break
        except OSError:
            time.sleep(0.05)
    assert status == 503
    assert wait_ready(server.port, server.process) > 0.5
    assert server.stop() == 0


def test_default_json_and_csv_handling_without_numpy(serving, tmp_path):
    server = serving(DEFAULTS_ONLY, env=hidden_modules(tmp_path / "hide", "numpy"))
    wait_ready(server.port, server.process)
    status, headers, body = server.post(b"[[1, 2], [3, 4]]")
    assert (status, headers["Content-Type"], json.loads(body)) == (200, "application/json", [3, 7])
    status, headers, body = server.post(b"1,2\n3,4.5\n", "text/csv", Accept="text/csv")
    assert (status, headers["Content-Type"], body) == (200, "text/csv", b"3\n7.5\n")
    status, headers, body = server.post(b"1,2\n", "text/csv", Accept="*/*")
    assert headers["Content-Type"] == "application/json" and json.loads(body) == [3]
    assert server.post(b"{not json")[0] == 400
    assert server.post(b"\x00\x01", "application/octet-stream")[0] == 415


def test_custom_handler_headers_and_errors(serving):
    server = serving(CUSTOM)
    wait_ready(server.port, server.process)
    status, headers, body = server.post(b"hello", "text/plain", **{
        contract.HEADER_CUSTOM_ATTRIBUTES: "trace=abc", "X-Unknown-Header": "ignored",
        contract.HEADER_INFERENCE_ID: "id-1"})
    assert status == 200 and headers["Content-Type"] == "application/vnd.custom+json"
    assert json.loads(body)["echo"] == "hello"
    assert headers[contract.HEADER_CUSTOM_ATTRIBUTES] == "trace=abc"
    status, _, body = server.post(b"x", "application/x-fail")
    assert status == 500 and b"handler exploded" in body
    assert server.post(b"again", "text/plain")[0] == 200  # the worker survived the error


def test_transform_fn(serving):
    server = serving(TRANSFORM)
    wait_ready(server.port, server.process)
    status, headers, body = server.post(b"abc", "text/plain")
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"transformed:abc")


def test_payload_over_the_limit_is_refused(serving):
    server = serving(DEFAULTS_ONLY)
    wait_ready(server.port, server.process)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("POST", contract.INVOCATIONS_ROUTE)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(100 * contract.MAX_PAYLOAD_BYTES))
    connection.endheaders()  # headers only: a huge body is refused before it is sent
    answer = connection.getresponse()
    assert answer.status == 413 and answer.getheader("Connection") == "close"
    connection.close()
    status, headers, _ = server.post(b"[" + b"0," * (contract.MAX_PAYLOAD_BYTES // 2) + b"0]")
    assert status == 413  # just over the limit: read, dropped, answered
    assert server.post(b"[[1]]")[0] == 200
    exact = b"[" + b" " * (contract.MAX_PAYLOAD_BYTES - 4) + b"1]"
    assert server.post(exact[: contract.MAX_PAYLOAD_BYTES])[0] in (200, 400)


def test_execution_parameters_and_unknown_routes(serving):
    server = serving(DEFAULTS_ONLY, workers=2)
    wait_ready(server.port, server.process)
    status, _, body = request(server.port, contract.EXECUTION_PARAMETERS_ROUTE)
    assert status == 200
    assert json.loads(body) == {"MaxConcurrentTransforms": 2, "BatchStrategy": contract.DEFAULT_BATCH_STRATEGY,
                                "MaxPayloadInMB": contract.DEFAULT_MAX_PAYLOAD_IN_MB}
    assert request(server.port, "/nope")[0] == 404


def test_workers_from_the_environment_serve_concurrently(serving):
    server = serving(CUSTOM, env={contract.ENV_MODEL_SERVER_WORKERS: "3"})
    wait_ready(server.port, server.process)
    pids = set()
    for _ in range(60):
        pids.add(json.loads(server.post(b"x", "text/plain", Connection="close")[2])["pid"])
        if len(pids) == 3:
            break
    assert len(pids) == 3


def test_sigterm_drains_in_flight_requests(serving):
    server = serving(DEFAULTS_ONLY, env={"PREDICT_SLEEP": "2"})
    wait_ready(server.port, server.process)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(server.post(b"[[1, 1]]")))
    worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    worker.join(timeout=20)
    assert answers and answers[0][0] == 200 and json.loads(answers[0][2]) == [2]
    assert server.process.wait(timeout=contract.SERVE_STOP_GRACE_S) == 0
    assert time.monotonic() - started < 10


def test_a_model_that_fails_to_load_stops_the_container(serving):
    server = serving("def model_fn(model_dir):\n    raise FileNotFoundError('model.joblib is missing')\n")
    assert server.process.wait(timeout=20) == 1
    assert "model.joblib is missing" in server.process.stderr.read()


def test_handler_without_model_fn_is_refused(serving):
    server = serving("def predict_fn(data, model):\n    return data\n")
    assert server.process.wait(timeout=20) == 1
    assert "defines no model_fn" in server.process.stderr.read()


def test_sagemaker_program_in_the_code_directory_replaces_the_handler(serving):
    """Local mode mounts the submitted code at the code directory and names the module in SAGEMAKER_PROGRAM."""
    server = serving(DEFAULTS_ONLY, env={contract.ENV_PROGRAM: "alt.py"}, code={"alt.py": TRANSFORM})
    wait_ready(server.port, server.process)
    assert server.post(b"abc", "text/plain")[2] == b"transformed:abc"


PER_MODEL = """import json, os
from pathlib import Path
def model_fn(model_dir):
    if (Path(model_dir) / "broken").exists():
        raise ValueError("cannot read weights")
    return json.loads((Path(model_dir) / "weights.json").read_text())
def predict_fn(data, model, context):  # the context is the invoked model's, as in the toolkit
    return {"model": model["name"], "pid": os.getpid(), "context": [context.model_name,
            Path(context.system_properties["model_dir"]).parent.name]}
"""


def test_multi_model_api_loads_lists_invokes_and_unloads(serving, tmp_path):
    """SAGEMAKER_MULTI_MODEL=true: the /models API of multi-model endpoints, on one worker so loads are shared."""
    urls = {}
    for name in ("a", "b", "bad"):
        urls[name] = tmp_path / "models" / name / "model"
        urls[name].mkdir(parents=True)
        (urls[name] / ("broken" if name == "bad" else "weights.json")).write_text(json.dumps({"name": name}))
    server = serving(PER_MODEL, env={contract.ENV_MULTI_MODEL: contract.CAPABILITY_TRUE,
                                     contract.ENV_MODEL_SERVER_WORKERS: "3"})
    wait_ready(server.port, server.process)  # ready with no model: SageMaker loads them later

    def call(method: str, path: str, document: dict | None = None, body: bytes | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        data = json.dumps(document).encode() if document is not None else body
        connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        status, payload = answer.status, answer.read()
        connection.close()
        return status, json.loads(payload) if payload.startswith(b"{") else payload

    models = contract.MODELS_ROUTE
    for name in ("a", "b"):
        assert call("POST", models, {"model_name": name, "url": str(urls[name])})[0] == 200
    assert call("POST", models, {"model_name": "a", "url": str(urls["a"])})[0] == 409
    status, error = call("POST", models, {"model_name": "bad", "url": str(urls["bad"])})
    assert status == 500 and "cannot read weights" in error["message"]
    assert call("POST", models, {"url": "x"})[0] == 400
    assert call("GET", models) == (200, {"models": [{"modelName": "a", "modelUrl": str(urls["a"])},
                                                    {"modelName": "b", "modelUrl": str(urls["b"])}]})
    assert call("GET", f"{models}/b") == (200, {"modelName": "b", "modelUrl": str(urls["b"])})
    answers = [call("POST", f"{models}/{name}/invoke", body=b"[1]")[1] for name in ("a", "b", "a")]
    assert [a["model"] for a in answers] == ["a", "b", "a"]
    assert [a["context"] for a in answers] == [["a", "a"], ["b", "b"], ["a", "a"]]
    assert len({a["pid"] for a in answers}) == 1  # one worker whatever SAGEMAKER_MODEL_SERVER_WORKERS says
    assert call("DELETE", f"{models}/a")[0] == 200
    assert call("DELETE", f"{models}/a")[0] == 404
    assert call("GET", f"{models}/a")[0] == 404
    assert call("POST", f"{models}/a/invoke", body=b"[1]")[0] == 404
    assert call("POST", contract.INVOCATIONS_ROUTE, body=b"[1]")[0] == 400  # as the toolkit: no model named
    assert server.stop() == 0


CRASHING = """import os, time
def model_fn(model_dir):
    if os.environ.get("LOAD_EXIT"):
        os._exit(int(os.environ["LOAD_EXIT"]))
    return "m"
def predict_fn(data, model):
    if str(data) == "crash":  # the default input_fn gives a numpy array when numpy is there
        os._exit(int(os.environ.get("PREDICT_EXIT", "1")))
    return str(data)
def output_fn(prediction, accept):
    return prediction, "text/plain"
"""


@pytest.mark.parametrize("code", [1, 3], ids=["exit-1", "exit-3-the-old-load-failed-status"])
def test_a_worker_that_dies_during_a_request_is_replaced_whatever_its_exit_code(serving, code):
    """The user's os._exit(N) is a crash of that worker, never the runtime's "could not load" (it once was for 3)."""
    server = serving(CRASHING, env={"PREDICT_EXIT": str(code)})
    wait_ready(server.port, server.process)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        server.post(b'"crash"')
    wait_ready(server.port, server.process)  # the replacement loads the model and answers /ping again
    assert server.post(b'"fine"')[2] == b"fine"
    assert server.stop() == 0
    log = server.process.stderr.read()
    assert f"exited with code {code} during 1 request(s), which got no response; starting a new worker" in log
    assert "could not load" not in log and "received" not in log.split("starting a new worker")[0]


def test_a_worker_that_dies_inside_model_fn_stops_the_container_instead_of_looping(serving):
    server = serving(CRASHING, env={"LOAD_EXIT": "3"})
    assert server.process.wait(timeout=20) == 1
    log = server.process.stderr.read()
    assert "exited with code 3 while loading the model; stopping the container" in log
    assert "received" not in log


def test_a_model_load_failure_says_so_and_nothing_misleading(serving):
    server = serving("def model_fn(model_dir):\n    raise FileNotFoundError('model.joblib is missing')\n")
    assert server.process.wait(timeout=20) == 1
    log = server.process.stderr.read()
    assert "could not load the model; stopping the container" in log
    assert "received" not in log and "starting a new worker" not in log


IDENTITY = "def model_fn(model_dir):\n    return 'm'\ndef predict_fn(data, model):\n    return data\n"


@pytest.mark.parametrize("returned, said", [
    ("{'label': 1}", "output_fn returned dict as the response body: output_fn must return the response body as "
                     "bytes or str, or a (body, content_type) tuple"),
    ("('a', 'b', 'c')", "output_fn returned a tuple of 3 item(s) (str, str, str)"),
    ("(b'x', 200)", "output_fn returned a tuple of 2 item(s) (bytes, int)"),
], ids=["dict", "three-tuple", "status-not-type"])
def test_output_fn_returning_the_wrong_shape_says_what_it_must_return(serving, returned, said):
    server = serving(f"{IDENTITY}def output_fn(prediction, accept):\n    return {returned}\n")
    wait_ready(server.port, server.process)
    status, _, body = server.post(b"[1]")
    assert status == 500 and said in body.decode(), body
    assert server.stop() == 0
    assert said in server.process.stderr.read()  # logged too, not only answered


def test_bytes_like_bodies_are_accepted(serving):
    server = serving(f"{IDENTITY}def output_fn(prediction, accept):\n"
                     "    return bytearray(b'ab') + bytes(memoryview(b'c')), 'text/plain'\n")
    wait_ready(server.port, server.process)
    assert server.post(b"[1]")[2] == b"abc"
