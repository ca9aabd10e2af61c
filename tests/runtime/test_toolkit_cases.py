"""The cases where scripts and handlers written for sagemaker-training / sagemaker-inference broke on imagekit.

Each test is one thing a toolkit user relies on (issue 11); the differential suite (tests/parity) checks the
same inputs against the real toolkits.
"""

from __future__ import annotations

import io
import json
import signal
import tarfile

import numpy
import pytest

from imagekit import contract
from runtime.harness import (
    FakeImage,
    RuntimeConfig,
    fake_pip,
    free_port,
    hidden_modules,
    kill_group,
    request,
    wait_ready,
)
from runtime.test_training import ECHO, script_image, seen

ARGPARSE = """import argparse, json, os
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
args = parser.parse_args()  # exits 2 on an unknown argument
open(os.path.join(os.environ["SM_MODEL_DIR"], "epochs"), "w").write(str(args.epochs))
"""


def test_tuning_objective_metric_is_not_a_script_argument(tmp_path):
    image = script_image(tmp_path, ARGPARSE)
    run = image.train({"epochs": "3", contract.HP_TUNING_METRIC: '"validation:accuracy"'})
    assert run.returncode == 0, run.stderr
    assert (image.path(contract.MODEL_DIR) / "epochs").read_text() == "3"


def test_hyperparameter_details_match_the_toolkit(tmp_path):
    image = script_image(tmp_path, ECHO)
    hps = {"dropout": "null", "opts": '{"b": 2, "a": {"y": 1}}', "plain": "a b=c ü", contract.HP_JOB_NAME: '"j"',
           "sagemaker_distributed_dataparallel_enabled": "false"}
    run = image.train(hps, env={contract.ENV_TRAINING_MODULE: ""})
    assert run.returncode == 0, run.stderr
    result = seen(image)
    assert result["argv"] == ["--dropout", "", "--opts", "a={'y': 1},b=2", "--plain", "a b=c ü"]
    env = result["env"]
    assert env["SM_HP_DROPOUT"] == "" and env["SM_FRAMEWORK_MODULE"] == ""
    assert env["SM_FRAMEWORK_PARAMS"] == '{"sagemaker_distributed_dataparallel_enabled":false}'
    assert env[contract.ENV_REGION] == "" and env[contract.ENV_JOB_NAME] == "j"
    region = image.train({"x": "1"}, env={contract.ENV_AWS_DEFAULT_REGION: "eu-central-1"})
    assert region.returncode == 0 and seen(image)["env"][contract.ENV_REGION] == "eu-central-1"
    assert seen(image)["env"][contract.ENV_JOB_NAME] == ""  # always set, like the toolkit


def _source_tarball(path, files: dict[str, str]):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _shipping_image(tmp_path):
    """An image with an empty code dir and no train entry: everything comes with the job."""
    image = FakeImage(tmp_path / "image", RuntimeConfig())
    env, pip_log = fake_pip(tmp_path / "site")
    return image, env, pip_log


def test_code_shipped_at_run_time_as_a_local_tarball_with_requirements(tmp_path):
    image, env, pip_log = _shipping_image(tmp_path)
    tarball = _source_tarball(tmp_path / "sourcedir.tar.gz", {"entry.py": ECHO, "requirements.txt": "six\n"})
    run = image.train({contract.HP_PROGRAM: '"entry.py"', contract.HP_SUBMIT_DIRECTORY: json.dumps(str(tarball)),
                       "epochs": "2"}, env=env)
    assert run.returncode == 0, run.stderr
    assert seen(image)["argv"] == ["--epochs", "2"]
    code_dir = str(image.path(contract.CODE_DIR))
    assert json.loads(pip_log.read_text()) == [{"argv": ["install", "-r", "requirements.txt"], "cwd": code_dir}]


