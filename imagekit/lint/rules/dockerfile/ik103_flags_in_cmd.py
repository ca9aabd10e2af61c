"""IK103: required flags live in CMD, which SageMaker replaces."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext, argv


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or not final.cmd:
        return
    ins = final.cmd
    words = argv(ins)
    # Flags given to the ENTRYPOINT through CMD, or to a `train`/`serve` program named in CMD. A CMD that is
    # a whole other command (DLCs: ENTRYPOINT dispatches `serve`, CMD serves outside SageMaker) is deliberate.
    feeds_entrypoint = final.entrypoint is not None and bool(words) and words[0].startswith("-")
    names_mode = final.entrypoint is None and bool(words) and words[0].rsplit("/", 1)[-1] in contract.MODES
    flags = [w for w in words if w.startswith("-") and len(w) > 1]
    if flags and (feeds_entrypoint or names_mode):
        yield Problem(f"CMD passes {' '.join(flags)}, but SageMaker replaces CMD with `train`/`serve`, so these "
                      "flags never reach the program.", ins.line, ins.column)


RULE = Rule(
    code="IK103",
    name="flags-in-cmd",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="CMD carries flags, but SageMaker always replaces CMD with `train` or `serve`.",
    rationale="`docker run IMAGE train` overrides any default CMD. Flags a program needs only in CMD work "
    "in `docker run IMAGE` locally and silently disappear on SageMaker.",
    fix="Put required flags in the ENTRYPOINT (exec form), in ENV, or make them the program's defaults.",
    check=check,
    example_bad='FROM python:3.11-slim\nENTRYPOINT ["python", "-m", "app"]\nCMD ["--workers", "4"]\n',
    example_good='FROM python:3.11-slim\nENV APP_WORKERS=4\nENTRYPOINT ["python", "-m", "app"]\n',
)
