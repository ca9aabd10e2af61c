"""IK101 (formerly IK505), the image implementation: the config's ENTRYPOINT is a shell running a command string
(what a Dockerfile shell-form ENTRYPOINT becomes) that drops `train`/`serve` or stays PID 1.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Iterator

from imagekit.dockerfile.shell import shell_c_drops_arguments, shell_c_stays_pid1
from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik101_entrypoint_shell_form as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    entrypoint = ctx.image.config.get("Entrypoint") or []
    shown = json.dumps(entrypoint)
    if shell_c_drops_arguments(entrypoint):
        yield Problem(f"ENTRYPOINT is {shown}: the -c script never uses the `train`/`serve` argument "
                      "SageMaker appends (sh -c makes the first word after the script $0) and the shell does not "
                      "forward SIGTERM to the program.")
    elif shell_c_stays_pid1(entrypoint):
        yield Problem(f"ENTRYPOINT is {shown}: the -c script does not `exec` its last command, so the shell stays "
                      "PID 1 and SIGTERM at job stop or endpoint update never reaches the program.")


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(config={"Entrypoint": ["/bin/sh", "-c", "serve"]}),
               example_good=ImageExample(config={"Entrypoint": ["/usr/local/bin/serve"]}))
