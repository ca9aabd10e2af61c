"""Multi-model endpoints: `serve` with SAGEMAKER_MULTI_MODEL=true against sagemaker-inference on
multi-model-server in its multi-model mode, on the same model directories, handler and /models requests.

The handler (in /opt/ml/code, named by SAGEMAKER_PROGRAM on both sides) answers with what it was called with:
the model it got, the directory model_fn loaded it from, and the context's model_dir and model_name, so a
handler call made with another model's context shows as a difference.
"""

from __future__ import annotations

import base64
import json

from imagekit import contract
from imagekit.runtime import RuntimeConfig
from parity.differences import Comparison
from parity.isolation import imagekit_command, runtime_tree, toolkit_python
from parity.test_serving_parity import TOOLKIT_SERVE, run_side

HANDLER = """import os
def model_fn(model_dir, context):
    factor = int(open(os.path.join(model_dir, "factor")).read())
    return {"factor": factor, "loaded_from": model_dir, "load_context": context.system_properties["model_dir"]}
def predict_fn(data, model, context):
    return {"result": (data * model["factor"]).tolist(), "loaded_from": model["loaded_from"],
            "load_context": model["load_context"], "context": context.system_properties["model_dir"],
            "name": context.model_name}
"""
MODELS = {name: str(contract.multi_model_dir(name)) for name in ("a", "b")}


def load(name: str, url: str | None = None) -> dict:
    body = json.dumps({"model_name": name, "url": url or MODELS[name]}).encode()
    return {"method": "POST", "path": contract.MODELS_ROUTE, "headers": {"Content-Type": "application/json"},
            "body": body}


def invoke(name: str, body: bytes = b"[1, 2]") -> dict:
    return {"method": "POST", "path": f"{contract.MODELS_ROUTE}/{name}/invoke",
            "headers": {"Content-Type": "application/json"}, "body": body}


def model(name: str, method: str = "GET") -> dict:
    return {"method": method, "path": f"{contract.MODELS_ROUTE}/{name}"}


LISTING = {"method": "GET", "path": contract.MODELS_ROUTE}
CASES = {  # in this order, on one server
    "ping": {"method": "GET", "path": contract.PING_ROUTE},
    "list-empty": LISTING,
    "load-a": load("a"), "load-a-again": load("a"), "load-b": load("b"),
    "list-two": LISTING, "describe-a": model("a"), "describe-unknown": model("nope"),
    "invoke-a": invoke("a"), "invoke-b": invoke("b"), "invoke-a-after-b": invoke("a"),
    "invoke-unknown": invoke("nope"), "invoke-a-bad-json": invoke("a", b"{nope"),
    "unload-a": model("a", "DELETE"), "unload-a-again": model("a", "DELETE"),
    "invoke-a-unloaded": invoke("a"), "list-after-unload": LISTING,
    "load-missing-dir": load("c", str(contract.multi_model_dir("missing"))),
    "load-bad-request": {**load("a"), "body": b"{nope"},
    "reload-a": load("a"), "invoke-reloaded-a": invoke("a"),
    "invocations-route": {**invoke("a"), "path": contract.INVOCATIONS_ROUTE},
}


def normalised(answer: dict) -> dict:
    """The answer with its body parsed when it is JSON (key order is not part of the answer); of an error in
    the model server's {"code", "type", "message"} shape, the code and type (the message is prose)."""
    answer = dict(answer)
    body = base64.b64decode(answer.pop("body_b64", "") or "")
    try:
        answer["body"] = json.loads(body)
    except ValueError:
        answer["body"] = body.decode(errors="replace")
    if isinstance(answer["body"], dict) and {"code", "type"} <= set(answer["body"]):
        answer["body"].pop("message", None)
    return answer


def test_multi_model_serve_answers_like_sagemaker_inference(tmp_path):
    python = toolkit_python()
    env = {"PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           contract.ENV_MULTI_MODEL: "true", contract.ENV_PROGRAM: "handler.py",
           "PYTHONPATH": str(contract.CODE_DIR)}
    code = str(contract.CODE_DIR.relative_to(contract.ML_ROOT))
    files = {f"{code}/handler.py": HANDLER,
             **{f"{str(contract.multi_model_dir(name).relative_to(contract.ML_ROOT))}/factor": str(factor)
                for factor, name in enumerate(MODELS, start=2)}}
    runtime = runtime_tree(tmp_path / "imagekit-image", RuntimeConfig())
    answers = {}
    for side, argv in (("toolkit", [str(python), "-c", TOOLKIT_SERVE]),
                       ("imagekit", imagekit_command(python, runtime, "serve"))):
        (tmp_path / side).mkdir()
        answers[side] = run_side(tmp_path / side / "ml", argv, python, env, files, CASES, 240)
        assert answers[side]["ready"], (tmp_path / side / "ml.log").read_text()[-4000:]
    compare = Comparison("serve:multi-model")
    for name in [*CASES, "sigterm", "exited_on_its_own"]:
        theirs, mine = (normalised(answers[side].get(name, {})) for side in ("toolkit", "imagekit"))
        compare.mapping(f"http/{name}", theirs, mine)
    compare.assert_none_unexpected()
