"""IK214: FROM uses a build arg that has no value."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    declared = ctx.dockerfile.global_args
    for stage in ctx.dockerfile.stages:
        for name in stage.unresolved:
            if name in declared:
                why = f"ARG {name} has no default, so the build fails unless --build-arg {name}=... is passed"
            else:
                why = f"{name} is not declared with ARG before the first FROM, so it expands to nothing"
            yield Problem(f"FROM uses ${name}: {why}.", stage.line, stage.from_instruction.column)


RULE = Rule(
    code="IK214",
    name="undefined-arg-in-from",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="FROM references a build arg that is undeclared or has no default.",
    rationale="Only ARGs declared before the first FROM are visible in FROM lines. An undeclared one expands "
    "to an empty string (BuildKit's UndefinedArgInFrom); one without a default makes every build depend on "
    "a --build-arg that CI may forget.",
    fix="Declare the ARG before the first FROM, with a pinned default: ARG BASE=python:3.11-slim.",
    check=check,
    example_bad="FROM ${BASE_IMAGE}\n",
    example_good="ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n",
)
