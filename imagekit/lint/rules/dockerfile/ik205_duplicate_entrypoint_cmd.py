"""IK205: more than one ENTRYPOINT or CMD in the final stage."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final:
        return
    for keyword in ("ENTRYPOINT", "CMD"):
        found = [i for i in final.instructions if i.keyword == keyword]
        for ins in found[:-1]:
            yield Problem(f"This {keyword} has no effect: the {keyword} on line {found[-1].line} replaces it.",
                          ins.line, ins.column)


RULE = Rule(
    code="IK205",
    name="duplicate-entrypoint-or-cmd",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="The final stage sets ENTRYPOINT or CMD more than once; only the last counts.",
    rationale="Readers (and reviewers) see the first one; Docker uses the last. The earlier one is dead code "
    "that misleads about how the container starts.",
    fix="Keep one ENTRYPOINT and at most one CMD in the final stage.",
    check=check,
    example_bad='FROM python:3.11-slim\nENTRYPOINT ["python"]\nENTRYPOINT ["python", "-m", "app"]\n',
    example_good='FROM python:3.11-slim\nENTRYPOINT ["python", "-m", "app"]\n',
)
