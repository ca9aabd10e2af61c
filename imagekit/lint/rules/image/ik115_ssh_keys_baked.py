"""IK115, the image implementation: SSH host keys or authorized_keys files in the image's files.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik115_ssh_keys_baked as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext, listing


def check(ctx: ImageContext) -> Iterator[Problem]:
    pattern = posixpath.basename(contract.SSH_HOST_KEYS_GLOB) + "_key"  # the private halves
    host_keys = [(path, entry.size) for path, entry in ctx.image.walk(posixpath.dirname(contract.SSH_HOST_KEYS_GLOB))
                 if entry.kind == "file" and fnmatch.fnmatch(posixpath.basename(path), pattern)]
    trusted = [(path, entry.size) for path, entry in ctx.image.walk() if entry.kind == "file"
               and posixpath.basename(path) in ("authorized_keys", "authorized_keys2")]
    if host_keys:
        yield Problem(f"SSH host keys every container shares: {listing(host_keys)}.", path=host_keys[0][0])
    if trusted:
        yield Problem(f"authorized_keys baked in: {listing(trusted)}.", path=trusted[0][0])


RULE = replace(dockerfile_rule.RULE, target="image", check=check)
