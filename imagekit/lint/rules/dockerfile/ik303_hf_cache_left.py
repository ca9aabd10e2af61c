"""IK303: a Hugging Face download left in the hub cache of a layer."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, runs

_PY_DOWNLOAD = re.compile(r"\b(snapshot_download|hf_hub_download|from_pretrained)\s*\(")


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        if any(c.program == "rm" and any("huggingface" in word for word in c.argv[1:]) for c in cmds):
            continue  # the same RUN deletes the cache
        cli = next((c for c in cmds if c.program in ("huggingface-cli", "hf") and "download" in c.argv
                    and not c.has("--local-dir") and not any(a.startswith("--local-dir=") for a in c.argv)), None)
        python = any(_PY_DOWNLOAD.search(word) and "local_dir" not in word for c in cmds for word in c.argv[1:])
        if cli or python:
            yield Problem("Downloads a model into the Hugging Face cache (~/.cache/huggingface) of this layer: "
                          "blobs plus symlinks, lock files and a path your code must rediscover.",
                          ins.line, ins.column)


RULE = Rule(
    code="IK303",
    name="hf-cache-left",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A RUN downloads from the Hugging Face Hub into the hub cache instead of a plain directory.",
    rationale="Baking weights is sometimes right, but the hub cache stores blobs, symlinks and lock files "
    "under the build user's home, so the model is hard to find, easy to download twice and partial downloads "
    f"stay in the layer. Download into an explicit directory instead (or fetch at run time into "
    f"{contract.MODEL_DIR}). Its image counterpart IK531 is a different check, not a second copy: it measures "
    "the cache bytes actually in a built image, whatever put them there (a base image, a COPY, a RUN no rule can "
    "read).",
    fix="Use `hf download REPO --local-dir /opt/models/NAME` (or snapshot_download(local_dir=...)).",
    check=check,
    example_bad="FROM python:3.11-slim\nRUN huggingface-cli download org/model\n",
    example_good="FROM python:3.11-slim\nRUN huggingface-cli download org/model --local-dir /opt/models/model\n",
)
