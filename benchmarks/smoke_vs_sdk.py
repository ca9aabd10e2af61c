"""`imagekit smoke all` against the SageMaker Python SDK 2.x local mode (fit + deploy + predict), same image, same run.

    python benchmarks/smoke_vs_sdk.py [IMAGE]

IMAGE defaults to the repository's examples/byoc built from the local base image (built here if missing and
removed afterwards). Both tools train on the same data and answer the same CSV payload. Goal: imagekit's wall
time <= 0.5x the SDK's. Needs the `sagemaker` package (the `test` extra) and docker-compose.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from compat import sdk_local  # noqa: E402

GOAL = 0.5
EXAMPLE_TAG = "imagekit-bench/byoc:latest"


def main() -> None:
    built = len(sys.argv) < 2
    image = sys.argv[1] if not built else EXAMPLE_TAG
    if built:
        subprocess.run(["docker", "build", "-q", "-t", image, str(REPO_ROOT / "examples" / "byoc")], check=True,
                       env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"})
    try:
        with tempfile.TemporaryDirectory(prefix="imagekit-bench-") as tmp:
            data = Path(tmp, "train")
            data.mkdir()
            (data / "rows.csv").write_text("".join(f"{i},{i * 2}\n" for i in range(1000)))
            payload = Path(tmp, "payload.csv")
            payload.write_text("1,2\n")
            started = time.perf_counter()
            smoke = subprocess.run([sys.executable, "-m", "imagekit", "smoke", "all", image, "--data", f"train={data}",
                                    "--payload", str(payload), "--content-type", "text/csv"],
                                   capture_output=True, text=True)
            imagekit_s = time.perf_counter() - started
            if smoke.returncode != 0:
                sys.exit(f"imagekit smoke all failed:\n{smoke.stdout}\n{smoke.stderr}")
            sdk = sdk_local.run(image, data, payload, "text/csv", {"epochs": "1"})
    finally:
        if built:
            subprocess.run(["docker", "rmi", "-f", image], capture_output=True)
    ratio = imagekit_s / sdk["total_s"]
    print(f"image: {image}")
    print(f"  imagekit smoke all           {imagekit_s:7.2f} s  (train, serve, invocations, 6 MB limit, SIGTERM)")
    print(f"  SDK local fit+deploy+predict {sdk['total_s']:7.2f} s  (fit {sdk['fit_s']} s, deploy {sdk['deploy_s']} s, "
          f"predict {sdk['predict_s']} s)")
    print(f"  ratio {ratio:.3f}x   goal <= {GOAL}x   {'met' if ratio <= GOAL else 'MISSED'}")


if __name__ == "__main__":
    main()
