"""IK109 (formerly IK520), the image implementation: the config's User is not root, whether the Dockerfile or
its base image set it.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik109_non_root_user as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    user, ids = ctx.image.user(), ctx.image.user_ids()
    if not contract.is_root_user(user) and not (ids and ids[0] == 0):  # root by name, or a name with uid 0
        yield Problem(f"The image runs as user {user!r}; SageMaker mounts {contract.ML_ROOT} owned by root and "
                      "expects the container to write there as root.")


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(config={"User": "1000"}),
               example_good=ImageExample(config={"User": "root:0"}))
