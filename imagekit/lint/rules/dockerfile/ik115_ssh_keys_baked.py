"""IK115: SSH host keys, key pairs or authorized_keys baked into the image."""

from __future__ import annotations

import posixpath
import re
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    APT_PROGRAMS,
    SAGEMAKER_PROFILES,
    DockerfileContext,
    copy_paths,
    own_instructions,
    package_manager_installs,
    runs,
)

KEY_FILE = re.compile(r"^(authorized_keys2?|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|ssh_host_\w+_key(\.pub)?)$")
_HOST_KEYS_DIR = posixpath.dirname(contract.SSH_HOST_KEYS_GLOB)


_HOST_KEY = re.compile(r"^ssh_host_(\w+)_key")
_HOST_KEY_TYPES = {"rsa", "ecdsa", "ed25519"}  # what openssh-server's install and `ssh-keygen -A` generate


def _removes_every_host_key(words: list[str]) -> bool:
    """A glob over all of them (or the directory), or each type by name; removing one key leaves the others."""
    names = [posixpath.basename(word) for word in words if posixpath.dirname(word) == _HOST_KEYS_DIR]
    if any(name.startswith("ssh_host_*") or name == "*" for name in names) or \
            any(word.rstrip("/") == _HOST_KEYS_DIR for word in words):
        return True
    return _HOST_KEY_TYPES <= {found.group(1) for found in map(_HOST_KEY.match, names) if found}


def _installs_sshd(cmd) -> bool:
    install = package_manager_installs(cmd)
    return bool(install) and install[0] in APT_PROGRAMS and \
        contract.SSHD_APT_PACKAGE in {package.split("=")[0] for package in install[1]}


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    stages = ctx.dockerfile.final_image_stages()
    for ins, cmds in runs(stages):
        host_keys = ""  # what generated host keys in this RUN that no later command of it removed
        for cmd in cmds:  # in order: only a removal after the keys were made takes them out of the layer
            if _installs_sshd(cmd):
                host_keys = f"Installing {contract.SSHD_APT_PACKAGE}"
            elif cmd.program == "ssh-keygen" and cmd.has("-A"):
                host_keys = "ssh-keygen -A"
            elif cmd.program == "rm" and _removes_every_host_key(list(cmd.argv)):
                host_keys = ""
        if host_keys:
            yield Problem(f"{host_keys} generates SSH host keys in {_HOST_KEYS_DIR} that every container of the "
                          "image would share; remove all of them later in the same RUN.", ins.line, ins.column)
        if any(cmd.program == "ssh-keygen" and not cmd.has("-l", "-F", "-R", "-y", "-A") for cmd in cmds):
            yield Problem("ssh-keygen at build time bakes a key every container of the image shares; generate "
                          "keys when the job starts.", ins.line, ins.column)
    for ins in own_instructions(stages, "COPY", "ADD"):
        keys = [path for path in copy_paths(ins) if KEY_FILE.match(posixpath.basename(path.rstrip("/")))]
        if keys:
            yield Problem(f"Copies the SSH key file {keys[0]} into the image.", ins.line, ins.column)


RULE = Rule(
    code="IK115",
    name="ssh-keys-baked",
    severity=Severity.WARNING,
    profiles=SAGEMAKER_PROFILES,
    target="dockerfile",
    summary="SSH host keys, a key pair or authorized_keys are baked into the image (MPI images often do this).",
    rationale="AWS's framework images bake one root key pair and trust it in authorized_keys so that mpirun can "
    "reach the other hosts; Debian's openssh-server package generates host keys at install time. Every "
    "container of such an image shares them: anyone who can pull the image can log in as root to any running "
    "container whose port 22 they reach, and impersonate its host. Keys made when the job starts are unique "
    "to the job: imagekit's runtime generates host keys on every host and a job key pair on algo-1 and hands "
    "the public half to the other hosts over the job's network. (IK530 also reports private keys as secrets.)",
    fix="Remove all of /etc/ssh/ssh_host_* after installing openssh-server in the same RUN, do not COPY keys or run "
    "ssh-keygen (-A included) at build time, and generate them at start (`distribution: mpi` in imagekit.yaml "
    "does all of this).",
    check=check,
    example_bad="FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends "
    "openssh-server=1:9.2p1-2+deb12u7 && rm -rf /var/lib/apt/lists/*\n"
    "RUN mkdir -p /root/.ssh && ssh-keygen -q -t rsa -N '' -f /root/.ssh/id_rsa\n",
    example_good="FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends "
    "openssh-server=1:9.2p1-2+deb12u7 && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*\n",
)
