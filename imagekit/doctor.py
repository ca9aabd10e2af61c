"""`imagekit doctor`: what this machine has for building, linting and smoke-testing images, and what is missing."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from imagekit.errors import EngineUnavailable

MIN_FREE_DISK_BYTES = 10 * 1024**3


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool
    fix: str = ""


def run_checks(base_tag: str | None = None) -> list[Check]:
    """Every check, in the order they are shown; required ones decide the exit code."""
    from imagekit import base, engine

    base_tag = base_tag or base.DEFAULT_TAG
    checks: list[Check] = []
    try:
        client = engine.connect()
        version = client.version()
        info = client.info()
        checks.append(Check("engine", True,
                            f"Docker {version.get('Version', '?')} ({info.get('OperatingSystem', '?')})", True))
        checks.append(Check("engine API", True,
                            f"{version.get('ApiVersion', '?')} (min {version.get('MinAPIVersion', '?')})", True))
    except EngineUnavailable as error:
        client = info = None
        checks.append(Check("engine", False, error.message, True, "imagekit engine up"))

    cli = engine.buildkit_cli()
    checks.append(Check("BuildKit CLI", cli is not None, cli or "no docker CLI builds with DOCKER_BUILDKIT=1", False,
                        "apt-get install -y docker.io (its 20.10 CLI has BuildKit built in)"))
    checks.append(_compose_check())

    image = engine.inspect_image(base_tag) if client is not None else None
    if client is None:
        checks.append(Check("base image", False, f"{base_tag}: unknown (no engine)", True, "imagekit base"))
    else:
        if image is None:
            checks.append(Check("base image", False, f"{base_tag} is missing", True, "imagekit base"))
        else:
            labels = (image.get("Config") or {}).get("Labels") or {}
            built = labels.get(base.LABEL_PREFIX + "build-date", "unknown date")
            size = image.get("Size", 0) / 1e6
            checks.append(Check("base image", True, f"{base_tag} ({size:.0f} MB, built {built})", True))
    mmdebstrap = shutil.which("mmdebstrap")
    checks.append(Check("mmdebstrap", mmdebstrap is not None, mmdebstrap or "not installed", False,
                        "apt-get install -y mmdebstrap"))

    root_dir = (info or {}).get("DockerRootDir") or "/"
    try:
        free = shutil.disk_usage(root_dir).free
    except OSError:
        free = shutil.disk_usage("/").free
    checks.append(Check("free disk", free >= MIN_FREE_DISK_BYTES, f"{free / 1024**3:.1f} GiB free under {root_dir}",
                        False, "free disk space (docker system prune) — builds need ~10 GiB"))
    return checks


def _compose_check() -> Check:
    for command in (["docker", "compose", "version", "--short"], ["docker-compose", "version", "--short"]):
        if shutil.which(command[0]) is None:
            continue
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if run.returncode == 0 and run.stdout.strip():
            return Check("compose", True, f"{' '.join(command[:-2])} {run.stdout.strip()}", False)
    return Check("compose", False, "neither `docker compose` nor docker-compose", False,
                 "apt-get install -y docker-compose (only the SageMaker SDK's local mode needs it)")
