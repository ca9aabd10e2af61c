"""IK501: the program `docker run IMAGE train|serve` starts does not exist or cannot be executed."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.image.fs import DIR, FILE
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES, ImageContext, is_executable_by


def check(ctx: ImageContext) -> Iterator[Problem]:
    image, reported = ctx.image, set()
    if image.user_ids() is None:
        yield Problem(f"The image runs as user {image.user()!r}, which its /etc/passwd does not list: `docker run` "
                      "fails with `unable to find user` before any program starts.", path="/etc/passwd",
                      fix="Create the user in the Dockerfile (useradd) before USER, or use a numeric UID.")
    for mode in ctx.modes:
        program = ctx.argv(mode)[0]
        if program in reported:
            continue
        path, entry, why = image.which(program, ctx.workdir)
        if entry is None:
            reported.add(program)
            yield Problem(f"`docker run IMAGE {mode}` runs {program!r}, which does not resolve in the image: {why}.",
                          path=path)
        elif entry.kind != FILE:
            reported.add(program)
            kind = "a directory, not a program" if entry.kind == DIR else "not a regular file"
            yield Problem(f"`docker run IMAGE {mode}` runs {path}, which is {kind}.", path=path)
        elif not is_executable_by(entry, image):
            reported.add(program)
            yield Problem(f"`docker run IMAGE {mode}` runs {path}, which is mode {entry.mode & 0o7777:o}, not "
                          f"executable for user {image.user() or 'root'!r}.", path=path,
                          fix=f"chmod +x it in the Dockerfile (COPY --chmod=0755 or RUN chmod 0755 {path}).")


RULE = Rule(
    code="IK501",
    name="entrypoint-not-found",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="The program SageMaker starts (ENTRYPOINT, or `train`/`serve` on PATH) is not an executable in the image.",
    rationale="SageMaker runs `docker run IMAGE train` and `docker run IMAGE serve`: Cmd is replaced, Entrypoint "
    "kept. If argv[0] is missing (a deleted layer, a typo, a COPY into the wrong directory) or not executable, "
    "the job fails after the instance was paid for, with only `exec format error` or `not found` in the logs.",
    fix="Make the ENTRYPOINT an absolute path to an executable file, or put executable `train` and `serve` "
    "programs on PATH.",
    check=check,
    example_bad=ImageExample(config={"Entrypoint": ["/opt/program/serve"]}),
    example_good=ImageExample(config={"Entrypoint": ["/usr/local/bin/serve"]}),
)
