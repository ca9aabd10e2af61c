"""IK204: COPY --from names something BuildKit refuses, or a stage misspelt."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from imagekit.dockerfile.expand import Expander
from imagekit.dockerfile.model import Dockerfile, Stage
from imagekit.errors import ImagekitError
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext
from imagekit.references import parse_reference

_IMAGE_LIKE = re.compile(r"[/:.@]")


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    df = ctx.dockerfile
    for stage in df.stages:
        for ins in stage.instructions:
            source = ins.flag("from") if ins.keyword in ("COPY", "ADD") else None
            if not source or not (ref := _expand(df, ins, source)) or "$" in ref:
                continue
            problem = _refused(df, stage, ref)
            if problem:
                yield Problem(problem, ins.line, ins.column)


def _expand(df: Dockerfile, ins, source: str) -> str:
    return Expander(ins.variables, df.escape).expand(source).strip("\"'")


def _refused(df: Dockerfile, stage: Stage, ref: str) -> str | None:
    """Why BuildKit refuses `--from=ref` in *stage* (or builds it from a misspelt stage's namesake image)."""
    target = df.stage_by_ref(ref)
    if target is not None:
        if target is stage or stage.index in _needs(df, target):
            which = "this stage" if target is stage else f"stage {target.name or target.index}, which needs this one"
            return f"--from={ref} copies from {which}: BuildKit refuses the build (`circular dependency detected`)."
        return None
    if ref.isdigit():
        return (f"--from={ref} names no stage: this file has {len(df.stages)} (0 to {len(df.stages) - 1}), so "
                f"BuildKit refuses the build (`invalid stage index {ref}`).")
    try:
        parse_reference(ref)
    except ImagekitError:
        return (f"--from={ref} is neither a stage of this file nor a valid image reference: BuildKit refuses the "
                "build (`invalid reference format`; stage names and image names are lower case).")
    like = None if _IMAGE_LIKE.search(ref) else _misspelt_stage(df, ref)
    if like:
        return (f"--from={ref} names no stage of this file but looks like stage {like!r}: BuildKit will pull an "
                f"image called {ref!r} instead (and fail, or copy from an unrelated image).")
    return None  # an image name such as alpine or composer: BuildKit pulls it


def _misspelt_stage(df: Dockerfile, ref: str) -> str | None:
    """The stage name *ref* is probably a misspelling of: a close match (biuld/build), or a part of a stage name
    (set/license-set)."""
    names = [stage.name for stage in df.stages if stage.name]
    close = difflib.get_close_matches(ref.lower(), names, n=1, cutoff=0.75)
    if close:
        return close[0]
    return next((name for name in names if ref.lower() in re.split(r"[-_.]", name)), None)


def _needs(df: Dockerfile, stage: Stage) -> set[int]:
    """The index of every stage *stage* is built from or copies from, directly or through others."""
    needed, todo = set(), [stage]
    while todo:
        current = todo.pop()
        for ins in current.instructions:
            source = ins.flag("from") if ins.keyword in ("COPY", "ADD") else None
            dependency = df.stage_by_ref(_expand(df, ins, source)) if source else None
            for dep in (dependency, current.parent):
                if dep is not None and dep.index not in needed:
                    needed.add(dep.index)
                    todo.append(dep)
    return needed


RULE = Rule(
    code="IK204",
    name="copy-from-unknown-stage",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="`COPY --from` names a stage BuildKit refuses (itself, a cycle, a bad index or name) or misspells one.",
    rationale="BuildKit refuses a `--from` that copies from its own stage or from a stage that needs this one "
    "(`circular dependency detected`), an index past the last stage (`invalid stage index`) and a name that is "
    "neither a stage nor a valid image reference (`invalid reference format`, e.g. upper case). Any other name that "
    "is not a stage is an image BuildKit pulls: `--from=alpine`, `--from=composer`, `--from=docker` are standard "
    "idioms and are not reported (an untagged image is IK201's concern). Except a name that looks like one of the "
    "file's stages (`biuld` for `build`, `set` for `license-set`): that typo does not fail as a typo, BuildKit "
    "pulls an image of that name and fails with a registry error, or worse, copies from an unrelated public image. "
    "Stage names are case-insensitive, as in BuildKit (`AS Build` is `--from=build`; hadolint's DL3022 compares "
    "them exactly), and a later stage may be copied from, as BuildKit builds stages as a graph (hadolint's DL3022 "
    "wants an earlier one).",
    fix="Use the name of a `FROM ... AS name` stage, or a full image reference with a tag.",
    check=check,
    example_bad="FROM python:3.11-slim AS build\nFROM python:3.11-slim\nCOPY --from=biuld /app /app\n",
    example_good="FROM python:3.11-slim AS build\nFROM python:3.11-slim\nCOPY --from=build /app /app\n"
    "COPY --from=composer /usr/bin/composer /usr/bin/composer\n",
)
