"""`serve` against sagemaker-inference on multi-model-server: the same model.tar.gz handler, the same requests.

Both sides run as PID 1 in their own namespaces with the handler shipped in the model (`code/inference.py`,
no SAGEMAKER_PROGRAM), listen on 8080 as on the platform, and are asked from inside their network namespace.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy
import pytest

from imagekit import contract
from imagekit.runtime import RuntimeConfig
from parity.differences import Comparison
from parity.isolation import (
    hosts_file,
    imagekit_command,
    isolated,
    namespace_init,
    runtime_tree,
    toolkit_python,
    write_inputs,
)

CLIENT = Path(__file__).with_name("http_client.py")
HANDLER = """import numpy
from sagemaker_inference.errors import GenericInferenceToolkitError as StatusError  # both sides have the toolkit
def model_fn(model_dir):
    return 2
def predict_fn(data, model):
    if data.dtype.kind == "U":
        if str(data) == "fail-400":
            raise StatusError(400, "field x is missing")
        if str(data) == "fail-500":
            raise ValueError("the model broke")
        return data
    return data * model
"""
FAILING_HANDLER = """def model_fn(model_dir):
    raise FileNotFoundError("model.joblib is missing")
def predict_fn(data, model):
    return data
"""
TOOLKIT_SERVE = "from sagemaker_inference import model_server; model_server.start_model_server()"


def npy(array) -> bytes:
    buffer = io.BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()


def invoke(body: bytes, content_type: str | None = "application/json", accept: str | None = None,
           **headers: str) -> dict:
    sent = {**({"Content-Type": content_type} if content_type else {}), **({"Accept": accept} if accept else {}),
            **headers}
    return {"method": "POST", "path": contract.INVOCATIONS_ROUTE, "headers": sent, "body": body}


CASES = {
    "ping": {"method": "GET", "path": contract.PING_ROUTE},
    "json-2d": invoke(b"[[1, 2], [3, 4]]"), "json-1d-float": invoke(b"[0.5, 1.5]"),
    "json-trailing-newline": invoke(b"[1, 2]\n"), "json-scalar": invoke(b"3"),
    "json-to-csv": invoke(b"[[1.5, 2.5], [3, 4]]", accept="text/csv"),
    "json-to-npy": invoke(b"[[1, 2]]", accept="application/x-npy"),
    "json-accept-list": invoke(b"[1]", accept="text/csv, application/json"),
    "json-accept-any": invoke(b"[1]", accept="*/*"),
    "csv-one-row": invoke(b"1,2,3", "text/csv", "text/csv"), "csv-rows": invoke(b"1,2\n3,4\n", "text/csv"),
    "csv-floats-to-csv": invoke(b"0.1,0.2\n", "text/csv", "text/csv"),
    "npy-float32": invoke(npy(numpy.array([[0.1, 0.2]], dtype=numpy.float32)), "application/x-npy",
                          "application/x-npy"),
    "npy-int32-to-json": invoke(npy(numpy.array([1, 2], dtype=numpy.int32)), "application/x-npy"),
    "status-400": invoke(b'"fail-400"'), "plain-error-500": invoke(b'"fail-500"'),
    "still-serving": invoke(b"[7]"),
    "empty-body": invoke(b""), "not-json": invoke(b"{nope"),
    "charset": invoke(b"[1, 2]", "application/json; charset=utf-8"),
    "unsupported-type": invoke(b"\x00", "application/octet-stream"),
    "unsupported-accept": invoke(b"[1]", accept="text/html"),
    "custom-attributes": invoke(b"[1]", **{contract.HEADER_CUSTOM_ATTRIBUTES: "trace=1"}),
    "no-content-type": invoke(b"[1]", content_type=None),
    "body-6mb": invoke(b"[" + b"1," * (3 * 1024 * 1024 - 2) + b"1] "),  # exactly 6 MiB
    "body-over-6mb": invoke(b" " * (6 * 1024 * 1024 + 1) + b"[1]"),
    "unknown-route": {"method": "GET", "path": "/nope"},
}
VARIANTS = {  # handler, cases, seconds to wait for /ping 200
    "working": (HANDLER, CASES, 240),
    "model-fn-fails": (FAILING_HANDLER, {"invoke": invoke(b"[1]")}, 20),
}


def run_side(root: Path, argv: list[str], python: Path, env: dict[str, str], files: dict[str, str],
             cases_sent: dict[str, dict], wait_s: float) -> dict:
    """Start one side with *files* under /opt/ml, send *cases_sent* in order from inside its network, SIGTERM it."""
    write_inputs(root, files)
    hosts = hosts_file(root.parent / "hosts")
    log = open(root.parent / f"{root.name}.log", "w")
    process = isolated(root, hosts, argv, env, stdout=log, stderr=subprocess.STDOUT, cwd=root.parent)
    try:
        init = namespace_init(process)
        cases = root.parent / "cases.json"
        cases.write_text(json.dumps([
            {**{k: v for k, v in case.items() if k != "body"}, "name": name,
             "body_b64": base64.b64encode(case["body"]).decode() if "body" in case else None}
            for name, case in cases_sent.items()]))
        client = subprocess.run(["nsenter", "-t", str(init), "-n", str(python), str(CLIENT),
                                 str(contract.SERVING_PORT), str(cases), str(wait_s)], capture_output=True, text=True,
                                timeout=400)
        assert client.returncode == 0, client.stderr
        answers = json.loads(client.stdout)
        answers["exited_on_its_own"] = {"exit": process.poll()}
        stopped = time.monotonic()
        process_exit = None
        if process.poll() is None:
            os.kill(init, signal.SIGTERM)
            try:
                process_exit = process.wait(timeout=contract.SERVE_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process_exit = "still running after the grace period"
        answers["sigterm"] = {"exit": process_exit, "within_grace": time.monotonic() - stopped
                              < contract.SERVE_STOP_GRACE_S}
        return answers
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_serve_answers_like_sagemaker_inference(tmp_path, variant):
    python = toolkit_python()
    env = {"PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    runtime = runtime_tree(tmp_path / "imagekit-image", RuntimeConfig())
    (tmp_path / "toolkit").mkdir()
    (tmp_path / "imagekit").mkdir()
    handler, cases, wait_s = VARIANTS[variant]
    files = {"model/code/inference.py": handler, "model/weights.bin": "x"}
    toolkit = run_side(tmp_path / "toolkit" / "ml", [str(python), "-c", TOOLKIT_SERVE], python, env, files, cases,
                       wait_s)
    ours = run_side(tmp_path / "imagekit" / "ml", imagekit_command(python, runtime, "serve"), python, env, files,
                    cases, wait_s)
    if variant == "working":
        assert toolkit["ready"], (tmp_path / "toolkit" / "ml.log").read_text()[-4000:]
        assert ours["ready"], (tmp_path / "imagekit" / "ml.log").read_text()[-4000:]
    compare = Comparison(f"serve:{variant}")
    compare.check("http/ping", "ready", toolkit["ready"], ours["ready"])
    for name in [*VARIANTS[variant][1], "sigterm", "exited_on_its_own"]:
        theirs, mine = toolkit.get(name, {}), ours.get(name, {})
        if name != "sigterm" and theirs.get("status", 200) >= 400:  # error bodies: the toolkit adds its traceback
            theirs, mine = {k: v for k, v in theirs.items() if k != "body_b64"}, \
                {k: v for k, v in mine.items() if k != "body_b64"}
        compare.mapping(f"http/{name}", theirs, mine)
    compare.assert_none_unexpected()
