"""IK204: COPY --from or RUN --mount from= names something BuildKit refuses, or a stage misspelt."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from imagekit.dockerfile.expand import Expander
from imagekit.dockerfile.model import Dockerfile, Stage
from imagekit.errors import ImagekitError
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, mounts
from imagekit.references import parse_reference

_IMAGE_LIKE = re.compile(r"[/:.@]")


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    df = ctx.dockerfile
    for stage in df.stages:
        for ins in stage.instructions:
            for source in _sources(ins):
                if not (ref := _expand(df, ins, source)) or "$" in ref:
                    continue
                problem = _refused(df, stage, ref, mount=ins.keyword == "RUN")
                if problem:
                    yield Problem(problem, ins.line, ins.column)


def _sources(ins) -> list[str]:
    """What an instruction reads another stage or image from: `COPY/ADD --from=`, `RUN --mount=...,from=`."""
    if ins.keyword in ("COPY", "ADD"):
        return [source] if (source := ins.flag("from")) else []
    if ins.keyword == "RUN":
        return [mount["from"] for mount in mounts(ins) if mount.get("from")]
    return []


def _expand(df: Dockerfile, ins, source: str) -> str:
    return Expander(ins.variables, df.escape).expand(source).strip("\"'")


def _refused(df: Dockerfile, stage: Stage, ref: str, *, mount: bool = False) -> str | None:
    """Why BuildKit refuses `--from=ref` (a `--mount` `from=ref` when *mount*) in *stage* (or builds it from a
    misspelt stage's namesake image)."""
    target = df.stage_by_ref(ref)
    if target is not None:
        verb = "mounts" if mount else "copies"
        if target is stage or stage.index in _needs(df, target):
            which = "this stage" if target is stage else f"stage {_label(target)}, which needs this one"
            return f"--from={ref} {verb} from {which}: BuildKit refuses the build (`circular dependency detected`)."
        if target.index > stage.index:
            refusal = (f'cannot mount from stage "{ref}" to "{_label(stage)}", stage needs to be defined before '
                       "current command") if mount else \
                f'cannot copy from stage "{ref}", it needs to be defined before current stage "{_label(stage)}"'
            return (f"--from={ref} {verb} from a later stage ({_label(target)}, line {target.line}): BuildKit "
                    f"refuses the build (`{refusal}`); only an earlier stage can be used.")
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


def _label(stage: Stage) -> str:
    """A stage as BuildKit names it in its messages: its name, else its index."""
    return stage.name or str(stage.index)


def _misspelt_stage(df: Dockerfile, ref: str) -> str | None:
    """The stage name *ref* is probably a misspelling of: a close match (biuld/build), or a later part of a stage
    name (set/license-set). A stage named `<image>-<role>` (python-deps, docker-config) says nothing against
    `--from=<image>`: the official image of that name is what the file copies from."""
    ref = ref.lower()
    names = [stage.name for stage in df.stages if stage.name and _parts(stage.name)[0] != ref]
    close = difflib.get_close_matches(ref, names, n=1, cutoff=0.75)
    if close:
        return close[0]
    return next((name for name in names if ref in _parts(name)[1:]), None)


def _parts(name: str) -> list[str]:
    return re.split(r"[-_.]", name.lower())


def _needs(df: Dockerfile, stage: Stage) -> set[int]:
    """The index of every stage *stage* is built from or copies from, directly or through others."""
    needed, todo = set(), [stage]
    while todo:
        current = todo.pop()
        for ins in current.instructions:
            dependencies = [df.stage_by_ref(_expand(df, ins, source)) for source in _sources(ins)]
            for dep in (*dependencies, current.parent):
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
    summary="`--from` names a stage BuildKit refuses (itself, a later stage, a cycle, a bad index or name) or a typo.",
    rationale="BuildKit refuses a `--from` (and a `RUN --mount` `from=`) that uses its own stage or a stage "
    "that needs this one (`circular dependency detected`), a stage defined later in the file (`cannot copy from "
    "stage \"b\", it needs to be defined before current stage \"a\"`, `cannot mount from stage ...`: every "
    "BuildKit since dockerfile frontend 1.7 / Docker 26, commit 0615bb4b9; the frontend embedded in Docker 20.10 "
    "still built it), an index past the last stage (`invalid stage index`) and a name that is neither a stage nor "
    "a valid image reference (`invalid reference format`, e.g. upper case). Any other name that is not a stage is "
    "an image BuildKit pulls: `--from=alpine`, `--from=composer`, `--from=docker` are standard idioms and are not "
    "reported (an untagged image is IK201's concern). Except a name that looks like one of the file's stages "
    "(`biuld` for `build`, `set` for `license-set`): that typo does not fail as a typo, BuildKit pulls an image of "
    "that name and fails with a registry error, or worse, copies from an unrelated public image. The first part of "
    "a stage named `<image>-<role>` is not such a look-alike: with a stage `python-deps`, `--from=python` is the "
    "official image. Stage names are case-insensitive, as in BuildKit (`AS Build` is `--from=build`; hadolint's "
    "DL3022 compares them exactly).",
    fix="Use the name of an earlier `FROM ... AS name` stage (move the stage up if needed), or a full image "
    "reference with a tag.",
    check=check,
    example_bad="FROM python:3.11-slim AS build\nFROM python:3.11-slim\nCOPY --from=biuld /app /app\n",
    example_good="FROM python:3.11-slim AS build\nFROM python:3.11-slim\nCOPY --from=build /app /app\n"
    "COPY --from=composer /usr/bin/composer /usr/bin/composer\n",
)
