"""IK302: pip's download cache left in a layer of the final image."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    DockerfileContext,
    environment,
    mounts,
    pip_install_args,
    removes,
    runs,
    truthy,
)

# tool -> (the option that turns its cache off, the environment variable that does, its cache directory's name)
_TOOLS = {"pip": ("--no-cache-dir", "PIP_NO_CACHE_DIR", "pip"), "uv": ("--no-cache", "UV_NO_CACHE", "uv")}


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        if any(c.program in ("pip", "pip3", "uv") and c.has("cache") and c.has("purge", "clean") for c in cmds):
            continue
        for index, cmd in enumerate(cmds):
            args = pip_install_args(cmd)
            if args is None:
                continue
            tool = "uv" if cmd.program == "uv" else "pip"
            option, variable, directory = _TOOLS[tool]
            env = environment(ins, cmds, index)
            if _disabled(args, option) or truthy(env.get(variable)) or _cache_mounted(ins, directory, env) \
                    or removes(cmds, f"/root/.cache/{directory}"):
                continue
            yield Problem(f"{tool} install keeps its download cache in this layer (gigabytes for torch wheels).",
                          ins.line, ins.column, fix=f"Add {option}, set ENV {variable}=1, or mount the cache: "
                          f"RUN --mount=type=cache,target=/root/.cache/{directory}.")
            break


def _disabled(args: list[str], option: str) -> bool:
    """The option itself, or (pipx, which runs pip for you) inside ``--pip-args``."""
    return option in args or any(option in arg for arg in args if arg.startswith("--pip-args"))


def _cache_mounted(ins, directory: str, env: dict[str, str]) -> bool:
    """A cache or tmpfs mount over the cache directory (or a parent of it) keeps the wheels out of the layer."""
    custom = env.get(f"{directory.upper()}_CACHE_DIR", "").rstrip("/")
    for mount in mounts(ins):
        target = mount.get("target", "").rstrip("/")
        if mount["type"] in ("cache", "tmpfs") and (target.endswith(("/.cache", "/" + directory))
                                                     or (custom and target == custom)):
            return True
    return False


RULE = Rule(
    code="IK302",
    name="pip-cache-left",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="pip/uv install in the final image without --no-cache-dir (or a cache mount).",
    rationale="pip keeps every downloaded wheel under /root/.cache/pip. For torch or TensorFlow that is "
    "several GB of dead weight that every training instance pulls. pipx runs pip with the same cache, so "
    "`pipx install` is reported too unless --pip-args carries --no-cache-dir (hadolint exempts pipx). Only the "
    "final image's stages are reported (hadolint reports every stage): a builder's cache never ships. Its image "
    "counterpart IK531 is a different check, not a second copy: it measures the cache bytes actually in a built "
    "image, whatever put them there (a base image, a COPY, a RUN no rule can read).",
    fix="Add --no-cache-dir, set PIP_NO_CACHE_DIR=1 (ENV, or export in the same RUN), or mount the cache: "
    "RUN --mount=type=cache,target=/root/.cache/pip (a tmpfs mount works too).",
    check=check,
    example_bad="FROM python:3.11-slim\nRUN pip install torch==2.3.1\n",
    example_good="FROM python:3.11-slim\nRUN pip install --no-cache-dir torch==2.3.1\n",
)
