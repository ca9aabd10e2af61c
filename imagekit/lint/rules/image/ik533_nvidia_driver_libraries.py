"""IK533: NVIDIA driver libraries baked into the image."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, listing


def check(ctx) -> Iterator[Problem]:
    found = [(path, entry.size) for path, entry in ctx.image.walk() if entry.kind in ("file", "symlink")
             and path.rsplit("/", 1)[-1].startswith(contract.NVIDIA_DRIVER_LIBRARY_PREFIXES)
             and "/stubs/" not in path]
    if found:
        yield Problem(f"NVIDIA driver libraries in the image: {listing(found)}.", path=found[0][0])


RULE = Rule(
    code="IK533",
    name="nvidia-driver-library-in-image",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="image",
    summary="The image contains driver libraries (libcuda.so, libnvidia-ml.so...) that the host must provide.",
    rationale="GPU instances mount the host driver's libraries into the container; a copy in the image shadows "
    "them and fails with `CUDA driver version is insufficient` or worse when versions differ.",
    fix="Do not install nvidia-driver or libnvidia-compute packages; link against the CUDA stubs at build time.",
    check=check,
)
