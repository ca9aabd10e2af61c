"""IK531: package-manager and model caches left in the final image."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, human

CACHES = {
    "pip cache": re.compile(r"^/(root|home/[^/]+)/\.cache/pip/"),
    "Hugging Face cache": re.compile(r"^/(root|home/[^/]+)/\.cache/huggingface/"),
    "conda package cache": re.compile(r"^/opt/conda/pkgs/"),
    "apt lists": re.compile(r"^/var/lib/apt/lists/(?!lock$|partial/?$|auxfiles/?$)"),
    "apt archives": re.compile(r"^/var/cache/apt/archives/[^/]+\.deb$"),
}


def check(ctx) -> Iterator[Problem]:
    threshold = int(ctx.options["min_bytes"])
    totals = {name: [0, 0] for name in CACHES}
    for path, entry in ctx.image.walk():
        if entry.kind == "file":
            for name, pattern in CACHES.items():
                if pattern.match(path):
                    totals[name][0] += entry.size
                    totals[name][1] += 1
    for name, (size, count) in totals.items():
        if size >= threshold:
            yield Problem(f"The {name} is left in the image: {count} files, {human(size)}.")


RULE = Rule(
    code="IK531",
    name="cache-left-in-image",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="image",
    summary="pip, Hugging Face, conda or apt caches are left in the final image.",
    rationale="Caches are pure dead weight on every pull: SageMaker pulls the image on every instance start, and "
    "a torch pip cache alone is gigabytes.",
    fix="pip install --no-cache-dir; rm -rf /var/lib/apt/lists/* in the same RUN; conda clean -afy; or use a "
    "multi-stage build and copy only the environment.",
    check=check,
    options={"min_bytes": 1_000_000},
)
