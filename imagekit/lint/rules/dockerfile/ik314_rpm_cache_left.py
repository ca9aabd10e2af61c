"""IK314: yum/dnf/microdnf metadata and package cache left in a layer of the final image."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    RPM_PROGRAMS,
    DockerfileContext,
    mounts,
    package_manager_installs,
    removes,
    runs,
)

_CACHES = ("/var/cache/yum", "/var/cache/dnf", "/var/cache/tdnf", "/var/cache/libdnf5")
_CACHE_OF = {"yum": "/var/cache/yum", "dnf": "/var/cache/dnf", "microdnf": "/var/cache/yum", "tdnf": "/var/cache/tdnf"}


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        first = next((index for index, c in enumerate(cmds)
                      if (i := package_manager_installs(c)) and i[0] in RPM_PROGRAMS), None)
        if first is None:
            continue
        installer, after = cmds[first].program, cmds[first + 1:]  # cleaning before the install cleans nothing
        cleaned = any(c.program in RPM_PROGRAMS and c.has("clean") and c.has("all") for c in after) \
            or any(removes(after, cache) for cache in _CACHES)
        mounted = any(m.get("target", "").rstrip("/").startswith(_CACHES) for m in mounts(ins)
                      if m["type"] in ("cache", "tmpfs"))
        if not cleaned and not mounted:
            cache = _CACHE_OF[installer]
            yield Problem(f"{installer} install leaves its metadata and package cache ({cache}, often 100+ MB) in "
                          "this layer.", ins.line, ins.column,
                          fix=f"End the same RUN with `&& {installer} clean all && rm -rf {cache}`.")


RULE = Rule(
    code="IK314",
    name="rpm-cache-left",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="yum/dnf/microdnf install in the final image without `clean all` (or removing /var/cache/yum|dnf).",
    rationale="On Amazon Linux, RHEL/UBI and Rocky bases the package manager keeps repository metadata and "
    "downloaded packages under /var/cache; cleaning in a later RUN does not shrink the earlier layer, and "
    "cleaning before the install cleans nothing. Builder stages are not reported (hadolint's DL3032/DL3040 "
    "report every stage). Its image counterpart IK531 is a different check: it measures the pip, Hugging Face, "
    "conda and apt cache bytes actually in a built image, whatever put them there.",
    fix="End the RUN with `&& yum clean all && rm -rf /var/cache/yum` (dnf/microdnf alike), or use a cache "
    "mount on /var/cache/dnf.",
    check=check,
    example_bad="FROM amazonlinux:2023\nRUN dnf install -y tar-1.34 gzip-1.12\n",
    example_good="FROM amazonlinux:2023\nRUN dnf install -y tar-1.34 gzip-1.12 && dnf clean all "
    "&& rm -rf /var/cache/dnf\n",
)
