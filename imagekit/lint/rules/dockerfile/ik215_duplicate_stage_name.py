"""IK215: two stages share a name."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for stage in ctx.dockerfile.stages:
        if stage.name is None:
            continue
        if stage.name in seen:
            yield Problem(f"Stage name {stage.name!r} is already used on line {seen[stage.name]}.",
                          stage.line, stage.from_instruction.column)
        else:
            seen[stage.name] = stage.line


RULE = Rule(
    code="IK215",
    name="duplicate-stage-name",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="Two FROM lines use the same `AS` name.",
    rationale="BuildKit rejects duplicate stage names; older builders silently use one of them, so "
    "`COPY --from=` may copy from the wrong stage.",
    fix="Give every stage a unique name.",
    check=check,
    example_bad="FROM debian:12 AS build\nFROM debian:12 AS build\n",
    example_good="FROM debian:12 AS build\nFROM debian:12 AS runtime\n",
)
