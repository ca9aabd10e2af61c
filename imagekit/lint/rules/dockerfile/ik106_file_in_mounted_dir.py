"""IK106: files baked into a directory SageMaker mounts over at run time (the Dockerfile implementation reads
COPY/ADD destinations; rules/image/ik106_file_in_mounted_dir.py reads the built image's files)."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    SAGEMAKER_PROFILES,
    DockerfileContext,
    copy_destination,
    own_instructions,
)

_MOUNTS = ", ".join(str(d) for d in contract.MOUNTED_DIRS)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in own_instructions(ctx.dockerfile.final_image_stages(), "COPY", "ADD"):
        dest = copy_destination(ins)
        if dest and contract.is_under_mounted_dir(dest):
            yield Problem(f"{ins.keyword} writes to {dest}, which SageMaker mounts over at run time: the files "
                          "will not be there when the job or endpoint starts.", ins.line, ins.column)


RULE = Rule(
    code="IK106",
    name="file-in-mounted-dir",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary=f"Files put (by COPY/ADD, or found in the image) in a {contract.ML_ROOT} directory that SageMaker "
    "mounts at run time.",
    rationale=f"SageMaker mounts {_MOUNTS} when a job or endpoint starts, hiding whatever the image put there. "
    "A model or config baked into those paths works in `docker run` and vanishes in production. A Dockerfile is "
    "checked for COPY/ADD there; a built image for any file there, whether COPY, RUN or the base image left it.",
    fix=f"Put files elsewhere (e.g. /opt/program, or {contract.CODE_DIR} for toolkit code) and read the mounts at "
    "run time.",
    check=check,
    example_bad=f"FROM python:3.11-slim\nCOPY model.pt {contract.MODEL_DIR}/model.pt\n",
    example_good="FROM python:3.11-slim\nCOPY model.pt /opt/program/model.pt\n",
)
