"""IK202: a base image pinned to :latest."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext
from imagekit.lint.rules.dockerfile.ik201_untagged_base import external_bases


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for stage, ref in external_bases(ctx):
        if ref.tag == "latest" and ref.digest is None:
            yield Problem(f"FROM {stage.base} uses the moving `latest` tag.", stage.line, stage.from_instruction.column)


RULE = Rule(
    code="IK202",
    name="latest-base-tag",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A FROM image uses the `latest` tag (build args are expanded first).",
    rationale="`latest` is whatever was pushed last; builds stop being reproducible and a framework upgrade "
    "can arrive unannounced in a training image.",
    fix="Pin a version tag or a digest.",
    check=check,
    example_bad="FROM python:latest\n",
    example_good="FROM python:3.11-slim\n",
)
