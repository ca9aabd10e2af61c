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
from imagekit.lint.rules.image._common import ImageContext, is_executable_by


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


RULE = replace(dockerfile_rule.RULE, target="image", check=check, severity=Severity.ERROR,
               example_bad=ImageExample(config={"Entrypoint": ["/opt/program/serve"]}),
               example_good=ImageExample(config={"Entrypoint": ["/usr/local/bin/serve"]}))
