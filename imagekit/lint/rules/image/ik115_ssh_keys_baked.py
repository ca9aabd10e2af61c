"""IK115, the image implementation: SSH host keys or authorized_keys files in the image's files.

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik115_ssh_keys_baked as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext, listing, paths_ending

AUTHORIZED_KEYS = ("authorized_keys", "authorized_keys2")
AUTHORIZED_KEYS_END = re.compile(r"authorized_keys2?$", re.MULTILINE)


def check(ctx: ImageContext) -> Iterator[Problem]:
    pattern = posixpath.basename(contract.SSH_HOST_KEYS_GLOB) + "_key"  # the private halves
    host_keys = [(path, entry.size) for path, entry in ctx.image.walk(posixpath.dirname(contract.SSH_HOST_KEYS_GLOB))
                 if entry.kind == "file" and fnmatch.fnmatch(posixpath.basename(path), pattern)]
    trusted = [(path, ctx.image.entries[path].size) for path in paths_ending(ctx.image, AUTHORIZED_KEYS_END)
               if ctx.image.entries[path].kind == "file" and posixpath.basename(path) in AUTHORIZED_KEYS]
    if host_keys:
        yield Problem(f"SSH host keys every container shares: {listing(host_keys)}.", path=host_keys[0][0])
    if trusted:
        yield Problem(f"authorized_keys baked in: {listing(trusted)}.", path=trusted[0][0])


RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(files={"etc/ssh/ssh_host_ed25519_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
                                               "home/mpi/.ssh/authorized_keys": "ssh-ed25519 AAAA\n"}),
               example_good=ImageExample(files={"etc/ssh/sshd_config": "PermitRootLogin prohibit-password\n"}))
