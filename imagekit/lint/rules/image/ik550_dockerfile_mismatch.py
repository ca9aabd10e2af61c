"""IK550: the image does not match the Dockerfile it was given with (--dockerfile)."""

from __future__ import annotations

import json
import posixpath
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext


def _argv(instruction) -> list[str] | None:
    if instruction is None:
        return None
    return instruction.exec_form if instruction.exec_form is not None else [*instruction.shell, instruction.expanded
                                                                           or instruction.text]


def check(ctx: ImageContext) -> Iterator[Problem]:
    df = ctx.dockerfile
    stage = df.final_stage if df is not None else None
    if stage is None:
        return
    config = ctx.image.config
    for label, instruction, actual in (("ENTRYPOINT", stage.entrypoint, config.get("Entrypoint")),
                                       ("CMD", stage.cmd, config.get("Cmd"))):
        expected = _argv(instruction)
        if expected is not None and expected != (actual or []):
            has = json.dumps(actual) if actual else f"no {label}"
            yield Problem(f"{df.path}:{instruction.line}: {label} {json.dumps(expected)} but the image has {has}; the "
                          "image was built from another version of the file.", line=None)
    if stage.user is not None and not (contract.is_root_user(stage.user) and contract.is_root_user(ctx.image.user())) \
            and stage.user != ctx.image.user():
        yield Problem(f"{df.path}: USER {stage.user} but the image runs as "
                      f"{ctx.image.user() or 'root (no USER)'}.")
    for candidate in df.final_image_stages():
        for instruction in candidate.instructions:
            if instruction.keyword not in ("COPY", "ADD") or not instruction.exec_form and not instruction.expanded:
                continue
            words = instruction.exec_form or instruction.expanded.split()
            if len(words) < 2:
                continue
            target = posixpath.join(instruction.workdir or ctx.workdir, words[-1])
            if ctx.image.resolve(target)[1] is None:
                yield Problem(f"{df.path}:{instruction.line}: {instruction.keyword} writes to {target}, which does "
                              "not exist in the image.", path=target)


RULE = Rule(
    code="IK550",
    name="dockerfile-mismatch",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="image",
    summary="With --dockerfile: the image's ENTRYPOINT, CMD or USER differ from the final stage's, or a COPY "
    "destination is missing.",
    rationale="CI that lints a Dockerfile but ships an image built from another revision (or a stage target that "
    "is not the last) gates the wrong thing.",
    fix="Rebuild the image from this Dockerfile, or pass the Dockerfile it was built from.",
    check=check,
)
