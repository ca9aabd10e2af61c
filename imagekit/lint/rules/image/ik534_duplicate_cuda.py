"""IK534: a system CUDA toolkit and framework-bundled CUDA wheels in the same image."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.image.fs import FILE
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext, files_under, human

SYSTEM_CUDA = re.compile(r"^/usr/local/cuda[^/]*/(targets/[^/]+/)?lib(64)?/lib(cudart|cublas|cudnn)[^/]*\.so")
WHEELS = "/site-packages/nvidia/"
WHEEL_LIBRARY = "opt/venv/lib/python3.11/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12"  # the examples'
WHEEL_CUDA = re.compile(r"/site-packages/nvidia/[^/]+/lib/lib[^/]*\.so")


def check(ctx: ImageContext) -> Iterator[Problem]:
    toolkits = tuple(path for path in ctx.image.children.get("usr/local", ()) if path.startswith("usr/local/cuda"))
    system = sum(entry.size for path, entry in files_under(ctx.image, toolkits)
                 if entry.kind == FILE and SYSTEM_CUDA.match(path))
    wheels = sum(entry.size for path, entry in ctx.image.entries.items()
                 if WHEELS in path and entry.kind == FILE and WHEEL_CUDA.search("/" + path))
    if system and wheels:
        yield Problem(f"The image has a system CUDA toolkit ({human(system)} of CUDA libraries under /usr/local/cuda) "
                      f"and CUDA libraries from nvidia-* wheels ({human(wheels)}); the framework uses only one set.")


RULE = Rule(
    code="IK534",
    name="duplicate-cuda-libraries",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="image",
    summary="CUDA libraries are present twice: from an nvidia/cuda base and from the framework's nvidia-* wheels.",
    rationale="PyTorch and TensorFlow wheels bundle their CUDA libraries; on an nvidia/cuda base that is gigabytes "
    "of duplicates, and version skew between the two sets causes subtle load-order bugs.",
    fix="Use a plain Python base with the framework's CUDA wheels, or an nvidia/cuda runtime base with CPU-only "
    "framework wheels built against it.",
    check=check,
    example_bad=ImageExample(files={"usr/local/cuda/lib64/libcudart.so.12": 100, WHEEL_LIBRARY: 100}),
    example_good=ImageExample(files={WHEEL_LIBRARY: 100}),
)
