"""IK108: a SageMaker capability label with an unknown key or value."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.dockerfile.expand import key_values
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import DockerfileContext, own_instructions


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.final_image_stages(), "LABEL"):
        for key, value in key_values(ins.text, ins.variables, ctx.dockerfile.escape):
            if not key.startswith(contract.CAPABILITY_LABEL_PREFIX):
                continue
            if key not in contract.CAPABILITY_LABELS:
                yield Problem(f"Unknown SageMaker capability label {key}; known: "
                              f"{', '.join(contract.CAPABILITY_LABELS)}.", ins.line, ins.column)
            elif value != contract.CAPABILITY_TRUE:
                yield Problem(f"{key}={value!r}: SageMaker only recognises the value "
                              f"{contract.CAPABILITY_TRUE!r}; omit the label to leave the capability off.",
                              ins.line, ins.column)


RULE = Rule(
    code="IK108",
    name="capability-label-invalid",
    severity=Severity.ERROR,
    profiles=(contract.SERVE_COMMAND,),
    target="dockerfile",
    summary=f"A {contract.CAPABILITY_LABEL_PREFIX}* label has an unknown key or a value other than "
    f"{contract.CAPABILITY_TRUE}.",
    rationale="Multi-container endpoints, inference pipelines and multi-model endpoints check these labels "
    f"literally. A misspelt key or any value other than the exact lower-case `{contract.CAPABILITY_TRUE}` "
    "(`True`, `TRUE`, `yes`) means the capability is off and endpoint "
    f"creation fails, the server never gets {contract.ENV_BIND_TO_PORT} and is reached on the wrong port, or "
    "multi-model mode stays off, in ways that look unrelated. A built image is checked for every capability label "
    "in its config, including those inherited from the base image.",
    fix=f"Use exactly {contract.LABEL_BIND_TO_PORT}={contract.CAPABILITY_TRUE} or "
    f"{contract.LABEL_MULTI_MODELS}={contract.CAPABILITY_TRUE}.",
    check=check,
    example_bad=f"FROM python:3.11-slim\nLABEL {contract.LABEL_BIND_TO_PORT}=yes\n",
    example_good=f"FROM python:3.11-slim\nLABEL {contract.LABEL_BIND_TO_PORT}={contract.CAPABILITY_TRUE}\n",
)
