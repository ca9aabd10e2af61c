"""IK535: setuid or setgid executables the image added beyond its base."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import File, ImageExample, elf
from imagekit.image.fs import FILE
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext, listing


def check(ctx: ImageContext) -> Iterator[Problem]:
    found = sorted(("/" + path, entry.size) for path, entry in ctx.image.entries.items()
                   if entry.mode & 0o6000 and entry.kind == FILE and entry.layer > 0)
    if found:
        yield Problem(f"Layers above the base add setuid/setgid files: {listing(found)}.", path=found[0][0])


RULE = Rule(
    code="IK535",
    name="setuid-file-added",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="image",
    summary="Layers above the base image add setuid or setgid executables.",
    rationale="setuid binaries are how a process that broke out of an application becomes root; images rarely "
    "need new ones (sudo is the usual culprit).",
    fix="Do not install sudo; drop the bits with `chmod a-s` on files that do not need them.",
    check=check,
    example_bad=ImageExample(files={"usr/bin/sudo": File(elf(), mode=0o4755)}),
    example_good=ImageExample(files={"usr/local/bin/tool": File(elf(), mode=0o755)}),
)
