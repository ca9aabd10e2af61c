"""IK309: a download piped straight into a shell or interpreter."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, runs

_INTERPRETERS = re.compile(r"^(sh|bash|zsh|dash|ash|ksh|python[\d.]*|perl|ruby|node)$")


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.stages):
        for first, second in zip(cmds, cmds[1:], strict=False):
            if first.piped and first.program in ("curl", "wget") and _INTERPRETERS.match(second.program):
                yield Problem(f"{first.program} output is piped into {second.program}: whatever the server sends "
                              "runs as root, unverified.", ins.line, ins.column)
                break


RULE = Rule(
    code="IK309",
    name="curl-pipe-shell",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="`curl ... | sh` (or wget/python/bash) runs a download without pinning or verifying it.",
    rationale="The installer can change between builds or be replaced in transit; nothing records which "
    "version ran. Conda/uv/rustup installers are common culprits in ML images.",
    fix="Download a pinned version to a file, verify its checksum (sha256sum -c), then run it.",
    check=check,
    example_bad="FROM debian:12\nRUN curl -fsSL https://example.com/install.sh | sh\n",
    example_good="FROM debian:12\nRUN curl -fsSLo /tmp/i.sh https://example.com/v1.2/install.sh "
    "&& echo '0123abcd  /tmp/i.sh' | sha256sum -c && sh /tmp/i.sh\n",
)
