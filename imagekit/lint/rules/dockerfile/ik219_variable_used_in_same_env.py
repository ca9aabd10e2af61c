"""IK219: an ENV value uses a variable that the same ENV instruction defines."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, env_pairs, own_instructions


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "ENV"):
        defined: dict[str, str] = {}
        for name, value, referenced in env_pairs(ins):
            used = next((variable for variable in referenced if variable in defined), None)
            if used is not None:
                before = ins.variables.get(used)
                seen = (f"still has its value from before this ENV ({before!r})" if before is not None
                        else "is empty, or the base image's value")
                yield Problem(f"{name} uses ${used}, which this same ENV sets to {defined[used]!r}: Docker "
                              f"expands the whole instruction before setting anything, so ${used} there {seen}.",
                              ins.line, ins.column)
            defined[name] = value


RULE = Rule(
    code="IK219",
    name="variable-used-in-same-env",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="An ENV value uses a variable defined earlier in the same ENV instruction (not set yet).",
    rationale="`ENV A=/opt/program PATH=$A:$PATH` expands every value before setting any, so $A is still "
    "unset (or the old value) and /opt/program silently stays off PATH; SageMaker then cannot find `train` or "
    "`serve`. Referring to a variable in its own definition (PATH=/x:$PATH) is fine.",
    fix="Split it: ENV A=/opt/program, then ENV PATH=$A:$PATH on its own line.",
    check=check,
    example_bad="FROM python:3.11-slim\nENV PROGRAM=/opt/program PATH=$PROGRAM:$PATH\n",
    example_good="FROM python:3.11-slim\nENV PROGRAM=/opt/program\nENV PATH=$PROGRAM:$PATH\n",
)
