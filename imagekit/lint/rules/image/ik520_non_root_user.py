"""IK520: the image runs as a non-root user under a SageMaker profile."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES


def check(ctx) -> Iterator[Problem]:
    user = ctx.image.user()
    if not contract.is_root_user(user):
        yield Problem(f"The image runs as user {user!r}; SageMaker mounts {contract.ML_ROOT} owned by root and "
                      "expects the "
                      "container to write there as root.")


RULE = Rule(
    code="IK520",
    name="non-root-user",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="The image config's User is not root, which SageMaker training and hosting expect.",
    rationale=f"{contract.MODEL_DIR}, {contract.OUTPUT_DIR} and {contract.CHECKPOINTS_DIR} are mounted root-owned; "
    "a non-root process cannot write the model or the failure file, and the job fails late.",
    fix="Remove the final USER instruction, or make sure the user can write every "
    f"{contract.ML_ROOT} directory it needs.",
    check=check,
)
