"""Run an image under the SageMaker Python SDK 2.x local mode, fully offline: fit, deploy, predict.

    python tests/compat/sdk_local.py IMAGE --data DIR --payload FILE --content-type text/csv [--hp k=v]
    python tests/compat/sdk_local.py IMAGE --transform MODEL_TAR_GZ --data INPUT_DIR --output DIR \
        --content-type text/csv --accept text/csv --split-type Line --strategy MultiRecord --assemble-with Line

Prints one JSON object: {"fit_s", "deploy_s", "predict_s", "total_s", "prediction"}, or for --transform
{"transform_s"} once the LocalTransformer has written its .out files under --output. It runs in its own
process with its own HOME, so the SDK's config files and fake credentials never touch the caller's
environment. The offline recipe is shared/reference/sagemaker-contract.md §5.6. The parent side
(`offline_environment`, `run_child`) is shared with the SDK 3.x harness (sdk_v3_local.py), which runs its child
under another interpreter: 2.x and 3.x cannot share one environment.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAKE_ROLE = "arn:aws:iam::111111111111:role/imagekit-local"
LOCAL_NETWORK = "sagemaker-local"  # the docker-compose network local mode puts every job on
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"


def offline_environment(home: Path) -> dict[str, str]:
    """Environment for a child process running the SDK (2.x or 3.x) without any AWS call.

    Local mode's config (~/.sagemaker/config.yaml) also moves the serving port off the fixed 8080 (another
    local-mode run on the same engine would hold it) and keeps local mode's temp dirs inside *home*.
    """
    (home / ".sagemaker").mkdir(parents=True, exist_ok=True)
    (home / ".sagemaker" / "config.yaml").write_text(
        f"local:\n  local_code: true\n  serving_port: {_free_port()}\n  container_root: {home}\n")
    defaults = home / "sagemaker-defaults.yaml"
    defaults.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(HOME=str(home), AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIAFAKEFAKEFAKEFAKE",
               AWS_SECRET_ACCESS_KEY="fake", SAGEMAKER_USER_CONFIG_OVERRIDE=str(defaults),
               # 3.x checks every role with iam:SimulatePrincipalPolicy unless told not to; 2.x ignores it
               SAGEMAKER_VALIDATE_ROLE="false")
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_child(python: str, script: str, args: list[str], image: str, timeout: float = 900) -> dict:
    """Run *script* under *python* in a fresh offline HOME (passed as --home); return the JSON its last line prints,
    with the rest of its output (local mode streams the containers' logs there) under "log".

    Whatever local mode leaves on the engine for *image* (stopped compose containers, the network it created) is
    removed, whether the child succeeded or not. Raises with the child's output on failure.
    """
    networks_before = {network.id for network in _client().networks.list(names=[LOCAL_NETWORK])}
    with tempfile.TemporaryDirectory(prefix="imagekit-sdk-") as home:
        try:
            done = subprocess.run([python, script, *args, "--home", home], env=offline_environment(Path(home)),
                                  capture_output=True, text=True, timeout=timeout, cwd=home)
        finally:
            _remove_local_mode_leftovers(image, networks_before)
        if done.returncode != 0:
            raise RuntimeError(f"SDK local mode failed ({done.returncode}):\n"
                               f"{_without_polling(done.stdout)[-3000:]}\n{_without_polling(done.stderr)[-5000:]}")
        *log, result = done.stdout.strip().splitlines()
        return {**json.loads(result), "log": "\n".join(log)}


def _without_polling(output: str) -> str:
    """*output* without local mode's once-per-5-s health check lines, which would push the cause out of view."""
    return "\n".join(line for line in output.splitlines()
                     if "serving container is up" not in line and "Container still not up" not in line)


def run(image: str, data: Path, payload: Path, content_type: str, hyperparameters: dict[str, str],
        channel: str = "train", timeout: float = 900) -> dict:
    """SDK 2.x fit + deploy + predict in a child process; returns its JSON result."""
    args = [image, "--data", str(data), "--payload", str(payload), "--content-type", content_type,
            "--channel", channel, *[arg for k, v in hyperparameters.items() for arg in ("--hp", f"{k}={v}")]]
    return run_child(sys.executable, __file__, args, image, timeout)


def run_transform(image: str, model: Path, source: Path, output: Path, *, content_type: str, accept: str,
                  split_type: str, strategy: str, assemble_with: str, max_payload: int = 6,
                  timeout: float = 600) -> dict:
    """A 2.x LocalTransformer (Model.transformer) over *source* in a child process; .out files land in *output*.

    The strategy and payload are given explicitly: 2.x local mode copies /execution-parameters' BatchStrategy
    as the platform spells it (MULTI_RECORD), which its own batch-strategy lookup then refuses.
    """
    args = [image, "--transform", str(model), "--data", str(source), "--output", str(output),
            "--content-type", content_type, "--accept", accept, "--split-type", split_type, "--strategy", strategy,
            "--assemble-with", assemble_with, "--max-payload", str(max_payload), "--payload", "-"]
    return run_child(sys.executable, __file__, args, image, timeout)


def _client():
    from imagekit import engine

    return engine.connect()


def _remove_local_mode_leftovers(image: str, networks_before: set[str]) -> None:
    """Local mode stops its docker-compose containers but never removes them, nor the network it created."""
    from docker.errors import APIError

    client = _client()
    for container in client.containers.list(all=True, filters={"ancestor": image, "label": COMPOSE_PROJECT_LABEL}):
        container.remove(force=True, v=True)
    for network in client.networks.list(names=[LOCAL_NETWORK]):
        if network.id not in networks_before:
            try:
                network.remove()
            except APIError:  # another local-mode job is still attached
                pass


def _child_transform(args: argparse.Namespace) -> None:
    from sagemaker.local import LocalSession
    from sagemaker.model import Model

    session = LocalSession()  # reads local_code, serving_port and container_root from ~/.sagemaker/config.yaml
    started = time.perf_counter()
    model = Model(image_uri=args.image, model_data=f"file://{Path(args.transform).resolve()}", role=FAKE_ROLE,
                  sagemaker_session=session)
    transformer = model.transformer(instance_count=1, instance_type="local", strategy=args.strategy,
                                    assemble_with=args.assemble_with, output_path=f"file://{args.output}",
                                    accept=args.accept, max_payload=args.max_payload)
    transformer.transform(f"file://{Path(args.data).resolve()}", content_type=args.content_type,
                          split_type=args.split_type, wait=True, logs=False)
    print(json.dumps({"transform_s": round(time.perf_counter() - started, 2)}))


def _child(args: argparse.Namespace) -> None:
    from sagemaker.estimator import Estimator
    from sagemaker.local import LocalSession
    from sagemaker.serializers import IdentitySerializer

    session = LocalSession()  # reads local_code, serving_port and container_root from ~/.sagemaker/config.yaml
    started = time.perf_counter()
    estimator = Estimator(image_uri=args.image, role=FAKE_ROLE, instance_count=1, instance_type="local",
                          output_path=f"file://{Path(args.home) / 'out'}", sagemaker_session=session,
                          hyperparameters=dict(pair.split("=", 1) for pair in args.hp))
    estimator.fit({args.channel: f"file://{Path(args.data).resolve()}"}, logs=False)
    fitted = time.perf_counter()
    predictor = estimator.deploy(initial_instance_count=1, instance_type="local",
                                 serializer=IdentitySerializer(content_type=args.content_type))
    deployed = time.perf_counter()
    try:
        prediction = predictor.predict(Path(args.payload).read_bytes())
    finally:
        predicted = time.perf_counter()
        predictor.delete_endpoint()
    done = time.perf_counter()
    print(json.dumps({"fit_s": round(fitted - started, 2), "deploy_s": round(deployed - fitted, 2),
                      "predict_s": round(predicted - deployed, 2), "total_s": round(done - started, 2),
                      "prediction": prediction.decode("utf-8", "replace") if isinstance(prediction, bytes)
                      else str(prediction)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--data", required=True)
    parser.add_argument("--payload", required=True)
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--channel", default="train")
    parser.add_argument("--home", required=True)
    parser.add_argument("--hp", action="append", default=[])
    parser.add_argument("--transform", help="model.tar.gz: run a LocalTransformer instead of fit/deploy/predict")
    parser.add_argument("--output")
    parser.add_argument("--accept")
    parser.add_argument("--split-type")
    parser.add_argument("--strategy")
    parser.add_argument("--assemble-with")
    parser.add_argument("--max-payload", type=int, default=6)
    arguments = parser.parse_args()
    (_child_transform if arguments.transform else _child)(arguments)
