"""IK206: WORKDIR with a relative path."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, own_instructions

_ABSOLUTE = re.compile(r"^(/|\$|[A-Za-z]:[\\/]|\\)")  # POSIX, unresolved variables, Windows paths


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "WORKDIR"):
        path = ins.expanded.strip().strip("\"'")
        if path and not _ABSOLUTE.match(path):
            yield Problem(f"WORKDIR {path} is relative: it depends on the WORKDIR of the base image.",
                          ins.line, ins.column)


RULE = Rule(
    code="IK206",
    name="relative-workdir",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="WORKDIR uses a relative path.",
    rationale="A relative WORKDIR is resolved against the previous one, which may come from a base image you "
    "do not control; code then lands somewhere the ENTRYPOINT does not look (BuildKit's WorkdirRelativePath).",
    fix="Use an absolute path, e.g. WORKDIR /opt/program.",
    check=check,
    example_bad="FROM python:3.11-slim\nWORKDIR app\n",
    example_good="FROM python:3.11-slim\nWORKDIR /opt/program\n",
)
