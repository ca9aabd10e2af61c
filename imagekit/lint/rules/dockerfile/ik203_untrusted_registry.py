"""IK203: a base image from a registry outside the configured allow-list."""

from __future__ import annotations

from typing import Iterator

from imagekit.dockerfile.expand import Expander
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    DockerfileContext,
    mounts,
    own_instructions,
    parse_image,
    registry_trusted,
)
from imagekit.lint.rules.dockerfile.ik201_untagged_base import external_bases


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    if not ctx.trusted_registries:
        return
    for stage, ref in external_bases(ctx):
        if not registry_trusted(ref.registry, ctx.trusted_registries):
            yield Problem(f"FROM {stage.base} pulls from {ref.registry}, which is not in trusted-registries "
                          f"({', '.join(ctx.trusted_registries)}).", stage.line, stage.from_instruction.column)
    for ins, image in _copied_images(ctx):
        registry = parse_image(image).registry
        if not registry_trusted(registry, ctx.trusted_registries):
            where = "--mount from" if ins.keyword == "RUN" else "--from"
            yield Problem(f"{ins.keyword} {where}={image} pulls from {registry}, which is not in trusted-registries "
                          f"({', '.join(ctx.trusted_registries)}).", ins.line, ins.column)


def _copied_images(ctx: DockerfileContext):
    """Images (not stages) that `COPY --from=` or `RUN --mount=...,from=` pull, with build args expanded."""
    df = ctx.dockerfile
    for ins in own_instructions(df.stages, "COPY", "ADD", "RUN"):
        sources = [m["from"] for m in mounts(ins) if m.get("from")] if ins.keyword == "RUN" \
            else [ins.flag("from") or ""]
        for source in sources:
            expander = Expander(ins.variables, df.escape)
            image = expander.expand(source).strip("\"'")
            if image and not expander.missing and df.stage_by_ref(image) is None:
                yield ins, image


RULE = Rule(
    code="IK203",
    name="untrusted-registry",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="FROM, COPY --from or RUN --mount from= pulls from a registry not in `trusted-registries`, if set.",
    rationale="Platform teams often allow only their ECR accounts and the AWS Deep Learning Containers "
    "registry. Docker Hub images without a registry count as docker.io.",
    fix="Mirror the image into a trusted registry, or add the registry (glob patterns allowed) to "
    "`trusted-registries` in the lint config.",
    check=check,
    example_bad="FROM quay.io/org/image:1.0\n",
    example_good="FROM python:3.11-slim\n",
)
