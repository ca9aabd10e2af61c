"""IK102: an init such as tini is the whole ENTRYPOINT, with no program after it, and `train`/`serve` is not on
PATH for it to start."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext, argv
from imagekit.lint.rules.dockerfile.ik104_mode_program_missing import modes_not_on_path

# Options of tini and dumb-init that take a value (tini -e 143, tini -p SIGKILL, dumb-init -r 15:2).
_VALUE_OPTIONS = frozenset({"-e", "-p", "-r", "--rewrite"})


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or not final.entrypoint:
        return
    ins = final.entrypoint
    words = argv(ins)
    if not init_runs_the_mode(words):
        return
    missing = modes_not_on_path(ctx)
    if missing:
        init, names = words[0].rsplit("/", 1)[-1], " or ".join(f"`{mode}`" for mode in missing)
        yield Problem(f"ENTRYPOINT is {init} with no program after it, so {init} starts the {names} SageMaker "
                      f"appends, looked up on PATH, and nothing in this Dockerfile puts {names} on PATH.",
                      ins.line, ins.column)


def init_runs_the_mode(argv: list[str]) -> bool:
    """The ENTRYPOINT *argv* is an init (tini, dumb-init) with no program after its own options (and ``--``), so the
    `train`/`serve` SageMaker appends is the program it starts, from PATH."""
    if not argv or argv[0].rsplit("/", 1)[-1] not in contract.ARGUMENT_EATING_INITS:
        return False
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        i += 2 if argv[i] in _VALUE_OPTIONS else 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    return i >= len(argv)


RULE = Rule(
    code="IK102",
    name="init-as-entrypoint",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="The ENTRYPOINT is only an init (tini, dumb-init), and the `train`/`serve` it starts is not on PATH.",
    rationale="SageMaker appends `train` or `serve` to the ENTRYPOINT. When the ENTRYPOINT is only an init "
    "(`[\"tini\", \"--\"]`, `[\"dumb-init\"]`), the init takes that word as the program to start and looks it up "
    "on PATH: `tini -- train` runs `train` from PATH, which works exactly like no ENTRYPOINT when `train`/`serve` "
    "is there (imagekit's image lint and smoke agree), and fails with `exec: \"train\": not found` when it is "
    "not. So the rule reports an init ENTRYPOINT only when nothing in the Dockerfile puts the program on PATH "
    "(IK104's check, which stays quiet when an unknown base or an opaque install may provide it). An init "
    "followed by your program (`[\"dumb-init\", \"--\", \"/usr/local/bin/entry\"]`) passes the word on to it "
    "and is not reported.",
    fix="Put `train`/`serve` on PATH (COPY them into /usr/local/bin, or ENV PATH=\"/opt/program:${PATH}\"), or "
    "put your program after the init: ENTRYPOINT [\"tini\", \"--\", \"/usr/local/bin/entry\"].",
    check=check,
    example_bad='FROM python:3.11-slim\nRUN apt-get install -y --no-install-recommends tini\n'
    'ENTRYPOINT ["tini", "--"]\n',
    example_good='FROM python:3.11-slim\nRUN apt-get install -y --no-install-recommends tini\n'
    'COPY --chmod=755 train /usr/local/bin/train\nENTRYPOINT ["tini", "--"]\n',
)
