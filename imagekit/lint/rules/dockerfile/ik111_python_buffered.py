"""IK111: Python output is buffered, so logs reach CloudWatch late."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import SAGEMAKER_PROFILES, DockerfileContext, arguments, commands

if TYPE_CHECKING:
    from imagekit.dockerfile.model import Instruction

_PYTHON = re.compile(r"\b(python[\d.]*|pip[\d.]*|pytorch|tensorflow|conda)\b", re.I)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if not final or final.env.get(contract.ENV_PYTHONUNBUFFERED):
        return
    entrypoint = final.entrypoint.exec_form if final.entrypoint and final.entrypoint.exec_form else []
    if "-u" in entrypoint:
        return
    words = [final.external_base] + [word for ins in final.all_instructions() for word in _words(ins)]
    if any(_PYTHON.search(word) for word in words):
        yield Problem(f"Python writes through a block buffer when stdout is not a terminal; without "
                      f"{contract.ENV_PYTHONUNBUFFERED}=1 logs reach CloudWatch late or are lost on a crash.",
                      final.line, 1)


def _words(ins: Instruction) -> list[str]:
    """A RUN's command words, the arguments of anything else (ENV pairs, COPY paths, ENTRYPOINT words)."""
    return [word for cmd in commands(ins) for word in cmd.argv] if ins.keyword == "RUN" else arguments(ins)


RULE = Rule(
    code="IK111",
    name="python-output-buffered",
    severity=Severity.INFO,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary=f"A Python image does not set {contract.ENV_PYTHONUNBUFFERED}.",
    rationale="SageMaker streams the container's stdout/stderr to CloudWatch. Python buffers stdout when it is "
    "not a terminal, so progress logs arrive in bursts and the last lines before a crash can be lost. "
    "Reported on the final FROM line because something is missing.",
    fix=f"Add ENV {contract.ENV_PYTHONUNBUFFERED}=1 (or run python -u).",
    check=check,
    example_bad="FROM python:3.11-slim\nCOPY train.py /opt/program/\n",
    example_good=f"FROM python:3.11-slim\nENV {contract.ENV_PYTHONUNBUFFERED}=1\nCOPY train.py /opt/program/\n",
)
