"""IK505: the image's ENTRYPOINT is a shell running a command string (Dockerfile shell form)."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES, SHELLS, ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    entrypoint = ctx.image.config.get("Entrypoint") or []
    if len(entrypoint) >= 2 and entrypoint[0].rsplit("/", 1)[-1] in SHELLS and entrypoint[1] == "-c":
        yield Problem(f"ENTRYPOINT is {entrypoint!r}: the shell ignores the `train`/`serve` argument SageMaker "
                      "appends (it becomes $0) and does not forward SIGTERM to the program.")


RULE = Rule(
    code="IK505",
    name="shell-form-entrypoint",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="ENTRYPOINT is `/bin/sh -c '...'` (shell form), which drops `train`/`serve` and SIGTERM.",
    rationale="With a shell-form ENTRYPOINT, `docker run IMAGE train` passes `train` to `sh -c` as $0, where the "
    "command string never sees it; and the shell, not the program, is PID 1, so SIGTERM at job stop or endpoint "
    "update does not reach the program.",
    fix="Use exec form: ENTRYPOINT [\"/usr/local/bin/entrypoint\"], a program that dispatches on its argument.",
    check=check,
)
