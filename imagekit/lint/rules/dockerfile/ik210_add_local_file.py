"""IK210: ADD used to copy local files."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    DockerfileContext,
    copy_paths,
    own_instructions,
    referenced_variables,
)

_REMOTE = re.compile(r"^([a-z+]+://|git@)", re.I)
_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|gz|bz2|xz|zst)$", re.I)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "ADD"):
        if ins.heredocs or referenced_variables(ins):
            continue  # generated content, or sources chosen by build args (often archives)
        parts = copy_paths(ins)
        sources = parts[:-1]
        if sources and not any(_REMOTE.match(s) or _ARCHIVE.search(s) or "$" in s for s in sources):
            yield Problem(f"ADD copies local files ({', '.join(sources)}); COPY does the same without ADD's "
                          "surprises.", ins.line, ins.column)


RULE = Rule(
    code="IK210",
    name="add-local-file",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="ADD is used for local files that are not archives; use COPY.",
    rationale="ADD silently unpacks archives and fetches URLs. For plain files COPY is explicit and safer; "
    "local archives (which ADD unpacks) and URLs are not reported here.",
    fix="Replace ADD with COPY.",
    check=check,
    example_bad="FROM python:3.11-slim\nADD app.py /opt/program/\n",
    example_good="FROM python:3.11-slim\nCOPY app.py /opt/program/\n",
)
