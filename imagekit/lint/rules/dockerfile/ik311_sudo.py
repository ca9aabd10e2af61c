"""IK311: sudo in a RUN."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, runs


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.stages):
        if any("sudo" in c.wrappers or c.program == "sudo" for c in cmds):
            yield Problem("sudo in a RUN: builds run as the Dockerfile's USER, and sudo keeps a setuid binary "
                          "and a TTY-dependent tool in the image.", ins.line, ins.column)


RULE = Rule(
    code="IK311",
    name="sudo-in-run",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A RUN uses sudo.",
    rationale="sudo behaves unpredictably without a TTY and its presence is a privilege-escalation path "
    "(dockle DKL-DI-0001). Switch USER for the steps that need root instead.",
    fix="Remove sudo; use `USER root` before the RUN and switch back afterwards if needed.",
    check=check,
    example_bad="FROM debian:12\nRUN sudo apt-get update && sudo apt-get install -y --no-install-recommends curl "
    "&& sudo rm -rf /var/lib/apt/lists/*\n",
    example_good="FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl "
    "&& rm -rf /var/lib/apt/lists/*\n",
)
