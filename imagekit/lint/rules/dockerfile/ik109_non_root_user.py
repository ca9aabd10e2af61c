"""IK109: the final USER is not root, which SageMaker expects."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if final and final.user_instruction and not contract.is_root_user(final.user):
        ins = final.user_instruction
        yield Problem(f"The image runs as USER {final.user}, but SageMaker expects containers to run as root: "
                      f"writes to {contract.MODEL_DIR} and {contract.OUTPUT_DIR} can fail.", ins.line, ins.column)


RULE = Rule(
    code="IK109",
    name="non-root-user",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="The final USER (the image config's User) is not root; SageMaker expects containers to run as root.",
    rationale="Unlike generic advice (hadolint DL3002, dockle CIS-DI-0001), the SageMaker docs state that "
    "containers are expected to run as root. The platform's mounts for model artifacts, output and "
    "checkpoints are owned by root, so a non-root user can fail to write the model or the failure file. So this "
    "rule is the opposite of hadolint's DL3002 on purpose: a final USER root passes, a non-root final USER is "
    "reported. A built image is judged by its config's User, which a base image may have set even when the "
    "Dockerfile has no USER.",
    fix="Drop the final USER (or set USER root); drop privileges inside your program if you must.",
    check=check,
    example_bad="FROM python:3.11-slim\nRUN useradd app\nUSER app\n",
    example_good="FROM python:3.11-slim\nRUN useradd app\n",
)
