"""IK523: a serving image exposes ports other than the serving port."""

from __future__ import annotations

from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity


def check(ctx) -> Iterator[Problem]:
    ports = sorted(ctx.image.config.get("ExposedPorts") or {})
    others = [port for port in ports if port.split("/")[0] != str(contract.SERVING_PORT)]
    if others:
        yield Problem(f"The image exposes {', '.join(others)}; SageMaker only sends traffic to port "
                      f"{contract.SERVING_PORT} (or {contract.ENV_BIND_TO_PORT} with the bind-to-port label).")


RULE = Rule(
    code="IK523",
    name="expose-other-port",
    severity=Severity.INFO,
    profiles=(contract.SERVE_COMMAND,),
    target="image",
    summary=f"The image exposes a port other than {contract.SERVING_PORT}; SageMaker ignores EXPOSE and only uses "
    f"{contract.SERVING_PORT}.",
    rationale="EXPOSE is documentation; a server listening only on the exposed port never answers "
    f"{contract.PING_ROUTE}.",
    fix=f"Listen on {contract.SERVING_PORT} (or on {contract.ENV_BIND_TO_PORT} when the image carries the "
    "bind-to-port label).",
    check=check,
)
