"""IK110: NVIDIA driver packages or libraries in the image."""

from __future__ import annotations

import posixpath
import re
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    DockerfileContext,
    copy_destination,
    copy_paths,
    own_instructions,
    package_manager_installs,
    runs,
)

# CUDA's link-time stubs (cuda/lib64/stubs/) and its forward-compatibility libraries (cuda-12.4/compat/, the
# cuda-compat package every nvidia/cuda image installs) carry libcuda.so but are not the driver: nothing loads them
# unless a build links against the stubs or LD_LIBRARY_PATH names compat/.
NOT_THE_DRIVER = re.compile(r"/stubs/|(?:^|/)cuda[^/]*/compat/")


def is_driver_library(path: str) -> bool:
    """*path* names an NVIDIA driver library, outside the stubs and compat directories."""
    return (posixpath.basename(path).startswith(contract.NVIDIA_DRIVER_LIBRARY_PREFIXES)
            and not NOT_THE_DRIVER.search(path))


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    stages = ctx.dockerfile.final_image_stages()
    for ins, cmds in runs(stages):
        for cmd in cmds:
            install = package_manager_installs(cmd)
            drivers = [p for p in (install[1] if install else [])
                       if p.startswith(contract.NVIDIA_DRIVER_PACKAGE_PREFIXES)]
            if drivers:
                yield Problem(f"Installs the NVIDIA driver package(s) {', '.join(drivers)}; the host provides the "
                              "driver and a second copy breaks GPU access.", ins.line, ins.column)
    for ins in own_instructions(stages, "COPY", "ADD"):
        if NOT_THE_DRIVER.search((copy_destination(ins) or "") + "/"):
            continue  # into a stubs/ or compat/ directory
        libs = [p for p in copy_paths(ins) if is_driver_library(p)]
        if libs:
            yield Problem(f"Copies the driver library {libs[0]} into the image; the host mounts the driver's own.",
                          ins.line, ins.column)


RULE = Rule(
    code="IK110",
    name="nvidia-driver-in-image",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="The image installs NVIDIA driver packages or carries driver libraries such as libcuda.so.",
    rationale="GPU containers must carry the CUDA toolkit only. The NVIDIA container runtime mounts the host's "
    "driver libraries (libcuda.so, libnvidia-ml.so); a driver inside the image shadows them and fails with "
    "version-mismatch errors (`CUDA driver version is insufficient`). SageMaker's docs say not to bundle the "
    "driver. A Dockerfile is checked for driver packages installed and driver libraries copied in; a built image "
    "for the libraries themselves, however they got there. Not the driver, in either: CUDA's `stubs/` directories, "
    "which exist for linking, and the forward-compatibility libraries under `/usr/local/cuda*/compat/` (the "
    "`cuda-compat` package every nvidia/cuda image installs), which load only when LD_LIBRARY_PATH names them.",
    fix="Remove the driver packages and libraries; use a CUDA runtime base image (nvidia/cuda:*-runtime) or "
    "cuda-toolkit packages, and link against the CUDA stubs at build time.",
    check=check,
    example_bad="FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y --no-install-recommends nvidia-driver-535 "
    "&& rm -rf /var/lib/apt/lists/*\n",
    example_good="FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n",
)
