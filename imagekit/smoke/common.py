"""What train and serve runs share: the container environment, log tails and host-side work dirs."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from imagekit.engine import process_alive

LOG_TAIL_LINES = 30
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
_WORKDIR = re.compile(r"^imagekit-[a-z]+-pid(\d+)-")


def environment(platform: dict[str, str], user: dict[str, str] | None, pass_aws_credentials: bool) -> dict[str, str]:
    """The platform's variables, host AWS credentials only when asked for, then the user's --env on top."""
    merged = dict(platform)
    if pass_aws_credentials:
        merged.update({key: os.environ[key] for key in AWS_CREDENTIAL_VARIABLES if key in os.environ})
    merged.update(user or {})
    return merged


def log_tail(container) -> str:
    return container.logs(tail=LOG_TAIL_LINES).decode("utf-8", "replace").rstrip()


def run_workdir(kind: str) -> Path:
    """A temp dir for one run's host-side files, named after this process so a sweep can tell it is ours."""
    return Path(tempfile.mkdtemp(prefix=f"imagekit-{kind}-pid{os.getpid()}-"))


def remove_leftover_workdirs() -> int:
    """Delete run work dirs whose process is gone (a `kill -9` skips the run's own cleanup)."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob("imagekit-*"):
        owner = _WORKDIR.match(path.name)
        if owner and path.is_dir() and not process_alive(int(owner.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
