"""IK524: a HEALTHCHECK in a SageMaker image, which the platform ignores."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES, ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    test = (ctx.image.config.get("Healthcheck") or {}).get("Test") or []
    if test and test != ["NONE"]:
        yield Problem(f"The image defines HEALTHCHECK {test!r}; SageMaker ignores it and only calls GET "
                      f"{contract.PING_ROUTE} on port {contract.SERVING_PORT}.")


RULE = Rule(
    code="IK524",
    name="healthcheck-ignored",
    severity=Severity.INFO,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary=f"HEALTHCHECK is set, but SageMaker ignores it and health-checks with GET {contract.PING_ROUTE}.",
    rationale="Readiness logic placed in HEALTHCHECK never runs on SageMaker; it belongs behind "
    f"{contract.PING_ROUTE}. For the same reason imagekit deliberately does not ask for a HEALTHCHECK the way "
    "hadolint's DL3057 does.",
    fix=f"Answer {contract.PING_ROUTE} with 200 only when the model is loaded; the HEALTHCHECK can go.",
    check=check,
    example_bad=ImageExample(config={"Healthcheck": {"Test": ["CMD", "curl", "-f", "localhost:8080/ping"]}}),
    example_good=ImageExample(config={"Healthcheck": None}),
)
