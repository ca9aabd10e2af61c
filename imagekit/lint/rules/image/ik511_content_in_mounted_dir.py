"""IK511: files baked into a directory that SageMaker mounts over at run time."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES, files_under, human, listing

# Written like /opt/ml/{input,model,...} when every mount sits directly under the ML root, as they do today.
_MOUNTS = (f"{contract.ML_ROOT}/{{{','.join(d.name for d in contract.MOUNTED_DIRS)}}}"
           if all(d.parent == contract.ML_ROOT for d in contract.MOUNTED_DIRS)
           else ", ".join(str(d) for d in contract.MOUNTED_DIRS))


def check(ctx) -> Iterator[Problem]:
    for mounted in contract.MOUNTED_DIRS:
        files = [(path, entry) for path, entry in files_under(ctx.image, (str(mounted),)) if entry.kind != "dir"]
        if files:
            size = sum(entry.size for _, entry in files)
            yield Problem(f"{len(files)} file(s), {human(size)}, baked into {mounted}, which SageMaker mounts over "
                          f"at run time: {listing([(p, e.size) for p, e in files])}.", path=str(mounted))


RULE = Rule(
    code="IK511",
    name="content-in-mounted-dir",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary=f"The image has files in {_MOUNTS}, which are replaced at run time.",
    rationale="SageMaker mounts the job's data, model and output over these directories; whatever the image put "
    f"there is hidden. A model baked into {contract.MODEL_DIR} works locally and vanishes on an endpoint.",
    fix=f"Put code in {contract.CODE_DIR} or /opt/program and model files elsewhere, loaded from the path you choose.",
    check=check,
)
