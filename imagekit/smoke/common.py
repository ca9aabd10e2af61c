"""What train and serve runs share: the container environment and log tails."""

from __future__ import annotations

import os

LOG_TAIL_LINES = 30
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def environment(platform: dict[str, str], user: dict[str, str] | None, pass_aws_credentials: bool) -> dict[str, str]:
    """The platform's variables, host AWS credentials only when asked for, then the user's --env on top."""
    merged = dict(platform)
    if pass_aws_credentials:
        merged.update({key: os.environ[key] for key in AWS_CREDENTIAL_VARIABLES if key in os.environ})
    merged.update(user or {})
    return merged


def log_tail(container) -> str:
    return container.logs(tail=LOG_TAIL_LINES).decode("utf-8", "replace").rstrip()
