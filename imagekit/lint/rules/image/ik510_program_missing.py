"""IK510: SAGEMAKER_PROGRAM names a script that is not in the image's code directory."""

from __future__ import annotations

import posixpath
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    env = ctx.image.env()
    program = env.get(contract.ENV_PROGRAM)
    if not program:
        return
    submit = env.get(contract.ENV_SUBMIT_DIRECTORY, "")
    code_dir = submit if submit.startswith("/") else str(contract.CODE_DIR)
    path, entry, why = ctx.image.resolve(posixpath.join(code_dir, program))
    if entry is None or entry.kind != "file":
        yield Problem(f"{contract.ENV_PROGRAM}={program} but {path} is not a file in the image"
                      f" ({why or 'not a regular file'}); the training toolkit will fail to start it.", path=path)
    elif not entry.mode & 0o444:
        yield Problem(f"{path} ({contract.ENV_PROGRAM}) is not readable.", path=path)


RULE = Rule(
    code="IK510",
    name="sagemaker-program-missing",
    severity=Severity.ERROR,
    profiles=(contract.TRAIN_COMMAND,),
    target="image",
    summary="SAGEMAKER_PROGRAM names a script that is not a readable file in /opt/ml/code (or the submit directory).",
    rationale="The training toolkit runs SAGEMAKER_PROGRAM from /opt/ml/code unless a submit directory is given. "
    "When the script is not baked in (and no source_dir is uploaded), the job fails at start.",
    fix="COPY the script into /opt/ml/code, or fix the SAGEMAKER_PROGRAM value.",
    check=check,
)
