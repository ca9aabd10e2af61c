"""IK107: EXPOSE names a port other than the one SageMaker serves on."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import DockerfileContext, arguments, own_instructions


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.final_image_stages(), "EXPOSE"):
        for word in arguments(ins):
            port = word.split("/", 1)[0]
            if port.isdigit() and int(port) != contract.SERVING_PORT:
                yield Problem(f"EXPOSE {word}: SageMaker sends {contract.PING_ROUTE} and "
                              f"{contract.INVOCATIONS_ROUTE} to port "
                              f"{contract.SERVING_PORT} only; is the server listening there?", ins.line, ins.column)


RULE = Rule(
    code="IK107",
    name="expose-other-port",
    severity=Severity.INFO,
    profiles=(contract.SERVE_COMMAND,),
    target="dockerfile",
    summary=f"EXPOSE of a port other than {contract.SERVING_PORT} in a serving image.",
    rationale=f"EXPOSE is documentation, but SageMaker only talks to port {contract.SERVING_PORT} (or "
    f"${contract.ENV_BIND_TO_PORT}). Exposing another port usually means the server listens on the wrong one.",
    fix=f"Serve on {contract.SERVING_PORT} and EXPOSE {contract.SERVING_PORT}.",
    check=check,
    example_bad="FROM python:3.11-slim\nEXPOSE 5000\n",
    example_good=f"FROM python:3.11-slim\nEXPOSE {contract.SERVING_PORT}\n",
)
