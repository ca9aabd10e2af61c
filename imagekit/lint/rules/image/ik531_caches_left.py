"""IK531: package-manager and model caches left in the final image."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.image.fs import FILE
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext, files_under, human

# Each cache: where its bytes are, and what removes exactly those bytes (in the RUN that wrote them).
CACHES = {
    "pip cache": (re.compile(r"^/(root|home/[^/]+)/\.cache/pip/"),
                  "pip install --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1, or RUN --mount=type=cache,"
                  "target=/root/.cache/pip)."),
    "Hugging Face cache": (re.compile(r"^/(root|home/[^/]+)/\.cache/huggingface/"),
                           "Download models at run time (SageMaker mounts them), or rm -rf ~/.cache/huggingface in the "
                           "RUN that filled it."),
    "conda package cache": (re.compile(r"^/opt/conda/pkgs/"), "conda clean -afy in the RUN that installs."),
    "apt lists": (re.compile(r"^/var/lib/apt/lists/(?!lock$|partial/?$|auxfiles/?$)"),
                  "End the RUN that runs apt-get update with `&& rm -rf /var/lib/apt/lists/*`."),
    "apt package cache (.deb files)": (
        re.compile(r"^/var/cache/apt/archives/(partial/)?[^/]+\.deb$"),
        "End the RUN that installs with `&& apt-get clean`, or build on a base whose apt is configured like "
        "Debian's official images (/etc/apt/apt.conf.d/docker-clean; `imagekit base` does this)."),
}


ROOTS = ("root/.cache", "opt/conda/pkgs", "var/lib/apt/lists", "var/cache/apt/archives")  # where CACHES can match


def check(ctx: ImageContext) -> Iterator[Problem]:
    threshold = int(ctx.options["min_bytes"])
    totals = {name: [0, 0] for name in CACHES}
    homes = tuple(f"{home}/.cache" for home in ctx.image.children.get("home", ()))
    for path, entry in files_under(ctx.image, ROOTS + homes):
        if entry.kind == FILE:
            for name, (pattern, _fix) in CACHES.items():
                if pattern.match(path):
                    totals[name][0] += entry.size
                    totals[name][1] += 1
    for name, (size, count) in totals.items():
        if size >= threshold:
            yield Problem(f"The {name} is left in the image: {count} files, {human(size)}.", fix=CACHES[name][1])


RULE = Rule(
    code="IK531",
    name="cache-left-in-image",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="image",
    summary="pip, Hugging Face, conda or apt caches are left in the final image.",
    rationale="Caches are pure dead weight on every pull: SageMaker pulls the image on every instance start, and "
    "a torch pip cache alone is gigabytes. The Dockerfile rules IK301, IK302, IK303 and IK314 are different checks,"
    " not second copies: they judge the RUN that would leave a cache behind; this one measures the bytes actually "
    "in the image, whatever put them there (a base image, a COPY, a RUN no rule can read).",
    fix="Each finding names what removes its bytes: pip install --no-cache-dir; apt-get clean (or Debian's "
    "docker-clean apt config) for .deb files; rm -rf /var/lib/apt/lists/* for lists; conda clean -afy; or a "
    "multi-stage build that copies only the environment.",
    check=check,
    example_bad=ImageExample(files={"root/.cache/pip/http/a/b/c": 2_000_000}),
    example_good=ImageExample(files={"opt/venv/lib/python3.11/site-packages/torch/lib/libtorch.so": 2_000_000}),
    options={"min_bytes": 1_000_000},
)
