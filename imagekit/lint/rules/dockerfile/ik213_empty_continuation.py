"""IK213: an empty line inside a line continuation."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for line in ctx.dockerfile.empty_continuation_lines:
        yield Problem("Empty line inside a continued instruction; BuildKit skips it but warns, and older "
                      "parsers end the instruction here.", line, 1)


RULE = Rule(
    code="IK213",
    name="empty-continuation-line",
    severity=Severity.STYLE,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A blank line appears inside a `\\`-continued instruction.",
    rationale="BuildKit tolerates it (with its NoEmptyContinuation warning), but the classic builder and "
    "several tools end the instruction at the blank line, turning the rest into a bogus instruction.",
    fix="Delete the blank line, or make it a comment.",
    check=check,
    example_bad="FROM debian:12\nRUN echo a && \\\n\n    echo b\n",
    example_good="FROM debian:12\nRUN echo a && \\\n    echo b\n",
)
