"""IK104: nothing provides the `train`/`serve` program SageMaker runs."""

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
    missing = [mode for mode in ctx.modes if not _provides(final.all_instructions(), mode, path_directories(final))]
    if len(ctx.modes) == 2 and len(missing) == 1:
        return  # train and serve were both possible: one of them is enough
    if missing:
        names = " or ".join(f"`{mode}`" for mode in missing)
        yield Problem(f"Nothing in this Dockerfile provides {names}: there is no ENTRYPOINT, so SageMaker runs "
                      f"{names} from PATH, and no instruction adds a file of that name (the base image "
                      f"{final.external_base or 'scratch'} is not checked).", final.line, 1)


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


RULE = Rule(
    code="IK104",
    name="mode-program-missing",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="No ENTRYPOINT and no instruction provides an executable named `train`/`serve` on PATH.",
    rationale="Without an ENTRYPOINT, `docker run IMAGE train` executes a program called `train` found on "
    "PATH (likewise `serve`). If nothing installs one the job fails at once with `executable file not found`. "
    "The rule cannot look inside the base image, so it stays quiet for SageMaker-managed bases and reports on "
    "the final FROM line, where an ignore pragma can accept the base's program.",
    fix="Add an exec-form ENTRYPOINT, or COPY an executable `train`/`serve` into a directory on PATH.",
    check=check,
    example_bad='# imagekit profile=serve\nFROM python:3.11-slim\nCOPY app.py /opt/app/\n'
    'CMD ["python", "/opt/app/app.py"]\n',
    example_good='# imagekit profile=serve\nFROM python:3.11-slim\nCOPY --chmod=755 serve /usr/local/bin/serve\n',
)
