"""`imagekit engine up`: make a Docker engine available on this machine.

If an engine already answers, nothing else happens (a second run is instant). Otherwise, on
Debian/Ubuntu as root, install the distribution's docker.io (plus docker-compose and mmdebstrap for
`imagekit base`), start dockerd in the background with its log in a file, and wait for the socket with a
deadline. Anywhere that cannot work (not root, not Debian, no packages) gets a clear error saying what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from imagekit.errors import ImagekitError

ENGINE_PACKAGES: dict[str, str] = {
    "dockerd": "docker.io",
    "docker-compose": "docker-compose",
    "mmdebstrap": "mmdebstrap",
}
DOCKERD_LOG = Path("/var/log/imagekit/dockerd.log")
START_DEADLINE_S = 90.0
APT_TIMEOUT_S = 1200


@dataclass(frozen=True)
class EngineStatus:
    already_running: bool
    installed: tuple[str, ...]  # Debian packages installed by this run
    log_file: Path | None  # where dockerd logs, when this run started it


def engine_up(
    install: bool = True,
    deadline_s: float = START_DEADLINE_S,
    log: Callable[[str], None] = lambda _line: None,
) -> EngineStatus:
    """Make the engine answer, installing and starting it when allowed; idempotent."""
    from imagekit import engine

    if engine.available():
        installed = _install_missing(("mmdebstrap",), log) if install and _can_install() else ()
        return EngineStatus(already_running=True, installed=installed, log_file=None)
    if os.environ.get("DOCKER_HOST"):
        raise ImagekitError(
            f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer, and imagekit only starts a local engine.",
            "Start that engine, or unset DOCKER_HOST to let `imagekit engine up` start one on this machine.",
        )
    installed: tuple[str, ...] = ()
    if install and (shutil.which("dockerd") is None or _can_install()):
        installed = _install_missing(tuple(ENGINE_PACKAGES), log)
    if shutil.which("dockerd") is None:
        raise ImagekitError(
            "dockerd is not installed, so no Docker engine can be started.",
            "Install Docker (on Debian/Ubuntu as root: `apt-get install -y docker.io`), or run `imagekit engine up` "
            "as root on Debian/Ubuntu to have it installed for you.",
        )
    if os.geteuid() != 0:
        raise ImagekitError(
            "dockerd is installed but not running, and starting it needs root.",
            "Run `sudo imagekit engine up` (or `sudo systemctl start docker`), then try again.",
        )
    _start_dockerd(deadline_s, log)
    engine.connect.cache_clear()
    engine.connect()
    return EngineStatus(already_running=False, installed=installed, log_file=DOCKERD_LOG)


def _can_install() -> bool:
    return os.geteuid() == 0 and _is_debian_like() and shutil.which("apt-get") is not None


def _is_debian_like() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    ids = (fields.get("ID", "") + " " + fields.get("ID_LIKE", "")).replace('"', "").split()
    return "debian" in ids or "ubuntu" in ids


def _install_missing(programs: tuple[str, ...], log: Callable[[str], None]) -> tuple[str, ...]:
    """apt-get install the Debian packages of the *programs* that are not on PATH."""
    packages = tuple(ENGINE_PACKAGES[p] for p in programs if shutil.which(p) is None)
    if not packages:
        return ()
    if os.geteuid() != 0:
        raise ImagekitError(
            f"{', '.join(packages)} must be installed, and that needs root.",
            f"Run `sudo apt-get install -y {' '.join(packages)}` (or `sudo imagekit engine up`), then try again.",
        )
    if not _is_debian_like():
        raise ImagekitError(
            f"{', '.join(packages)} is missing and imagekit installs it only on Debian or Ubuntu.",
            "Install Docker Engine for your distribution (https://docs.docker.com/engine/install/) and start it, "
            "then run `imagekit doctor`.",
        )
    apt = shutil.which("apt-get")
    if apt is None:
        raise ImagekitError(
            f"{', '.join(packages)} is missing and apt-get is not on PATH, so it cannot be installed.",
            f"Install {' '.join(packages)} with your package manager, or fix PATH, then try again.",
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", *packages]):
        log(" ".join(step))
        try:
            run = subprocess.run(step, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ImagekitError(f"`{' '.join(step)}` did not finish in {APT_TIMEOUT_S} s.",
                                "Check that the Debian mirror is reachable and try again.") from None
        if run.returncode != 0:
            tail = "\n".join(run.stderr.strip().splitlines()[-6:])
            raise ImagekitError(f"`{' '.join(step)}` failed (exit {run.returncode}): {tail}",
                                "Fix the package sources (apt-get update) and run `imagekit engine up` again.")
    return packages


def _start_dockerd(deadline_s: float, log: Callable[[str], None]) -> None:
    from imagekit import engine

    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    log(f"starting dockerd (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as out:
        process = subprocess.Popen(
            ["dockerd"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        if process.poll() is not None:
            break
        if Path(engine.DEFAULT_SOCKET).exists() and engine.available():
            return
        time.sleep(0.5)
    tail = "\n".join(DOCKERD_LOG.read_text(errors="replace").strip().splitlines()[-10:])
    if process.poll() is None:
        process.terminate()
    exited = process.returncode is not None
    raise ImagekitError(
        f"dockerd did not answer on {engine.DEFAULT_SOCKET} within {deadline_s:.0f} s "
        f"({'it exited with code ' + str(process.returncode) if exited else 'still starting'}).",
        f"See {DOCKERD_LOG}; its last lines:\n{tail}",
    )
