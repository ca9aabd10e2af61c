"""IK220: yum/dnf/microdnf packages installed without a version."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, RPM_PROGRAMS, DockerfileContext, unpinned_installs

# name-version[-release][.arch]: a dash followed by a digit starts the version (python3-devel has none); a
# module stream (`yum module install tomcat:9`) pins too.
_VERSIONED = re.compile(r"-\d|[<>=]|:\d")
_NOT_A_NAME = re.compile(r"^@|[/$*]|\.rpm$", re.I)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, manager, loose in unpinned_installs(ctx.dockerfile.final_image_stages(), RPM_PROGRAMS, _pinned):
        yield Problem(f"{manager} packages without a version: {', '.join(loose)}.", ins.line, ins.column)


def _pinned(package: str) -> bool:
    """tar-1.34 is pinned; groups (@...), local .rpm files, URLs and variables are not judged."""
    return bool(_VERSIONED.search(package) or _NOT_A_NAME.search(package))


RULE = Rule(
    code="IK220",
    name="unpinned-rpm-package",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="yum/dnf/microdnf packages in the final image are installed without `-version`.",
    rationale="Amazon Linux and RHEL repositories move; an unpinned install makes two builds of one "
    "Dockerfile differ. Like apt pinning (IK208) this is a trade-off, hence info. A module stream "
    "(tomcat:9) counts as pinned; groups (@...), local .rpm files, URLs and variables are not judged, nor are "
    "builder stages.",
    fix="Pin the packages that matter (tar-1.34), or use a dated repository snapshot / releasever lock.",
    check=check,
    example_bad="FROM amazonlinux:2023\nRUN dnf install -y tar && dnf clean all\n",
    example_good="FROM amazonlinux:2023\nRUN dnf install -y tar-1.34 && dnf clean all\n",
)
