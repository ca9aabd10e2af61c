"""IK207: apt-get update in a RUN that installs nothing."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    APT_PROGRAMS,
    DockerfileContext,
    package_manager_installs,
    runs,
)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.stages):
        updates = any(c.program in APT_PROGRAMS and "update" in c.argv for c in cmds)
        if updates and not any(package_manager_installs(c) or "upgrade" in c.argv or "dist-upgrade" in c.argv
                               for c in cmds):
            yield Problem("`apt-get update` runs in a RUN of its own: its cached layer makes later installs use "
                          "stale package lists.", ins.line, ins.column)


RULE = Rule(
    code="IK207",
    name="apt-update-alone",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="`apt-get update` without an install in the same RUN.",
    rationale="Docker caches the update layer. When a later RUN changes its package list, it reuses the old "
    "lists and fails with 404s or installs outdated versions.",
    fix="Combine them: RUN apt-get update && apt-get install -y --no-install-recommends ... "
    "&& rm -rf /var/lib/apt/lists/*",
    check=check,
    example_bad="FROM debian:12\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl\n",
    example_good="FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl "
    "&& rm -rf /var/lib/apt/lists/*\n",
)
