"""examples/pytorch-cuda built for real (`cuda.mode: wheels` on the local base, CUDA from PyPI's nvidia-* wheels
through the host wheelhouse) and checked where no GPU is: torch imports with its bundled CUDA libraries, `lint
--image` finds one CUDA (IK534 absent) and no errors, and `smoke all --instance-type ml.g5.xlarge` passes on CPU
with the missing GPU reported. The `gpu`-marked test runs the same job on the GPU where the engine has one.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path

import pytest

import image_cache
from imagekit import engine, smoke
from imagekit.build import build
from imagekit.lint import Target
from imagekit.lint import run as lint
from imagekit.lint.core import Severity
from imagekit.render import render
from imagekit.render.context import Provenance
from imagekit.smoke import hardware

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytorch-cuda"
# The built image as a `docker save` archive: building it (3 GB of wheels installed into a 6 GB venv, copied into the
# runtime stage) takes minutes on two cores, loading the archive a fraction of that. The key covers the whole build
# context (git provenance left out: a new commit alone changes nothing in the image) and the base's recipe; the
# wheels themselves are cached by the wheelhouse (~/.cache/imagekit/wheelhouse).
IMAGE_CACHE = image_cache.CACHE_ROOT / "imagekit-test-cuda"
CUDA_WHEEL_LIBRARIES = ("cuda_runtime/lib/libcudart.so.12", "cublas/lib/libcublas.so.12", "cudnn/lib/libcudnn.so.9",
                        "nccl/lib/libnccl.so.2")
PROBE = f"""
import ctypes, json, os
import torch
cudnn = torch.backends.cudnn.version()  # loads libcudnn the way torch finds it: no LD_LIBRARY_PATH in the image
mapped = sorted({{line.split()[-1] for line in open("/proc/self/maps") if "/site-packages/nvidia/" in line}})
import nvidia
for library in {CUDA_WHEEL_LIBRARIES!r}:
    ctypes.CDLL(os.path.join(nvidia.__path__[0], library))
print(json.dumps({{"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": cudnn, "mapped": mapped,
                  "available": torch.cuda.is_available(), "system_cuda": os.path.exists("/usr/local/cuda")}}))
"""


def _context_key(base: str) -> str:
    with tempfile.TemporaryDirectory() as temporary:
        context = Path(temporary)
        render(EXAMPLE, context, wheelhouse=True, base=base, provenance=Provenance())
        files = sorted(p for p in context.rglob("*") if p.is_file())
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.relative_to(context).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(repr(image_cache.base_recipe(base)).encode())
    return digest.hexdigest()[:16]


def _build(tag: str, base: str) -> None:
    """`imagekit build --wheelhouse` as a user runs it; then the builder stage's images (a throwaway of several GB:
    the copied wheels and the venv) are removed, newest first, each taking its untagged parents along."""
    from docker.errors import APIError

    steps: list[str] = []
    build(EXAMPLE, tag=tag, wheelhouse=True, base=base, log=steps.append)
    kept = {layer["Id"].removeprefix("sha256:")[:12] for layer in engine.connect().api.history(tag)}
    for image_id in reversed(re.findall(r"^ ---> ([0-9a-f]{12})$", "\n".join(steps), flags=re.M)):
        if image_id not in kept:
            try:
                engine.remove_image(image_id)
            except APIError:  # a layer another image builds on (a shared cache step): not ours to remove
                pass


@pytest.fixture(scope="module")
def cuda_image(base_image: str) -> str:
    key = _context_key(base_image)
    tag = f"imagekit-test/pytorch-cuda:{key}"
    archive = IMAGE_CACHE / f"pytorch-cuda-{key}.tar"
    try:
        image_cache.load(archive)
        if engine.inspect_image(tag) is None:
            _build(tag, base_image)
        if not archive.is_file():
            image_cache.save(tag, archive, "pytorch-cuda-*.tar")
        yield tag
    finally:
        engine.remove_image(tag)


def _python(image: str, code: str) -> dict:
    output = engine.connect().containers.run(image, ["-c", code], entrypoint=["python3"], remove=True,
                                             network_mode="none")
    return json.loads(output.decode().strip().splitlines()[-1])


def test_torch_imports_with_the_cuda_libraries_of_its_nvidia_wheels(cuda_image: str) -> None:
    seen = _python(cuda_image, PROBE)
    assert seen["torch"].startswith("2.5.1") and seen["cuda"] == "12.4"
    assert seen["cudnn"] == 90100  # cuDNN 9.1, as `imagekit explain` resolves pytorch 2.5 + CUDA 12.4
    loaded_by_torch = {path.rsplit("/", 1)[-1] for path in seen["mapped"]}  # from site-packages/nvidia/*/lib
    assert {"libcudart.so.12", "libcublas.so.12", "libcudnn.so.9"} <= loaded_by_torch, seen["mapped"]
    assert not seen["available"], "no GPU is handed to this container"
    assert not seen["system_cuda"], "wheels mode has no second CUDA toolkit"


def test_lint_image_finds_one_cuda_and_no_errors(cuda_image: str, module_image) -> None:
    findings = lint([Target.image(cuda_image)]).findings
    assert not [f for f in findings if f.rule == "IK534"], findings
    assert not [f for f in findings if f.severity >= Severity.ERROR], findings
    # The same image with a system CUDA runtime added is what IK534 is about: the rule sees this image's wheels.
    doubled = module_image(f"FROM {cuda_image}\nRUN mkdir -p /usr/local/cuda/lib64 && "
                           "head -c 4096 /dev/urandom > /usr/local/cuda/lib64/libcudart.so.12\n")
    assert [f.rule for f in lint([Target.image(doubled)]).findings if f.rule == "IK534"] == ["IK534"]


def test_the_example_trains_and_serves_as_a_g5_and_says_when_the_gpu_is_missing(cuda_image: str) -> None:
    given = hardware.place("ml.g5.xlarge").gpus_here  # 0: none, None: all the engine has, uncounted
    report = smoke.run_all(cuda_image, data={"training": EXAMPLE / "data" / "training"},
                           payloads=[EXAMPLE / "data" / "payload.csv"], content_type="text/csv",
                           instance_type="ml.g5.xlarge")
    assert report.ok, report.to_json()
    gpu_checks = {c.name: c.ok for c in report.checks if c.name.endswith(".gpus")}
    assert gpu_checks == {"train.gpus": bool(given), "serve.gpus": bool(given)}, "only a counted GPU passes"
    assert f"training on {'cpu' if given == 0 else 'cuda'}" in report.drain_logs()["algo-1"]


def test_the_example_trains_on_the_gpu_smoke_requests(cuda_image: str, nvidia_gpus: tuple[str, ...]) -> None:
    report = smoke.train(cuda_image, data={"training": EXAMPLE / "data" / "training"}, instance_type="ml.g5.xlarge")
    assert report.ok, report.to_json()
    assert "training on cuda" in report.drain_logs()["algo-1"]
    assert "SM_NUM_GPUS=1" in report.drain_logs()["algo-1"]
