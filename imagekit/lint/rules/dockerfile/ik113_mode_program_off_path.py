"""IK113: `train`/`serve` is put in the image, but in a directory that is not on PATH."""

from __future__ import annotations

import posixpath
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    SAGEMAKER_PROFILES,
    DockerfileContext,
    base_may_differ,
    commands,
    copy_destination,
    copy_paths,
    path_directories,
)

_PLACERS = ("ln", "cp", "mv", "install")  # commands that can put a program into a PATH directory


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or final.entrypoint is not None or base_may_differ(final):
        return  # an ENTRYPOINT receives the mode as an argument; an unknown or managed base may set its own PATH
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
    code="IK113",
    name="mode-program-off-path",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="`train`/`serve` is copied into a directory that is not on PATH, and there is no ENTRYPOINT.",
    rationale="Without an ENTRYPOINT SageMaker runs `docker run IMAGE train` (or serve), which looks the name "
    "up on PATH only. The classic BYOC layout copies the programs to /opt/program; without "
    "`ENV PATH=/opt/program:$PATH` (on its own line, see IK219) the job fails at once. IK104 reports when "
    "nothing provides the program at all.",
    fix="Add ENV PATH=\"/opt/program:${PATH}\" (the directory you copy to), or copy the program into "
    "/usr/local/bin, or set an exec-form ENTRYPOINT.",
    check=check,
    example_bad="# imagekit profile=train\nFROM python:3.11-slim\nCOPY --chmod=755 train /opt/program/train\n",
    example_good="# imagekit profile=train\nFROM python:3.11-slim\nENV PATH=\"/opt/program:${PATH}\"\n"
    "COPY --chmod=755 train /opt/program/train\n",
)
