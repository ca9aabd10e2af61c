"""IK201: a base image without a tag or digest."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, is_scratch, parse_image


def external_bases(ctx: DockerfileContext):
    """Stages built FROM a registry image whose reference is fully known after ARG expansion."""
    for stage in ctx.dockerfile.stages:
        if stage.parent is None and stage.base and stage.base_known and not is_scratch(stage.base) \
                and "{" not in stage.base and "$" not in stage.base:
            yield stage, parse_image(stage.base)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for stage, ref in external_bases(ctx):
        if ref.tag is None and ref.digest is None:
            yield Problem(f"FROM {stage.base} has no tag, so it means :latest and changes under you.",
                          stage.line, stage.from_instruction.column)


RULE = Rule(
    code="IK201",
    name="untagged-base-image",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A FROM image has no tag or digest (build args are expanded first).",
    rationale="An untagged image is `:latest`, which moves: a rebuild can silently pick up a new CUDA, Python "
    "or framework version. `FROM ${BASE}` is judged by BASE's default, so a tagged default is fine and an "
    "untagged one is reported (hadolint's DL3006 does not expand build args).",
    fix="Pin a tag (python:3.11-slim) or, better, a digest (python:3.11-slim@sha256:...).",
    check=check,
    example_bad="FROM python\n",
    example_good="ARG BASE=python:3.11-slim\nFROM ${BASE}\n",
)
