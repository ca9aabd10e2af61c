"""IK105 (formerly IK510), the image implementation: the training entry-point variable names a script that is not a
readable file in the image's code directory.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
A warning, not an error: code uploaded at run time through the submit-directory hyperparameter makes it harmless.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import EXAMPLE_PATH, ImageExample, under
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik105_program_without_code as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    program = ctx.image.env().get(contract.ENV_PROGRAM)
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


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(config={"Env": [EXAMPLE_PATH, "SAGEMAKER_PROGRAM=train.py"]}),
               example_good=ImageExample(config={"Env": [EXAMPLE_PATH, "SAGEMAKER_PROGRAM=train.py"]},
                                files={under(contract.CODE_DIR, "train.py"): "print(1)\n"}))
