"""IK204: COPY --from names no earlier stage."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.dockerfile.expand import Expander
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext

_IMAGE_LIKE = re.compile(r"[/:.@]")


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    df = ctx.dockerfile
    for stage in df.stages:
        for ins in stage.instructions:
            source = ins.flag("from") if ins.keyword in ("COPY", "ADD") else None
            if not source:
                continue
            ref = Expander(ins.variables, df.escape).expand(source).strip("\"'")
            target = df.stage_by_ref(ref)
            if target is not None and target.index >= stage.index:
                yield Problem(f"--from={ref} refers to {'this' if target is stage else 'a later'} stage; only "
                              "earlier stages can be copied from.", ins.line, ins.column)
            elif target is None and ref and not _IMAGE_LIKE.search(ref) and "$" not in source:
                yield Problem(f"--from={ref} names no stage of this file, so BuildKit will try to pull an image "
                              f"called {ref!r}.", ins.line, ins.column)


RULE = Rule(
    code="IK204",
    name="copy-from-unknown-stage",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="`COPY --from` names a stage that does not exist (yet).",
    rationale="A typo in a stage name does not fail as a typo: BuildKit treats the unknown name as an image to "
    "pull and fails with a confusing registry error, or worse, pulls an unrelated public image. Stage names are "
    "case-insensitive, as in BuildKit (`AS Build` is `--from=build`; hadolint's DL3022 compares them exactly), "
    "and a stage that copies from itself or a later stage, by name or index, is reported too.",
    fix="Use the name of an earlier `FROM ... AS name`, or a full image reference with a tag.",
    check=check,
    example_bad="FROM python:3.11-slim AS build\nFROM python:3.11-slim\nCOPY --from=biuld /app /app\n",
    example_good="FROM python:3.11-slim AS build\nFROM python:3.11-slim\nCOPY --from=build /app /app\n",
)
