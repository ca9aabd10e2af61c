"""IK313: a base image whose distribution, language or CUDA release is past its end of life."""

from __future__ import annotations

import datetime as _dt
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, ImageRef
from imagekit.lint.rules.dockerfile.ik201_untagged_base import external_bases

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "eol.json"
_SYSTEM_TOKEN = re.compile(r"^([a-z]+)(\d[\d.]*)$")


@lru_cache(maxsize=1)
def end_of_life_data() -> dict:
    return json.loads(DATA_FILE.read_text())


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    today = _dt.date.today()
    data = end_of_life_data()
    for stage, ref in external_bases(ctx):
        ended = [(label, version, end) for label, version, end in releases(ref, data) if end <= today]
        if ended:
            what = "; ".join(f"{label} {version} reached end of life on {end.isoformat()}"
                             for label, version, end in ended)
            yield Problem(f"FROM {stage.base}: {what}; its maker no longer publishes security updates for "
                          f"it (end dates checked {data['checked']}).", stage.line, stage.from_instruction.column)


def releases(ref: ImageRef, data: dict) -> Iterator[tuple[str, str, _dt.date]]:
    """(product label, version, end date) of every known release the image reference names: the repository's
    own version (python:3.8-slim, ubuntu:16.04, nvidia/cuda:11.3.1-...) and systems named in the tag
    (-ubuntu20.04, -buster, -alpine3.12)."""
    if not ref.tag:
        return
    products, seen = data["products"], set()
    name = ref.repository.removeprefix("library/")
    product = data["repositories"].get(name) or data["repositories"].get(name.rsplit("/", 1)[-1])
    tokens = re.split(r"[-_]", ref.tag.lower())
    candidates = []
    if product:
        candidates.append((product, tokens[0]))
    for token in tokens:
        system = _SYSTEM_TOKEN.match(token)
        if system and system.group(1) in data["tag_systems"]:
            candidates.append((data["tag_systems"][system.group(1)], system.group(2)))
        for other, facts in products.items():
            if token in facts["codenames"]:
                candidates.append((other, token))
    for product_name, version in candidates:
        facts = products[product_name]
        release = _release(facts, version)
        if release and (product_name, release) not in seen:
            seen.add((product_name, release))
            yield facts["label"], release, _dt.date.fromisoformat(facts["versions"][release])


def _release(facts: dict, version: str) -> str | None:
    """The listed release a tag's version names: a codename, or the longest listed prefix at a dot
    (3.8.10 -> 3.8, 10.13 -> 10, 2.0.20240131 -> 2)."""
    version = facts["codenames"].get(version, version)
    parts = version.split(".")
    for length in range(len(parts), 0, -1):
        candidate = ".".join(parts[:length])
        if candidate in facts["versions"]:
            return candidate
    return None


RULE = Rule(
    code="IK313",
    name="base-image-end-of-life",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A FROM image's distribution, Python/Node release or CUDA image set is past its end of life.",
    rationale="An end-of-life base gets no security fixes, and its package mirrors move or vanish (Debian "
    "stretch's apt sources 404 today), so the image is both unsafe and hard to rebuild. The end dates live in "
    "imagekit/lint/data/eol.json (distributions, language images, CUDA image sets), updated by hand with the "
    "date they were checked; findings are judged against today's date.",
    fix="Move to a supported release (ubuntu:24.04, debian:bookworm, python:3.12-slim, a current CUDA image).",
    check=check,
    example_bad="FROM ubuntu:16.04\n",
    example_good="FROM ubuntu:24.04\n",
)
