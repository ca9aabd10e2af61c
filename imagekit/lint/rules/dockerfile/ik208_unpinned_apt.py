"""IK208: apt packages installed without a version in the final image."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, APT_PROGRAMS, DockerfileContext, unpinned_installs


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, _manager, loose in unpinned_installs(ctx.dockerfile.final_image_stages(), APT_PROGRAMS, _pinned):
        yield Problem(f"apt packages without a version: {', '.join(loose)}.", ins.line, ins.column)


def _pinned(package: str) -> bool:
    """pkg=1.2-3, a local .deb, or a name held in a variable (not judged)."""
    return "=" in package or package.endswith(".deb") or "$" in package


RULE = Rule(
    code="IK208",
    name="unpinned-apt-package",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="apt packages in the final image are installed without `=version`.",
    rationale="Only the final image's packages matter for reproducibility; builder stages are ignored. "
    "Pinning apt versions is a trade-off (old versions leave the mirror), hence info, not warning. `apt` and "
    "`aptitude` installs are judged like `apt-get` (hadolint's DL3008 reads apt-get only); a package list held "
    "in a variable is not judged.",
    fix="Pin the packages that matter (pkg=1.2.3-1) or build from a dated snapshot mirror.",
    check=check,
    example_bad="FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl "
    "&& rm -rf /var/lib/apt/lists/*\n",
    example_good="FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends "
    "curl=7.88.1-10+deb12u8 "
    "&& rm -rf /var/lib/apt/lists/*\n",
)
