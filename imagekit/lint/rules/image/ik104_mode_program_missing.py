"""IK104 (formerly IK501), the image implementation: the program `docker run IMAGE train|serve` starts does not
exist or cannot be executed, judged on the built image's files, PATH and user.

Name, docs and the Dockerfile examples are the Dockerfile rule's; a built image leaves nothing to guess, so here the
finding is an error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.image.fs import DIR, FILE
from imagekit.lint.core import Problem, Severity
from imagekit.lint.rules.dockerfile import ik104_mode_program_missing as dockerfile_rule
from imagekit.lint.rules.dockerfile.ik102_init_entrypoint import init_runs_the_mode
from imagekit.lint.rules.image._common import ImageContext, is_executable_by


def check(ctx: ImageContext) -> Iterator[Problem]:
    image, reported = ctx.image, set()
    if image.user_ids() is None:
        yield Problem(f"The image runs as user {image.user()!r}, which its /etc/passwd does not list: `docker run` "
                      "fails with `unable to find user` before any program starts.", path="/etc/passwd",
                      fix="Create the user in the Dockerfile (useradd) before USER, or use a numeric UID.")
    for mode in ctx.modes:
        argv = ctx.argv(mode)
        # an init ENTRYPOINT with nothing after it (tini --) starts the mode itself, from PATH
        started = [argv[0], mode] if init_runs_the_mode(argv[:-1]) else [argv[0]]
        for program in started:
            if program not in reported:
                problem = _not_runnable(ctx, mode, program, argv[0])
                if problem:
                    reported.add(program)
                    yield problem


def _not_runnable(ctx: ImageContext, mode: str, program: str, first: str) -> Problem | None:
    """Why *program* (started by `docker run IMAGE mode`, whose first word is *first*) cannot run, if it cannot."""
    image = ctx.image
    path, entry, why = image.which(program, ctx.workdir)
    if entry is None:
        runs = repr(program) if program == first else f"{first}, which starts {program!r}"
        return Problem(f"`docker run IMAGE {mode}` runs {runs}, which does not resolve in the image: {why}.", path=path)
    if entry.kind != FILE:
        kind = "a directory, not a program" if entry.kind == DIR else "not a regular file"
        return Problem(f"`docker run IMAGE {mode}` runs {path}, which is {kind}.", path=path)
    if not is_executable_by(entry, image):
        return Problem(f"`docker run IMAGE {mode}` runs {path}, which is mode {entry.mode & 0o7777:o}, not "
                       f"executable for user {image.user() or 'root'!r}.", path=path,
                       fix=f"chmod +x it in the Dockerfile (COPY --chmod=0755 or RUN chmod 0755 {path}).")
    return None

RULE = replace(dockerfile_rule.RULE, target="image", check=check, severity=Severity.ERROR,
               example_bad=ImageExample(config={"Entrypoint": ["/opt/program/serve"]}),
               example_good=ImageExample(config={"Entrypoint": ["/usr/local/bin/serve"]}))
