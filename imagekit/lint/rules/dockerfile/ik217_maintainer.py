"""IK217: the deprecated MAINTAINER instruction."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, own_instructions


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "MAINTAINER"):
        yield Problem("MAINTAINER is deprecated.", ins.line, ins.column,
                      fix=f'LABEL org.opencontainers.image.authors="{ins.text}"')


RULE = Rule(
    code="IK217",
    name="maintainer-deprecated",
    severity=Severity.STYLE,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="MAINTAINER is deprecated; use the OCI authors label.",
    rationale="Docker deprecated MAINTAINER; tools read org.opencontainers.image.authors instead.",
    fix='LABEL org.opencontainers.image.authors="you@example.com"',
    check=check,
    example_bad="FROM debian:12\nMAINTAINER you@example.com\n",
    example_good='FROM debian:12\nLABEL org.opencontainers.image.authors="you@example.com"\n',
)
