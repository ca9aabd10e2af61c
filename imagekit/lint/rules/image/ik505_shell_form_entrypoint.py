"""IK505: the image's ENTRYPOINT is a shell running a command string (Dockerfile shell form)."""

from __future__ import annotations

import json
from typing import Iterator

from imagekit.dockerfile.shell import shell_c_drops_arguments, shell_c_stays_pid1
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES, ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    entrypoint = ctx.image.config.get("Entrypoint") or []
    shown = json.dumps(entrypoint)
    if shell_c_drops_arguments(entrypoint):
        yield Problem(f"ENTRYPOINT is {shown}: the -c script never uses the `train`/`serve` argument "
                      "SageMaker appends (sh -c makes the first word after the script $0) and the shell does not "
                      "forward SIGTERM to the program.")
    elif shell_c_stays_pid1(entrypoint):
        yield Problem(f"ENTRYPOINT is {shown}: the -c script does not `exec` its last command, so the shell stays "
                      "PID 1 and SIGTERM at job stop or endpoint update never reaches the program.")


RULE = Rule(
    code="IK505",
    name="shell-form-entrypoint",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="ENTRYPOINT is `/bin/sh -c '...'` (shell form), which drops `train`/`serve` and SIGTERM.",
    rationale="With a shell-form ENTRYPOINT, `docker run IMAGE train` passes `train` to `sh -c` as $0, where the "
    "command string never sees it; and the shell, not the program, is PID 1, so SIGTERM at job stop or endpoint "
    "update does not reach the program. A script that uses `\"$@\"`, is followed by one more word and `exec`s "
    "its program (`[\"/bin/sh\", \"-c\", \"exec prog \\\"$@\\\"\", \"--\"]`: `--` becomes $0, prog replaces "
    "the shell) does neither and is not reported.",
    fix="Use exec form: ENTRYPOINT [\"/usr/local/bin/entrypoint\"], a program that dispatches on its argument.",
    check=check,
)
