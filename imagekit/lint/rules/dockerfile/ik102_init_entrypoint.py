"""IK102: an init such as tini is the ENTRYPOINT."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or not final.entrypoint:
        return
    ins = final.entrypoint
    argv = ins.exec_form if ins.exec_form is not None else ins.text.split()
    if argv and argv[0].rsplit("/", 1)[-1] in contract.ARGUMENT_EATING_INITS:
        init = argv[0].rsplit("/", 1)[-1]
        yield Problem(f"ENTRYPOINT starts with {init}: SageMaker's container docs say not to use an init as "
                      f"ENTRYPOINT; {init} takes the `train`/`serve` argument as the program to start.",
                      ins.line, ins.column)


RULE = Rule(
    code="IK102",
    name="init-as-entrypoint",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="An init such as tini or dumb-init is the ENTRYPOINT and swallows `train`/`serve`.",
    rationale="SageMaker appends `train` or `serve` to the ENTRYPOINT. Inits such as tini and dumb-init treat "
    "that word as the program to run instead of passing it to yours, and the training and inference docs "
    "explicitly say not to use tini. SageMaker already delivers SIGTERM to PID 1.",
    fix="Make your program the ENTRYPOINT (exec form) and let it handle SIGTERM, or `exec` it from a script.",
    check=check,
    example_bad='FROM python:3.11-slim\nRUN apt-get install -y --no-install-recommends tini\n'
    'ENTRYPOINT ["tini", "--"]\n',
    example_good='FROM python:3.11-slim\nENTRYPOINT ["python", "-m", "app"]\n',
)
