"""IK521: a SageMaker capability label the platform does not know, or with a value other than the one it accepts."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity


def check(ctx) -> Iterator[Problem]:
    for key, value in sorted((ctx.image.config.get("Labels") or {}).items()):
        if not key.startswith(contract.CAPABILITY_LABEL_PREFIX):
            continue
        if key not in contract.CAPABILITY_LABELS:
            yield Problem(f"Label {key} is not a SageMaker capability "
                          f"(known: {', '.join(contract.CAPABILITY_LABELS)}).")
        elif value != contract.CAPABILITY_TRUE:
            yield Problem(f"Label {key}={value!r}: SageMaker only honours the value {contract.CAPABILITY_TRUE!r}.")


RULE = Rule(
    code="IK521",
    name="capability-label-invalid",
    severity=Severity.ERROR,
    profiles=(contract.SERVE_COMMAND,),
    target="image",
    summary=f"A {contract.CAPABILITY_LABEL_PREFIX}* label has an unknown key or a value other than "
    f"`{contract.CAPABILITY_TRUE}`.",
    rationale="A misspelt key or a value such as `True` is silently ignored: the endpoint then never gets "
    f"{contract.ENV_BIND_TO_PORT} or multi-model mode, and fails in ways that look unrelated.",
    fix=f"Use exactly {contract.LABEL_BIND_TO_PORT}={contract.CAPABILITY_TRUE} or "
    f"{contract.LABEL_MULTI_MODELS}={contract.CAPABILITY_TRUE}.",
    check=check,
)
