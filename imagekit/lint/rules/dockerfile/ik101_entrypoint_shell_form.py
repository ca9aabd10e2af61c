"""IK101: the final ENTRYPOINT is in shell form (or an exec-form `sh -c` that drops its arguments)."""

from __future__ import annotations

import json
from typing import Iterator

from imagekit import contract
from imagekit.dockerfile.shell import shell_c_drops_arguments, shell_c_stays_pid1
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext, argv


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or not final.entrypoint:
        return
    ins = final.entrypoint
    if not ins.is_exec_form:
        yield Problem(f"ENTRYPOINT {ins.text} is in shell form: /bin/sh -c drops the `train`/`serve` argument "
                      "SageMaker passes and keeps SIGTERM from reaching your program.", ins.line, ins.column,
                      fix=f"Use the exec form: ENTRYPOINT {json.dumps(argv(ins))}")
    elif shell_c_drops_arguments(ins.exec_form):
        yield Problem(f"ENTRYPOINT {ins.text} runs a shell whose -c script never uses the `train`/`serve` "
                      "argument SageMaker appends: sh -c makes the first word after the script $0.",
                      ins.line, ins.column,
                      fix='Make the program the ENTRYPOINT, or pass the arguments on: ENTRYPOINT ["/bin/sh", "-c", '
                      '"exec /usr/local/bin/entry \\"$@\\"", "--"].')
    elif shell_c_stays_pid1(ins.exec_form):
        yield Problem(f"ENTRYPOINT {ins.text} runs a shell whose -c script does not `exec` its last command: the "
                      "shell stays PID 1 and SIGTERM never reaches the program.", ins.line, ins.column,
                      fix="Start the last command with exec, e.g. \"cd /app && exec python serve.py \\\"$@\\\"\".")


RULE = Rule(
    code="IK101",
    name="entrypoint-shell-form",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="The final ENTRYPOINT uses shell form (or runs `sh -c` in exec form), which drops `train`/`serve`.",
    rationale="SageMaker starts the container as `docker run IMAGE train` (or `serve`). With a shell-form "
    "ENTRYPOINT Docker runs `/bin/sh -c '<your text>'` and the extra argument is lost; /bin/sh also becomes "
    f"PID 1 and does not forward SIGTERM, so the {contract.TRAIN_STOP_GRACE_S:g} s (training) or "
    f"{contract.SERVE_STOP_GRACE_S:g} s (serving) stop window ends in SIGKILL. The exec form "
    "`[\"/bin/sh\", \"-c\", \"python -m app\"]` loses the argument the same way (it becomes $0); a script that "
    "uses `\"$@\"`, is followed by one more word (`..., \"--\"]`, which becomes $0) and `exec`s its last "
    "command passes it on and gives the program PID 1. A built image stores a shell-form ENTRYPOINT as "
    "`[\"/bin/sh\", \"-c\", \"...\"]`, so `lint --image` reports the same check from the image config.",
    fix='Write ENTRYPOINT as a JSON array, e.g. ENTRYPOINT ["python", "-m", "app"].',
    check=check,
    example_bad="FROM python:3.11-slim\nENTRYPOINT python -m app\n",
    example_good='FROM python:3.11-slim\nENTRYPOINT ["python", "-m", "app"]\n',
)
