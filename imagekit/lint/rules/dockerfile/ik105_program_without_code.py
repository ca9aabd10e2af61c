"""IK105: the training entry-point variable names a file nothing copies into the toolkit's code directory."""

from __future__ import annotations

import posixpath
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import DockerfileContext, copy_destination, copy_paths, env_pairs

_CODE_DIR = str(contract.CODE_DIR)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final:
        return
    program = final.env.get(contract.ENV_PROGRAM, "").strip()
    if not program:
        return
    # No exception for an ENV of the submit-directory variable: the training toolkit overwrites it from the
    # submit-directory hyperparameter (reference §2.1 #3), so the code directory is the only place that counts.
    instructions = final.all_instructions()
    target = posixpath.join(_CODE_DIR, program)
    for ins in instructions:
        if ins.keyword not in ("COPY", "ADD") or not ins.expanded:
            continue
        parts = copy_paths(ins)
        if len(parts) < 2 and not ins.heredocs:
            continue
        dest = copy_destination(ins) or ""
        sources = parts[:-1]
        if dest == target or (dest == _CODE_DIR or dest.startswith(_CODE_DIR + "/")) and (
            any(posixpath.basename(s.rstrip("/")) in (program, ".", "") or "." not in posixpath.basename(s)
                for s in sources)
        ):
            return
    setter = next((i for i in reversed(instructions) if i.keyword == "ENV"
                   and any(name == contract.ENV_PROGRAM for name, _, _ in env_pairs(i))), final.from_instruction)
    yield Problem(f"{contract.ENV_PROGRAM}={program}, but no COPY/ADD puts {program} into {_CODE_DIR}: the "
                  "training toolkit will fail to find the entry point.", setter.line, setter.column)


RULE = Rule(
    code="IK105",
    name="program-without-code",
    severity=Severity.WARNING,
    profiles=(contract.TRAIN_COMMAND,),
    target="dockerfile",
    summary=f"{contract.ENV_PROGRAM} names a script that is not (a readable file) in {_CODE_DIR}.",
    rationale=f"The sagemaker-training toolkit runs {_CODE_DIR}/${contract.ENV_PROGRAM}. If the image does not "
    f"contain it (and no `{contract.HP_SUBMIT_DIRECTORY}` hyperparameter uploads code at run time), the job fails "
    "with a framework error after the instance has started. In a Dockerfile: no COPY/ADD into the code directory "
    "can provide it; in a built image: the file is missing there, not a regular file, or not readable. An ENV "
    f"{contract.ENV_SUBMIT_DIRECTORY} in the image does not help: the toolkit overwrites it from that "
    "hyperparameter.",
    fix=f"COPY the script into {_CODE_DIR}, or point {contract.ENV_PROGRAM} at a file that is copied there.",
    check=check,
    example_bad=f"FROM python:3.11-slim\nENV {contract.ENV_PROGRAM}=train.py\nCOPY train.py /opt/app/\n",
    example_good=f"FROM python:3.11-slim\nENV {contract.ENV_PROGRAM}=train.py\nCOPY train.py {_CODE_DIR}/train.py\n",
)
