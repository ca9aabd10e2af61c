"""Why a train or serve container ended, when its config or exit code says it better than its log: a shell-form
ENTRYPOINT that drops the `train`/`serve` argument, or a `serve` that returned (exit 0) instead of serving."""

from __future__ import annotations

import json

from imagekit import contract
from imagekit.dockerfile.shell import shell_c_drops_arguments


def config_cause(container, command: str, code: int | None) -> str | None:
    """The cause named from *container*'s config and exit *code*, or None to let the log and command file speak."""
    entrypoint = (container.attrs.get("Config") or {}).get("Entrypoint") or []
    if code != 0 and shell_c_drops_arguments(entrypoint):
        return (f"its ENTRYPOINT is in shell form ({json.dumps(entrypoint)}): `sh -c` runs that string and makes the "
                f"`{command}` SageMaker appends its $0, so the program never receives `{command}` (and the shell does "
                "not pass SIGTERM on). Write the ENTRYPOINT in exec form, e.g. ENTRYPOINT [\"python3\", "
                "\"/opt/program/app\"] (lint rule IK101).")
    if code == 0 and command == contract.SERVE_COMMAND:
        return ("the process returned while it should be serving: the container ends when its main process does, so "
                "`serve` must keep running in the foreground. A server started in the background (nginx without "
                "`daemon off;`, gunicorn --daemon, `service nginx start`, `server &` in a script) leaves nothing "
                "running: keep it in the foreground, and `exec` it as the last command of a shell script.")
    return None
