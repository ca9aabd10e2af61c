"""IK203: a base image from a registry outside the configured allow-list."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, registry_trusted
from imagekit.lint.rules.dockerfile.ik201_untagged_base import external_bases


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    if not ctx.trusted_registries:
        return
    for stage, ref in external_bases(ctx):
        if not registry_trusted(ref.registry, ctx.trusted_registries):
            yield Problem(f"FROM {stage.base} pulls from {ref.registry}, which is not in trusted-registries "
                          f"({', '.join(ctx.trusted_registries)}).", stage.line, stage.from_instruction.column)


RULE = Rule(
    code="IK203",
    name="untrusted-registry",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A FROM image comes from a registry not listed in `trusted-registries` (only when configured).",
    rationale="Platform teams often allow only their ECR accounts and the AWS Deep Learning Containers "
    "registry. Docker Hub images without a registry count as docker.io.",
    fix="Mirror the image into a trusted registry, or add the registry (glob patterns allowed) to "
    "`trusted-registries` in the lint config.",
    check=check,
    example_bad="FROM quay.io/org/image:1.0\n",
    example_good="FROM python:3.11-slim\n",
)
