"""IK526: which platform of a multi-platform image the findings are about."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    if ctx.image.platform_note:
        yield Problem(f"The image holds several platforms; {ctx.image.platform_note}.")


RULE = Rule(
    code="IK526",
    name="platform-picked",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="image",
    summary="The image is a multi-platform index; says which platform was checked.",
    rationale="Every other finding is about that one platform; the others may differ.",
    fix="Check each platform with --platform OS/ARCH.",
    check=check,
)
