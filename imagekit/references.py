"""Image references, one grammar for every command: `[HOST[:PORT]/]REPOSITORY[:TAG][@sha256:HEX]`.

The engine's checks (build tags, image names), push targets, registry reads and ECR URIs all parse with the
patterns here, so they cannot drift apart; ECR adds its own rules on top (imagekit.ship.ecr). Stdlib `re` only:
the lint path imports this. Every pattern is ASCII (no `\\w`): an engine, a registry and an HTTP request line
accept nothing else, so anything else is reported here as a bad reference rather than failing deep inside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagekit.errors import ImagekitError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]{{1,5}})?"
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY = rf"{COMPONENT}(?:/{COMPONENT})*"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
SHA256_DIGEST = r"sha256:[0-9a-f]{64}"
# The first component is a registry host only when docker reads it as one (a dot, a port, or localhost): in
# `UPPER/x` it is a repository component, and the capitals make the reference invalid (the engine's 400).
_PORT = r"(?::[0-9]{1,5})"
_DOCKER_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})+{_PORT}?|{_LABEL}{_PORT}|localhost|\[[0-9a-fA-F:.]+\]{_PORT}?)"
# What `docker tag` accepts, digest aside: [HOST[:PORT]/]REPOSITORY[:TAG] (the distribution project's grammar).
IMAGE_REFERENCE = re.compile(rf"(?:{_DOCKER_HOST}/)?{REPOSITORY}(?::{TAG})?", re.ASCII)
_HOST = re.compile(HOST, re.ASCII)
_REPOSITORY = re.compile(REPOSITORY, re.ASCII)
TAG_PATTERN = re.compile(TAG, re.ASCII)
DIGEST = re.compile(SHA256_DIGEST, re.ASCII)


@dataclass(frozen=True)
class Reference:
    """An image reference split the docker way; `registry` is the host as written (docker.io for Docker Hub)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What goes after /manifests/: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    def __str__(self) -> str:
        tail = f":{self.tag}" if self.tag else ""
        return f"{self.registry}/{self.repository}{tail}{'@' + self.digest if self.digest else ''}"


def has_registry_host(ref: str) -> bool:
    """Whether *ref* names its registry (`host.domain/...`, `host:port/...`, `localhost/...`), as docker decides."""
    first, slash, _ = ref.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def parse_reference(ref: str) -> Reference:
    """`[HOST[:PORT]/]REPO[:TAG][@sha256:HEX]` with docker's defaults; ImagekitError names what is malformed."""
    name, at, digest = ref.partition("@")
    tag = None
    last_slash = name.rfind("/")
    if ":" in name[last_slash + 1:]:
        name, _, tag = name.rpartition(":")
    if has_registry_host(name):
        registry, _, repository = name.partition("/")
    else:
        registry, repository = DOCKER_HUB, name
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    problems = []
    if not _HOST.fullmatch(registry):
        problems.append(f"registry host {registry!r}")
    if not _REPOSITORY.fullmatch(repository) or len(repository) > 255:
        problems.append(f"repository {repository!r} (lower-case letters, digits, separators . _ - and /)")
    if tag is not None and not TAG_PATTERN.fullmatch(tag):
        problems.append(f"tag {tag!r} (up to 128 ASCII letters, digits, _ . -; not starting with . or -)")
    if at and not DIGEST.fullmatch(digest):
        problems.append(f"digest {digest!r} (sha256:64 hex digits)")
    if problems:
        raise ImagekitError(f"{ref!r} is not a valid image reference: bad {'; bad '.join(problems)}.",
                            "Write it as HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST], e.g. "
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1.0.")
    return Reference(registry, repository, tag if tag or at else "latest", digest or None)
