"""IK301: apt package lists left in a layer of the final image."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    APT_PROGRAMS,
    DockerfileContext,
    mounts,
    package_manager_installs,
    removes,
    runs,
)

_LISTS = "/var/lib/apt/lists"


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        if not any((i := package_manager_installs(c)) and i[0] in APT_PROGRAMS for c in cmds):
            continue
        if removes(cmds, _LISTS) or any(
                m.get("target", "").startswith("/var/lib/apt") for m in mounts(ins) if m["type"] in ("cache", "tmpfs")):
            continue
        yield Problem(f"apt-get install leaves {_LISTS} (tens of MB) in this layer.", ins.line, ins.column,
                      fix=f"End the same RUN with `&& rm -rf {_LISTS}/*`.")


RULE = Rule(
    code="IK301",
    name="apt-lists-left",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A RUN in the final image installs apt packages without removing /var/lib/apt/lists.",
    rationale="Package lists are only needed while installing. Removing them in a later RUN does not shrink "
    "the image because the earlier layer keeps them. Builder stages are not reported. Its image counterpart IK531 "
    "is a different check, not a second copy: it measures the cache bytes actually in a built image, whatever put "
    "them there (a base image, a COPY, a RUN no rule can read).",
    fix="End the RUN with `&& rm -rf /var/lib/apt/lists/*`, or use a cache mount for /var/lib/apt.",
    check=check,
    example_bad="FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
    example_good="FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl "
    "&& rm -rf /var/lib/apt/lists/*\n",
)
