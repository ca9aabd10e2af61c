"""IK108 (formerly IK521), the image implementation: a SageMaker capability label in the image config (set by the
Dockerfile or inherited from the base) with an unknown key or a value other than the one SageMaker accepts.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik108_capability_label as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext


def check(ctx: ImageContext) -> Iterator[Problem]:
    for key, value in sorted((ctx.image.config.get("Labels") or {}).items()):
        if not key.startswith(contract.CAPABILITY_LABEL_PREFIX):
            continue
        if key not in contract.CAPABILITY_LABELS:
            yield Problem(f"Label {key} is not a SageMaker capability "
                          f"(known: {', '.join(contract.CAPABILITY_LABELS)}).")
        elif value != contract.CAPABILITY_TRUE:
            yield Problem(f"Label {key}={value!r}: SageMaker only honours the value {contract.CAPABILITY_TRUE!r}.")


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(config={"Labels": {contract.LABEL_BIND_TO_PORT: "True"}}),
               example_good=ImageExample(config={"Labels": {contract.LABEL_BIND_TO_PORT: "true"}}))
