"""IK102: an init such as tini is the whole ENTRYPOINT, with no program after it."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext, argv

# Options of tini and dumb-init that take a value (tini -e 143, tini -p SIGKILL, dumb-init -r 15:2).
_VALUE_OPTIONS = frozenset({"-e", "-p", "-r", "--rewrite"})


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or not final.entrypoint:
        return
    ins = final.entrypoint
    words = argv(ins)
    if words and words[0].rsplit("/", 1)[-1] in contract.ARGUMENT_EATING_INITS and not _program_after_init(words):
        init = words[0].rsplit("/", 1)[-1]
        yield Problem(f"ENTRYPOINT is {init} with no program after it: {init} takes the `train`/`serve` argument "
                      "SageMaker appends as the program to start.", ins.line, ins.column)


def _program_after_init(argv: list[str]) -> bool:
    """True when a program follows the init's own options (and ``--``): it receives `train`/`serve`."""
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        i += 2 if argv[i] in _VALUE_OPTIONS else 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    return i < len(argv)


RULE = Rule(
    code="IK102",
    name="init-as-entrypoint",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="The ENTRYPOINT is an init such as tini or dumb-init with no program after it, so it swallows "
    "`train`/`serve`.",
    rationale="SageMaker appends `train` or `serve` to the ENTRYPOINT. When the ENTRYPOINT is only an init "
    "(`[\"tini\", \"--\"]`, `[\"dumb-init\"]`), tini or dumb-init treats that word as the program to run instead "
    "of passing it to yours (why SageMaker's training and inference docs say not to use tini as the ENTRYPOINT). "
    "An init followed by your program (`[\"dumb-init\", \"--\", \"/usr/local/bin/entry\"]`) "
    "passes the word on and is not reported. SageMaker already delivers SIGTERM to PID 1.",
    fix="Make your program the ENTRYPOINT (exec form) and let it handle SIGTERM, or put it after the init: "
    "ENTRYPOINT [\"tini\", \"--\", \"/usr/local/bin/entry\"].",
    check=check,
    example_bad='FROM python:3.11-slim\nRUN apt-get install -y --no-install-recommends tini\n'
    'ENTRYPOINT ["tini", "--"]\n',
    example_good='FROM python:3.11-slim\nENTRYPOINT ["python", "-m", "app"]\n',
)
