"""IK218: the final ENTRYPOINT/CMD of a generic image is in shell form."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final:
        return
    for ins in (final.entrypoint, final.cmd):
        if ins is not None and ins.exec_form is None and ins.stage == final.index:
            yield Problem(f"{ins.keyword} in shell form runs under /bin/sh -c, which does not pass SIGTERM on to "
                          "the program.", ins.line, ins.column)


RULE = Rule(
    code="IK218",
    name="shell-form-command",
    severity=Severity.INFO,
    profiles=("generic",),
    target="dockerfile",
    summary="ENTRYPOINT or CMD in shell form (generic images; IK101 covers SageMaker images).",
    rationale="In shell form /bin/sh is PID 1 and ignores SIGTERM, so `docker stop` waits its full timeout "
    "and then kills the program without a chance to clean up (BuildKit's JSONArgsRecommended). Only the final "
    "stage's ENTRYPOINT and CMD are judged (hadolint's DL3025 judges every stage): a builder's never runs.",
    fix='Use the JSON form: CMD ["python", "app.py"], or prefix the shell form with `exec`.',
    check=check,
    example_bad="FROM python:3.11-slim\nCMD python app.py\n",
    example_good='FROM python:3.11-slim\nCMD ["python", "app.py"]\n',
)
