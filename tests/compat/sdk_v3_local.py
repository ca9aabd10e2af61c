"""Run an image under the SageMaker Python SDK 3.x local mode, fully offline: train, serve, predict, transform.

    <v3 venv>/bin/python tests/compat/sdk_v3_local.py IMAGE --data DIR --channel NAME --payload FILE
        --transform-input DIR --transform-output DIR --home DIR [--hp k=v] [--instance-count N]
        [--split-type Line] [--batch-strategy MultiRecord] [--accept text/csv]

Prints one JSON object: {"train_s", "deploy_s", "predict_s", "transform_s", "total_s", "prediction",
"transform_outputs"}. 3.x cannot share an environment with 2.x (both are the `sagemaker` package), so it lives
in its own venv, cached under ~/.cache/imagekit-sdk-v3 and created on first use; the parent side (offline HOME,
clean-up) is sdk_local.py's. The APIs are 3.x's own:

- training: `sagemaker.train.ModelTrainer(training_mode=Mode.LOCAL_CONTAINER)`, N hosts on one compose network.
  3.x local mode starts the containers with no command (2.x and the platform pass `train`), so the image's
  `train` is named through `SourceCode(command="train")`: 3.x then runs its own driver script, which runs it.
- serving and batch transform: 3.x's local session (`sagemaker.core.local.LocalSession`, the same code
  `ModelBuilder(mode=Mode.LOCAL_CONTAINER).deploy()` registers its endpoint with) and
  `sagemaker.core.transformer.Transformer`. `ModelBuilder`'s own container start always pulls `image_uri` from
  its registry, so it cannot serve an image that exists only on the local engine (docs/smoke.md).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SDK_V3 = "sagemaker==3.27.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imagekit-sdk-v3"
FAKE_ROLE = "arn:aws:iam::111111111111:role/imagekit-local"  # a full ARN: no IAM lookup


def python() -> str:
    """The cached 3.x venv's interpreter, created (pip install from PyPI, about a minute) when missing."""
    venv = CACHE / "venv"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = venv / "ready"
        if not ready.exists() or ready.read_text() != SDK_V3:
            shutil.rmtree(venv, ignore_errors=True)
            interpreter = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
            subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", SDK_V3], check=True)
            ready.write_text(SDK_V3)
    return str(venv / "bin" / "python")


def run(image: str, data: Path, payload: Path, transform_input: Path, transform_output: Path,
        hyperparameters: dict[str, str], channel: str = "training", instance_count: int = 2,
        split_type: str = "Line", batch_strategy: str = "MultiRecord", accept: str = "text/csv",
        timeout: float = 900) -> dict:
    """3.x train + serve + predict + transform in a child process; returns its JSON result.

    The transform's `.out` files are written to *transform_output* (one per input file, as the platform names
    them), so they can be compared with `imagekit smoke transform`'s on the same input.
    """
    from compat import sdk_local

    args = [image, "--data", str(data), "--channel", channel, "--payload", str(payload),
            "--transform-input", str(transform_input), "--transform-output", str(transform_output),
            "--instance-count", str(instance_count), "--split-type", split_type, "--batch-strategy", batch_strategy,
            "--accept", accept, *[arg for k, v in hyperparameters.items() for arg in ("--hp", f"{k}={v}")]]
    return sdk_local.run_child(python(), __file__, args, image, timeout)


def _child(args: argparse.Namespace) -> None:
    from sagemaker.core.local import LocalSession
    from sagemaker.core.transformer import Transformer
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, SourceCode
    from sagemaker.train.model_trainer import Mode

    home = Path(args.home)
    training_root = home / home.name  # its name is the compose project's: unique per run, unlike "training"
    training_root.mkdir()
    started = time.perf_counter()
    trainer = ModelTrainer(training_mode=Mode.LOCAL_CONTAINER, training_image=args.image, role=FAKE_ROLE,
                           compute=Compute(instance_type="local", instance_count=args.instance_count),
                           source_code=SourceCode(command="train"), base_job_name="imagekit-compat",
                           hyperparameters=dict(pair.split("=", 1) for pair in args.hp),
                           local_container_root=str(training_root))
    trainer.train(input_data_config=[InputData(channel_name=args.channel, data_source=str(Path(args.data).resolve()))],
                  logs=False)
    model_dir = home / "model"  # local mode extracts every tarball next to a file:// model
    model_dir.mkdir()
    shutil.copy(training_root / "compressed_artifacts" / "model.tar.gz", model_dir)
    trained = time.perf_counter()

    session = LocalSession()  # local_code, serving_port and container_root from ~/.sagemaker/config.yaml
    client = session.sagemaker_client
    client.create_model(ModelName="imagekit-compat", ExecutionRoleArn=FAKE_ROLE,
                        PrimaryContainer={"Image": args.image, "Environment": {},
                                          "ModelDataUrl": f"file://{model_dir / 'model.tar.gz'}"})
    client.create_endpoint_config(EndpointConfigName="imagekit-compat", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "imagekit-compat", "InitialInstanceCount": 1,
         "InstanceType": "local"}])
    client.create_endpoint(EndpointName="imagekit-compat", EndpointConfigName="imagekit-compat")
    deployed = time.perf_counter()
    try:
        answer = session.sagemaker_runtime_client.invoke_endpoint(
            EndpointName="imagekit-compat", Body=Path(args.payload).read_bytes(), ContentType="text/csv",
            Accept="application/json")
        prediction = answer["Body"].read().decode("utf-8", "replace")
    finally:
        predicted = time.perf_counter()
        client.delete_endpoint(EndpointName="imagekit-compat")

    transformer = Transformer(model_name="imagekit-compat", instance_count=1, instance_type="local",
                              strategy=args.batch_strategy, assemble_with="Line", accept=args.accept,
                              output_path=f"file://{Path(args.transform_output).resolve()}",
                              sagemaker_session=session)
    transformer.transform(f"file://{Path(args.transform_input).resolve()}", content_type="text/csv",
                          split_type=args.split_type, job_name="imagekit-compat-transform", logs=False)
    done = time.perf_counter()
    outputs = {path.name: path.read_text() for path in sorted(Path(args.transform_output).glob("*.out"))}
    print(json.dumps({"train_s": round(trained - started, 2), "deploy_s": round(deployed - trained, 2),
                      "predict_s": round(predicted - deployed, 2), "transform_s": round(done - predicted, 2),
                      "total_s": round(done - started, 2), "prediction": prediction,
                      "transform_outputs": outputs}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--data", required=True)
    parser.add_argument("--channel", default="training")
    parser.add_argument("--payload", required=True)
    parser.add_argument("--transform-input", required=True)
    parser.add_argument("--transform-output", required=True)
    parser.add_argument("--instance-count", type=int, default=2)
    parser.add_argument("--split-type", default="Line")
    parser.add_argument("--batch-strategy", default="MultiRecord")
    parser.add_argument("--accept", default="text/csv")
    parser.add_argument("--home", required=True)
    parser.add_argument("--hp", action="append", default=[])
    _child(parser.parse_args())
