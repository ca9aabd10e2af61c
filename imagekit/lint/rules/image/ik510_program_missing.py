"""IK510: the training entry-point variable names a script that is not in the image's code directory."""

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
    # An ENV of the submit-directory variable does not move the code: the training toolkit overwrites it from the
    # submit-directory hyperparameter (reference §2.1 #3), so only the code directory counts.
    path, entry, why = ctx.image.resolve(posixpath.join(str(contract.CODE_DIR), program))
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
    summary=f"{contract.ENV_PROGRAM} names a script that is not a readable file in {contract.CODE_DIR}.",
    rationale=f"The training toolkit runs {contract.ENV_PROGRAM} from {contract.CODE_DIR}. When the script is not "
    f"baked in (and no source_dir is uploaded through the `{contract.HP_SUBMIT_DIRECTORY}` hyperparameter), the job "
    f"fails at start. An ENV {contract.ENV_SUBMIT_DIRECTORY} in the image changes nothing: the toolkit overwrites "
    "it from that hyperparameter.",
    fix=f"COPY the script into {contract.CODE_DIR}, or fix the {contract.ENV_PROGRAM} value.",
    check=check,
)
