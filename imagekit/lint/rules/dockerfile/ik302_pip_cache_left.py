"""IK302: pip's download cache left in a layer of the final image."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, pip_install_args, runs

_DISABLED = {"PIP_NO_CACHE_DIR": "pip", "UV_NO_CACHE": "uv"}


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        mounts = " ".join(ins.flags.get("mount", []))
        scripts = " ".join(ins.shell_scripts())
        if "type=cache" in mounts or "rm -rf /root/.cache" in scripts or "cache purge" in scripts:
            continue
        for cmd in cmds:
            args = pip_install_args(cmd)
            if args is None:
                continue
            uv = cmd.program == "uv"
            if ("--no-cache" if uv else "--no-cache-dir") in args or _disabled(ins.variables, cmd, uv):
                continue
            tool = "uv" if uv else "pip"
            yield Problem(f"{tool} install keeps its download cache in this layer (gigabytes for torch wheels).",
                          ins.line, ins.column, fix=f"Add {'--no-cache' if uv else '--no-cache-dir'}, or set "
                          f"ENV {'UV_NO_CACHE=1' if uv else 'PIP_NO_CACHE_DIR=1'}.")
            break


def _disabled(variables, cmd, uv: bool) -> bool:
    name = "UV_NO_CACHE" if uv else "PIP_NO_CACHE_DIR"
    value = variables.get(name) or next((a.split("=", 1)[1] for a in cmd.assignments if a.startswith(name + "=")), "")
    return value.strip().lower() not in ("", "0", "false", "no", "off")


RULE = Rule(
    code="IK302",
    name="pip-cache-left",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="pip/uv install in the final image without --no-cache-dir (or a cache mount).",
    rationale="pip keeps every downloaded wheel under /root/.cache/pip. For torch or TensorFlow that is "
    "several GB of dead weight that every training instance pulls. Builder stages are not reported.",
    fix="Add --no-cache-dir, set ENV PIP_NO_CACHE_DIR=1, or use RUN --mount=type=cache,target=/root/.cache/pip.",
    check=check,
    example_bad="FROM python:3.11-slim\nRUN pip install torch==2.3.1\n",
    example_good="FROM python:3.11-slim\nRUN pip install --no-cache-dir torch==2.3.1\n",
)
