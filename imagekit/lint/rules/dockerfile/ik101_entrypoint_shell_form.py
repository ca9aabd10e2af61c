"""IK101: the final ENTRYPOINT is in shell form."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if final and final.entrypoint and not final.entrypoint.is_exec_form:
        ins = final.entrypoint
        yield Problem(f"ENTRYPOINT {ins.text} is in shell form: /bin/sh -c drops the `train`/`serve` argument "
                      "SageMaker passes and keeps SIGTERM from reaching your program.", ins.line, ins.column,
                      fix=f"Use the exec form: ENTRYPOINT {_exec_hint(ins.text)}")


def _exec_hint(text: str) -> str:
    import json

    return json.dumps(text.split())


RULE = Rule(
    code="IK101",
    name="entrypoint-shell-form",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="The final ENTRYPOINT uses shell form, which drops `train`/`serve` and SIGTERM.",
    rationale="SageMaker starts the container as `docker run IMAGE train` (or `serve`). With a shell-form "
    "ENTRYPOINT Docker runs `/bin/sh -c '<your text>'` and the extra argument is lost; /bin/sh also becomes "
    f"PID 1 and does not forward SIGTERM, so the {contract.TRAIN_STOP_GRACE_S:g} s (training) or "
    f"{contract.SERVE_STOP_GRACE_S:g} s (serving) stop window ends in SIGKILL.",
    fix='Write ENTRYPOINT as a JSON array, e.g. ENTRYPOINT ["python", "-m", "app"].',
    check=check,
    example_bad="FROM python:3.11-slim\nENTRYPOINT python -m app\n",
    example_good='FROM python:3.11-slim\nENTRYPOINT ["python", "-m", "app"]\n',
)
