"""IK107 (formerly IK523), the image implementation: the image config exposes a port other than the serving port.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik107_expose_other_port as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    ports = sorted(ctx.image.config.get("ExposedPorts") or {})
    others = [port for port in ports if port.split("/")[0] != str(contract.SERVING_PORT)]
    if others:
        yield Problem(f"The image exposes {', '.join(others)}; SageMaker only sends traffic to port "
                      f"{contract.SERVING_PORT} (or {contract.ENV_BIND_TO_PORT} with the bind-to-port label).")


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(config={"ExposedPorts": {"5000/tcp": {}}}),
               example_good=ImageExample(config={"ExposedPorts": {f"{contract.SERVING_PORT}/tcp": {}}}))
