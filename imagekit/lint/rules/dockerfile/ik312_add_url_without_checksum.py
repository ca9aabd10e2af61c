"""IK312: ADD of a URL without --checksum."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, copy_paths, own_instructions

_URL = re.compile(r"^https?://", re.I)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.stages, "ADD"):
        parts = copy_paths(ins)
        urls = [p for p in parts[:-1] if _URL.match(p)]
        if urls and not ins.flag("checksum"):
            yield Problem(f"ADD {urls[0]} downloads without --checksum, so a changed or tampered file goes "
                          "unnoticed.", ins.line, ins.column)


RULE = Rule(
    code="IK312",
    name="add-url-without-checksum",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="ADD downloads a URL without `--checksum=sha256:...`.",
    rationale="Model weights and tools fetched by URL change or disappear; without a checksum the build "
    "neither notices nor is reproducible.",
    fix="ADD --checksum=sha256:<digest> <url> <dest> (BuildKit), or curl plus sha256sum -c in a RUN.",
    check=check,
    example_bad="FROM debian:12\nADD https://example.com/tool.tgz /opt/\n",
    example_good="FROM debian:12\nADD "
    "--checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d "
    "https://example.com/tool.tgz /opt/\n",
)
