"""IK216: COPY to a relative destination before any WORKDIR."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, copy_paths, own_instructions

_ABSOLUTE = re.compile(r"^(/|\$|[A-Za-z]:[\\/]|\\)")


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "COPY", "ADD"):
        parts = copy_paths(ins)
        if len(parts) < 2 or ins.workdir is not None:
            continue
        dest = parts[-1].strip("\"'")
        if not _ABSOLUTE.match(dest):
            yield Problem(f"{ins.keyword} to the relative path {dest} with no WORKDIR set in this file: the files "
                          "land wherever the base image's WORKDIR points.", ins.line, ins.column)


RULE = Rule(
    code="IK216",
    name="relative-copy-without-workdir",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="COPY/ADD to a relative destination before any WORKDIR in the stage.",
    rationale="The destination is resolved against the base image's WORKDIR (often `/`), so code lands in an "
    "unexpected place and the ENTRYPOINT cannot find it after a base-image change.",
    fix="Set WORKDIR first, or copy to an absolute path.",
    check=check,
    example_bad="FROM python:3.11-slim\nCOPY app.py .\n",
    example_good="FROM python:3.11-slim\nWORKDIR /opt/program\nCOPY app.py .\n",
)
