"""IK104 (formerly also IK113): nothing provides the `train`/`serve` program SageMaker runs, or it is copied into a
directory that is not on PATH. The image implementation (formerly IK501) checks what the built image runs."""

from __future__ import annotations

import posixpath
import re
from typing import Iterator

from imagekit import contract
from imagekit.dockerfile.shell import Command
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    SAGEMAKER_PROFILES,
    DockerfileContext,
    base_may_differ,
    commands,
    copy_destination,
    copy_paths,
    path_directories,
    pip_install_args,
    pip_requirements,
)

# sagemaker-training and the framework toolkits built on it install a `train` console script.
_TOOLKIT_PROVIDES = {contract.TRAIN_COMMAND: re.compile(r"^sagemaker[-_]([a-z0-9]+[-_])?training\b", re.I)}


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or final.entrypoint is not None or base_may_differ(final):
        return  # an ENTRYPOINT receives the mode as its argument; unknown and managed bases may ship their own
    yield from _missing(ctx)
    yield from _off_path(ctx)


def _missing(ctx: DockerfileContext) -> Iterator[Problem]:
    """Nothing in the Dockerfile provides the program at all."""
    final = ctx.dockerfile.final_stage
    missing = [mode for mode in ctx.modes if not _provides(final.all_instructions(), mode, path_directories(final))]
    if len(ctx.modes) == 2 and len(missing) == 1:
        return  # train and serve were both possible: one of them is enough
    if missing:
        names = " or ".join(f"`{mode}`" for mode in missing)
        yield Problem(f"Nothing in this Dockerfile provides {names}: there is no ENTRYPOINT, so SageMaker runs "
                      f"{names} from PATH, and no instruction adds a file of that name (the base image "
                      f"{final.external_base or 'scratch'} is not checked).", final.line, 1)


def _off_path(ctx: DockerfileContext) -> Iterator[Problem]:
    """The program is copied in, but into a directory PATH does not list (and no RUN links it onto PATH)."""
    final = ctx.dockerfile.final_stage
    on_path = path_directories(final)
    instructions = final.all_instructions()
    for mode in ctx.modes:
        copies = [(ins, directory) for ins in instructions for directory in _copied_to(ins, mode)]
        if not copies or any(directory in on_path for _, directory in copies) \
                or _placed_on_path(instructions, mode, on_path):
            continue
        ins, directory = copies[-1]
        yield Problem(f"`{mode}` is copied to {directory}, which is not on PATH (no ENV PATH adds it), so "
                      f"`docker run IMAGE {mode}` fails with `executable file not found`.", ins.line, ins.column)


def _names(cmd: Command) -> Iterator[str]:
    """The last path component of each word, assignment value and redirection target of a RUN command: a RUN
    that writes, links, moves or chmods a file called `serve` names it somewhere there."""
    for word in (*cmd.argv, *cmd.assignments, *cmd.redirects):
        yield posixpath.basename(word.rpartition("=")[2])


def _provides(instructions: list, mode: str, path_dirs: set[str]) -> bool:
    for ins in instructions:
        if ins.keyword in ("COPY", "ADD"):
            parts = copy_paths(ins)
            dest = copy_destination(ins)
            if any(posixpath.basename(p.rstrip("/")) == mode for p in parts) or dest in path_dirs:
                return True
        elif ins.keyword == "RUN":
            toolkit = _TOOLKIT_PROVIDES.get(mode)
            for cmd in commands(ins):
                if mode in _names(cmd):
                    return True
                args = pip_install_args(cmd)
                if toolkit and args and any(toolkit.match(r) for r in pip_requirements(args)):
                    return True
    return False


_PLACERS = ("ln", "cp", "mv", "install")  # commands that can put a program into a PATH directory


def _copied_to(ins, mode: str) -> list[str]:
    """Directories a COPY/ADD puts a file named *mode* into."""
    if ins.keyword not in ("COPY", "ADD"):
        return []
    parts = copy_paths(ins)
    dest = copy_destination(ins)
    if dest is None or not any(posixpath.basename(p.rstrip("/")) == mode for p in parts[:-1]):
        return []
    return [posixpath.dirname(dest) if posixpath.basename(dest) == mode else dest]


def _placed_on_path(instructions, mode: str, on_path: set[str]) -> bool:
    """A RUN links, copies or moves the program into a PATH directory (ln -s /opt/program/serve /usr/bin/)."""
    for ins in instructions:
        for cmd in commands(ins):
            if cmd.program in _PLACERS and len(cmd.argv) > 2:
                target = cmd.argv[-1].rstrip("/") or "/"
                if target in on_path or (posixpath.basename(target) == mode
                                         and posixpath.dirname(target) in on_path):
                    return True
    return False


RULE = Rule(
    code="IK104",
    name="mode-program-missing",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="The program SageMaker starts (`train`/`serve` on PATH, or the ENTRYPOINT) is missing or not executable.",
    rationale="SageMaker runs `docker run IMAGE train` and `docker run IMAGE serve`: CMD is replaced, ENTRYPOINT "
    "kept. Without an ENTRYPOINT the name is looked up on PATH only. If the program is missing, not executable, "
    "or copied where PATH does not look (the classic BYOC /opt/program without `ENV PATH=/opt/program:$PATH` on "
    "its own line, see IK219), the job fails at once with `executable file not found` or `exec format error`, "
    "after the instance was paid for. A Dockerfile is checked when it has no ENTRYPOINT: something must add a "
    "file of that name, into a directory on PATH (the base image is not read, so SageMaker-managed and unknown "
    "bases are trusted; the finding is on the final FROM line, where an ignore pragma can accept the base's "
    "program). A built image is checked for what actually runs: the ENTRYPOINT's program, or `train`/`serve` on "
    "the image's PATH, resolved through symlinks and layers, a regular file executable by the image's user "
    "(who must exist in /etc/passwd); there it is an error, since nothing is left to guess.",
    fix="Add an exec-form ENTRYPOINT, or COPY an executable `train`/`serve` into a directory on PATH (or add "
    "that directory to PATH: ENV PATH=\"/opt/program:${PATH}\").",
    check=check,
    example_bad='# imagekit profile=serve\nFROM python:3.11-slim\nCOPY app.py /opt/app/\n'
    'CMD ["python", "/opt/app/app.py"]\n',
    example_good='# imagekit profile=serve\nFROM python:3.11-slim\nCOPY --chmod=755 serve /usr/local/bin/serve\n',
)
