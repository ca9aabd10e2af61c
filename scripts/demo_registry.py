"""Run a command beside a throwaway local registry, for scripts/demo.sh.

    python scripts/demo_registry.py WORKDIR -- COMMAND...

Starts Debian's docker-registry on 127.0.0.1 and a free port with TLS from a throwaway CA and a password (the
same registry the tests use, tests/registry_support.py), lets the engine trust the CA through
/etc/docker/certs.d/HOST:PORT/ca.crt, and runs COMMAND with REGISTRY=HOST:PORT and DOCKER_CONFIG pointing at a
docker config holding the login (what `docker login` would write). Everything is removed when COMMAND ends; its
exit status is this script's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from registry_support import running_registry  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write(__doc__)
        return 2
    workdir = Path(argv[0])
    with running_registry(workdir) as registry, registry.trust_for_engine():
        config = registry.docker_config(workdir / "docker-config")
        print(f"registry: https://{registry.host} (TLS from a throwaway CA, user {registry.username})", flush=True)
        env = {**os.environ, "REGISTRY": registry.host, "DOCKER_CONFIG": str(config)}
        return subprocess.run(argv[2:], env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
