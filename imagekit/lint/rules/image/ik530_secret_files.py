"""IK530: credential files left in the image's layers."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, listing

SECRET_PATH = re.compile(r"(^|/)(\.aws/credentials|\.ssh/id_(rsa|dsa|ecdsa|ed25519)|\.netrc|\.env|\.git-credentials|"
                         r"\.docker/config\.json|\.cache/huggingface/token|\.huggingface/token|\.pypirc)$")
PRIVATE_KEY = b"PRIVATE KEY-----"


def check(ctx) -> Iterator[Problem]:
    found = [(path, entry.size) for path, entry in ctx.image.walk() if entry.kind == "file"
             and (SECRET_PATH.search(path) or PRIVATE_KEY in entry.head)]
    if found:
        yield Problem(f"Credential files in the image: {listing(found)}.", path=found[0][0])


RULE = Rule(
    code="IK530",
    name="secret-file-in-image",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="image",
    summary="The image contains credential files: AWS credentials, SSH or PEM private keys, .env, .netrc, HF tokens.",
    rationale="Every layer is readable by anyone who can pull the image; a file deleted in a later layer is "
    "still in the earlier one.",
    fix="Keep them out of the build context (.dockerignore) and use RUN --mount=type=secret at build time; "
    "rotate what leaked.",
    check=check,
)
