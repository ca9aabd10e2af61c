"""IK525: the image is not a Linux image for a CPU that SageMaker instances have."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext

SAGEMAKER_ARCHITECTURES = ("amd64", "arm64")


def check(ctx: ImageContext) -> Iterator[Problem]:
    image = ctx.image
    if image.os and image.os != "linux":
        yield Problem(f"The image is for {image.os}; containers on SageMaker and most CI runners are Linux.")
    elif image.architecture and image.architecture not in SAGEMAKER_ARCHITECTURES:
        yield Problem(f"The image is for {image.architecture}; SageMaker instances are amd64 or arm64 (Graviton).")


RULE = Rule(
    code="IK525",
    name="image-platform",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="image",
    summary="The image is not linux/amd64 or linux/arm64, the platforms SageMaker instances run.",
    rationale="An image for another OS or CPU fails at start with `exec format error`.",
    fix="Build for linux/amd64 or linux/arm64 (docker build --platform).",
    check=check,
    example_bad=ImageExample(architecture="s390x"),
    example_good=ImageExample(architecture="amd64"),
)
