"""IK308: pip told to trust a host without TLS verification."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    DockerfileContext,
    commands,
    env_pairs,
    own_instructions,
)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "RUN", "ENV"):
        if ins.keyword == "ENV":
            if any(name == "PIP_TRUSTED_HOST" for name, _, _ in env_pairs(ins)):
                yield Problem("ENV PIP_TRUSTED_HOST turns off TLS verification for that host.", ins.line, ins.column)
            continue
        for cmd in commands(ins):
            trusted = any(word.partition("=")[0] == "--trusted-host" for word in cmd.argv)  # option
            configured = "config" in cmd.argv and any(word.endswith("trusted-host") for word in cmd.argv)  # pip config
            if cmd.program.startswith(("pip", "python", "uv")) and (trusted or configured):
                yield Problem("pip --trusted-host accepts any certificate (or plain HTTP) from that index, so a "
                              "network attacker can replace packages.", ins.line, ins.column)
                break


RULE = Rule(
    code="IK308",
    name="pip-trusted-host",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="pip --trusted-host (or PIP_TRUSTED_HOST) disables certificate checks for an index.",
    rationale="Usually added to get past a corporate TLS proxy; it lets anyone on the path serve you "
    "modified wheels, which then run as root in your training job.",
    fix="Give pip the proxy's CA instead (PIP_CERT or --cert, e.g. via RUN --mount=type=secret).",
    check=check,
    example_bad="FROM python:3.11-slim\nRUN pip install --no-cache-dir --trusted-host pypi.org numpy==2.0.0\n",
    example_good="FROM python:3.11-slim\nRUN pip install --no-cache-dir numpy==2.0.0\n",
)
