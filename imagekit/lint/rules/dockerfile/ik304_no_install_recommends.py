"""IK304: apt-get install without --no-install-recommends."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    APT_PROGRAMS,
    DockerfileContext,
    package_manager_installs,
    runs,
)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        for cmd in cmds:
            install = package_manager_installs(cmd)
            if not install or install[0] not in APT_PROGRAMS or not install[1]:
                continue
            words = " ".join(cmd.argv)
            if not {"--no-install-recommends", "--without-recommends", "-R"} & {w.split("=")[0] for w in cmd.argv} \
                    and "Install-Recommends" not in words:
                yield Problem("apt-get install without --no-install-recommends pulls in recommended packages "
                              "you did not ask for.", ins.line, ins.column)
                break


RULE = Rule(
    code="IK304",
    name="apt-install-recommends",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="apt-get install in the final image without --no-install-recommends.",
    rationale="Recommended packages often add hundreds of MB (documentation, X11 libraries, compilers) to "
    "an image that only needs a runtime. Builder stages are not reported. `apt` and `aptitude` (whose "
    "option is --without-recommends or -R) are judged like `apt-get` (hadolint's DL3015 reads apt-get only).",
    fix="Add --no-install-recommends and list what you really need.",
    check=check,
    example_bad="FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    example_good="FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl "
    "&& rm -rf /var/lib/apt/lists/*\n",
)
