"""IK104 (formerly IK501), the image implementation: the program `docker run IMAGE train|serve` starts does not
exist or cannot be executed, judged on the built image's files, PATH and user.

Name, docs and the Dockerfile examples are the Dockerfile rule's; a built image leaves nothing to guess, so here the
finding is an error.
"""

from __future__ import annotations

import posixpath
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
    relative = _relative_path_entry(ctx, program)
    if relative:
        return Problem(f"`docker run IMAGE {mode}` finds {program!r} only through the relative PATH entry "
                       f"{relative!r}, and the container runtime refuses that (`cannot run executable found "
                       "relative to current directory`).", path=path,
                       fix="Put an absolute directory on PATH instead: "
                       f"ENV PATH=\"{posixpath.dirname(path)}:${{PATH}}\".")
    return None


def _relative_path_entry(ctx: ImageContext, program: str) -> str | None:
    """The PATH entry a bare *program* name is found through, when it is relative (`.`, `bin`): Go's exec.LookPath
    in the runtime refuses such a match (ErrDot), whatever a shell would do."""
    if "/" in program:
        return None
    for directory in ctx.image.search_path():
        found = ctx.image.resolve(posixpath.join(directory, program), ctx.workdir)[1]
        if found is not None and found.kind == FILE:
            return None if directory.startswith("/") else directory
    return None

RULE = replace(dockerfile_rule.RULE, target="image", check=check, severity=Severity.ERROR,
               example_bad=ImageExample(config={"Entrypoint": ["/opt/program/serve"]}),
               example_good=ImageExample(config={"Entrypoint": ["/usr/local/bin/serve"]}))
