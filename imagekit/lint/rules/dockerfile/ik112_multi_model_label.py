"""IK112: a multi-model server image without the multi-models capability label."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or final.env.get(contract.ENV_MULTI_MODEL, "").strip().lower() != contract.CAPABILITY_TRUE:
        return
    if final.labels.get(contract.LABEL_MULTI_MODELS) != contract.CAPABILITY_TRUE:
        yield Problem(f"{contract.ENV_MULTI_MODEL}={contract.CAPABILITY_TRUE} but the image lacks LABEL "
                      f"{contract.LABEL_MULTI_MODELS}={contract.CAPABILITY_TRUE} (exactly that value), so SageMaker "
                      "will refuse it for a multi-model endpoint.",
                      final.line, 1)


RULE = Rule(
    code="IK112",
    name="multi-model-label-missing",
    severity=Severity.ERROR,
    profiles=(contract.SERVE_COMMAND,),
    target="dockerfile",
    summary="The image enables multi-model serving but lacks the multi-models capability label.",
    rationale="Multi-model endpoints only accept images labelled "
    f"{contract.LABEL_MULTI_MODELS}={contract.CAPABILITY_TRUE} (that exact lower-case value). Reported on the "
    "final FROM line because the label is missing.",
    fix=f"Add LABEL {contract.LABEL_MULTI_MODELS}={contract.CAPABILITY_TRUE}.",
    check=check,
    example_bad=f"FROM python:3.11-slim\nENV {contract.ENV_MULTI_MODEL}={contract.CAPABILITY_TRUE}\n",
    example_good=f"FROM python:3.11-slim\nENV {contract.ENV_MULTI_MODEL}={contract.CAPABILITY_TRUE}\n"
    f"LABEL {contract.LABEL_MULTI_MODELS}={contract.CAPABILITY_TRUE}\n",
)
