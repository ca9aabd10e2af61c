"""Run an image under the SageMaker Python SDK 2.x local mode, fully offline: fit, deploy, predict.

    python tests/compat/sdk_local.py IMAGE --data DIR --payload FILE --content-type text/csv [--hp k=v]
    python tests/compat/sdk_local.py IMAGE --transform MODEL_TAR_GZ --data INPUT_DIR --output DIR \
        --content-type text/csv --accept text/csv --split-type Line --strategy MultiRecord --assemble-with Line

Prints one JSON object: {"fit_s", "deploy_s", "predict_s", "total_s", "prediction"}, or for --transform
{"transform_s"} once the LocalTransformer has written its .out files under --output. It runs in its own
process with its own HOME, so the SDK's config files and fake credentials never touch the caller's
environment. The offline recipe is shared/reference/sagemaker-contract.md §5.6.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

FAKE_ROLE = "arn:aws:iam::111111111111:role/imagekit-local"
LOCAL_NETWORK = "sagemaker-local"  # the docker-compose network local mode puts every job on
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"


def offline_environment(home: Path) -> dict[str, str]:
    """Environment for a child process running the SDK without any AWS call."""
    (home / ".sagemaker").mkdir(parents=True, exist_ok=True)
    (home / ".sagemaker" / "config.yaml").write_text("local:\n  local_code: true\n")
    defaults = home / "sagemaker-defaults.yaml"
    defaults.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(home), AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIAFAKEFAKEFAKEFAKE",
               AWS_SECRET_ACCESS_KEY="fake", SAGEMAKER_USER_CONFIG_OVERRIDE=str(defaults))
    return env


def run(image: str, data: Path, payload: Path, content_type: str, hyperparameters: dict[str, str],
        channel: str = "train", timeout: float = 900) -> dict:
    """fit + deploy + predict in a child process; returns its JSON result (raises with its output on failure)."""
    return _in_child(image, lambda home: [
        "--data", str(data), "--payload", str(payload), "--content-type", content_type, "--output", str(home / "out"),
        "--channel", channel, *[arg for k, v in hyperparameters.items() for arg in ("--hp", f"{k}={v}")]], timeout)


def run_transform(image: str, model: Path, source: Path, output: Path, *, content_type: str, accept: str,
                  split_type: str, strategy: str, assemble_with: str, max_payload: int = 6,
                  timeout: float = 600) -> dict:
    """A 2.x LocalTransformer (Model.transformer) over *source* in a child process; .out files land in *output*.

    The strategy and payload are given explicitly: 2.x local mode copies /execution-parameters' BatchStrategy
    as the platform spells it (MULTI_RECORD), which its own batch-strategy lookup then refuses.
    """
    return _in_child(image, lambda home: [
        "--transform", str(model), "--data", str(source), "--output", str(output), "--content-type", content_type,
        "--accept", accept, "--split-type", split_type, "--strategy", strategy, "--assemble-with", assemble_with,
        "--max-payload", str(max_payload), "--payload", "-"], timeout)


def _in_child(image: str, arguments: Callable[[Path], list[str]], timeout: float) -> dict:
    """This script run on *image* with *arguments* (given the child's HOME) in its own process and HOME; its last
    line of JSON, or RuntimeError with its output. Local mode's leftovers are removed either way."""
    networks_before = {network.id for network in _client().networks.list(names=[LOCAL_NETWORK])}
    with tempfile.TemporaryDirectory(prefix="imagekit-sdk-") as home:
        try:
            done = subprocess.run([sys.executable, __file__, image, *arguments(Path(home))],
                                  env=offline_environment(Path(home)), capture_output=True, text=True,
                                  timeout=timeout, cwd=home)
        finally:
            _remove_local_mode_leftovers(image, networks_before)
        if done.returncode != 0:
            raise RuntimeError(f"SDK local mode failed ({done.returncode}):\n"
                               f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


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

    session = LocalSession()
    session.config = {"local": {"local_code": True}}
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

    session = LocalSession()
    session.config = {"local": {"local_code": True}}
    started = time.perf_counter()
    estimator = Estimator(image_uri=args.image, role=FAKE_ROLE, instance_count=1, instance_type="local",
                          output_path=f"file://{args.output}", sagemaker_session=session,
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
    parser.add_argument("--output", required=True)
    parser.add_argument("--hp", action="append", default=[])
    parser.add_argument("--transform", help="model.tar.gz: run a LocalTransformer instead of fit/deploy/predict")
    parser.add_argument("--accept")
    parser.add_argument("--split-type")
    parser.add_argument("--strategy")
    parser.add_argument("--assemble-with")
    parser.add_argument("--max-payload", type=int, default=6)
    arguments = parser.parse_args()
    (_child_transform if arguments.transform else _child)(arguments)