def test_code_shipped_with_setup_py_is_installed_as_a_package(tmp_path):
    image, env, pip_log = _shipping_image(tmp_path)
    tarball = _source_tarball(tmp_path / "src.tar.gz", {"entry.py": ECHO, "setup.py": "", "requirements.txt": ""})
    run = image.train({contract.HP_PROGRAM: '"entry.py"', contract.HP_SUBMIT_DIRECTORY: json.dumps(str(tarball))},
                      env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(pip_log.read_text())[0]["argv"] == ["install", ".", "-r", "requirements.txt"]


def test_code_shipped_from_s3_without_boto3_fails_saying_so(tmp_path):
    image, env, _ = _shipping_image(tmp_path)
    run = image.train({contract.HP_PROGRAM: '"entry.py"',
                       contract.HP_SUBMIT_DIRECTORY: '"s3://bucket/job/source/sourcedir.tar.gz"'},
                      env=hidden_modules(tmp_path / "hide", "boto3"))
    assert run.returncode == 1
    failure = image.path(contract.FAILURE_FILE).read_text()
    assert "s3://bucket/job/source/sourcedir.tar.gz" in failure and "no boto3" in failure


def _linked_tarball(path):
    """q -> ., then p -> q/.. (each inside while only the earlier links exist), then a file written through p."""
    with tarfile.open(path, "w:gz") as tar:
        for name, link in (("q", "."), ("p", "q/..")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        for name, text in (("p/escaped.py", "x = 1\n"), ("entry.py", ECHO)):
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return path


@pytest.mark.parametrize("evil", [
    lambda tmp: _source_tarball(tmp / "evil.tar.gz", {"../../escaped.py": "x = 1\n", "entry.py": ECHO}),
    lambda tmp: _linked_tarball(tmp / "evil.tar.gz"),
], ids=["dot-dot", "link-through-link"])
def test_a_shipped_tarball_cannot_write_outside_the_code_dir(tmp_path, evil):
    image, env, _ = _shipping_image(tmp_path)
    tarball = evil(tmp_path)
    run = image.train({contract.HP_PROGRAM: '"entry.py"', contract.HP_SUBMIT_DIRECTORY: json.dumps(str(tarball))},
                      env=env)
    assert run.returncode == 1
    assert "outside" in image.path(contract.FAILURE_FILE).read_text()
    assert not list(tmp_path.rglob("escaped.py"))


class Endpoint:
    """`serve` on a FakeImage whose files are written before it starts."""

    def __init__(self, tmp_path, handler: str | None, code: dict[str, str], model: dict[str, str] | None = None,
                 env: dict[str, str] | None = None, workers: int | None = 1):
        self.image = FakeImage(tmp_path, RuntimeConfig(handler=handler, serve_workers=workers), code)
        for name, text in (model or {}).items():
            self.image.write(contract.MODEL_DIR / name, text)
        self.port = free_port()
        self.process = self.image.start("serve", {contract.ENV_BIND_TO_PORT: str(self.port), **(env or {})})

    def post(self, body: bytes, content_type: str = "application/json", accept: str = "application/json"):
        return request(self.port, contract.INVOCATIONS_ROUTE, body, {"Content-Type": content_type, "Accept": accept})

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=contract.SERVE_STOP_GRACE_S)
        return err


@pytest.fixture
def endpoint(tmp_path):
    started: list[Endpoint] = []

    def start(*args, **kwargs) -> Endpoint:
        started.append(Endpoint(tmp_path / str(len(started)), *args, **kwargs))
        wait_ready(started[-1].port, started[-1].process)
        return started[-1]

    yield start
    for server in started:
        try:
            server.stop()  # SIGTERM: the master stops its workers, which hold the output pipes too
        finally:
            kill_group(server.process)


REPORT_TYPE = """import json
def model_fn(model_dir):
    return None
def predict_fn(data, model):
    return {"type": type(data).__name__, "shape": list(getattr(data, "shape", ())),
            "dtype": str(getattr(data, "dtype", "")), "doubled": (data * 2).tolist()}
def output_fn(prediction, accept):
    return json.dumps(prediction)
"""


def test_default_decoding_gives_numpy_arrays(endpoint):
    server = endpoint("inference", {"inference.py": REPORT_TYPE})
    answers = {body: json.loads(server.post(body, kind)[2]) for body, kind in (
        (b"[[1, 2], [3, 4]]", "application/json"), (b"1.5,2.5,3.5\n", "text/csv"), (b"1,2\n3,4\n", "text/csv"))}
    assert answers[b"[[1, 2], [3, 4]]"] == {"type": "ndarray", "shape": [2, 2], "dtype": "int64",
                                            "doubled": [[2, 4], [6, 8]]}
    assert answers[b"1.5,2.5,3.5\n"]["shape"] == [3]  # a one-row CSV is 1-D
    assert answers[b"1,2\n3,4\n"]["doubled"] == [[2, 4], [6, 8]]
    npy = io.BytesIO()
    numpy.save(npy, numpy.arange(4, dtype=numpy.float32).reshape(2, 2))
    answer = json.loads(server.post(npy.getvalue(), "application/x-npy")[2])
    assert answer["dtype"] == "float32" and answer["shape"] == [2, 2]


IDENTITY_FLOAT32 = """import numpy
def model_fn(model_dir):
    return None
def predict_fn(data, model):
    return numpy.asarray(data, dtype=numpy.float32) / 10 if data.dtype.kind == "f" else data.astype(numpy.int32)
"""


def test_default_encoding_keeps_dtype_and_the_toolkit_csv_format(endpoint):
    server = endpoint("inference", {"inference.py": IDENTITY_FLOAT32})
    status, headers, body = server.post(b"[[2.0, 4.0]]", accept="application/x-npy")
    assert status == 200 and headers["Content-Type"] == "application/x-npy"
    assert numpy.load(io.BytesIO(body)).dtype == numpy.float32
    assert numpy.load(io.BytesIO(server.post(b"[1, 2]", accept="application/x-npy")[2])).dtype == numpy.int32
    assert server.post(b"[[2.0, 4.0]]", accept="text/csv")[2] == b"0.2,0.4\n"
    assert server.post(b"[1, 2]", accept="text/csv")[2] == b"1\n2\n"


CONTEXT_HANDLER = """import json
def model_fn(model_dir, context):
    return context.system_properties["model_dir"]
def input_fn(body, content_type, context):
    return json.loads(body)
def predict_fn(data, model, context):
    return {"model": model, "data": data, "context": type(context).__name__}
def output_fn(prediction, accept, context):
    return json.dumps(prediction), accept
"""
CONTEXT_TRANSFORM = """def model_fn(model_dir):
    return "m"
def transform_fn(model, body, content_type, accept, context):
    return body + " via " + model + " " + str(sorted(context.system_properties)), "text/plain"
"""


def test_handlers_may_take_a_context_argument(endpoint):
    server = endpoint("inference", {"inference.py": CONTEXT_HANDLER})
    status, _, body = server.post(b"[1]")
    assert status == 200 and json.loads(body)["data"] == [1]
    assert json.loads(body)["model"] == str(server.image.path(contract.MODEL_DIR))
    transform = endpoint("inference", {"inference.py": CONTEXT_TRANSFORM})
    assert transform.post(b"x", "text/csv")[2] == b"x via m ['gpu_id', 'model_dir']"


STATUS_ERRORS = """class GenericInferenceToolkitError(Exception):  # the toolkit's shape, without the toolkit
    def __init__(self, status_code, message=None, phrase=None):
        self.status_code, self.message, self.phrase = status_code, message or "Invalid Request", phrase
        super().__init__(status_code, message, phrase)
def model_fn(model_dir):
    return None
def input_fn(body, content_type):
    if body == "bad":
        raise GenericInferenceToolkitError(400, "field x is missing")
    if body == "teapot":
        raise GenericInferenceToolkitError(418)
    raise ValueError("plain error")
"""


def test_a_handler_error_carrying_a_status_code_answers_with_it(endpoint):
    server = endpoint("inference", {"inference.py": STATUS_ERRORS})
    status, _, body = server.post(b"bad")
    assert status == 400 and b"field x is missing" in body
    assert server.post(b"teapot")[:1] == (418,)
    assert server.post(b"other")[0] == 500


def test_code_shipped_in_the_model_is_loaded_and_its_requirements_installed(endpoint, tmp_path):
    env, pip_log = fake_pip(tmp_path / "site")
    image_handler = "def model_fn(d):\n    return None\ndef transform_fn(m, b, c, a):\n    return 'image'\n"
    model_handler = "def model_fn(d):\n    return None\ndef transform_fn(m, b, c, a):\n    return 'model'\n"
    server = endpoint("inference", {"inference.py": image_handler},
                      model={"code/inference.py": model_handler, "code/requirements.txt": "six\n"}, env=env)
    assert server.post(b"{}")[2] == b"model"
    requirements = str(server.image.path(contract.MODEL_CODE_DIR / contract.REQUIREMENTS_FILE))
    assert json.loads(pip_log.read_text())[0]["argv"] == ["install", "-r", requirements]
    no_handler = endpoint(None, {}, model={"code/inference.py": model_handler}, env=env)
    assert no_handler.post(b"{}")[2] == b"model"


def test_serve_starts_one_worker_per_cpu_by_default(endpoint):
    import os

    server = endpoint("inference", {"inference.py": REPORT_TYPE}, workers=None)
    assert f"with {len(os.sched_getaffinity(0))} worker(s)" in server.stop()


def test_serve_counts_only_the_cpus_it_may_run_on(endpoint):
    """A container pinned to N CPUs (smoke's --instance-type on a bigger engine) is an instance with N CPUs:
    os.cpu_count() would say the engine's count, the affinity mask says N."""
    import os

    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})  # the server inherits it, as a process in a --cpuset-cpus container
    try:
        server = endpoint("inference", {"inference.py": REPORT_TYPE}, workers=None)
    finally:
        os.sched_setaffinity(0, allowed)
    assert "with 1 worker(s)" in server.stop()
