"""IK114: an image that runs MPI without what the MPI launcher needs on every host (mpirun, sshd)."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    DockerfileContext,
    base_may_differ,
    own_instructions,
    package_manager_installs,
    pip_install_args,
    pip_requirements,
    runs,
)

_NAME = re.compile(r"^[A-Za-z0-9_.-]+")
# An MPI built or placed by hand (AWS's images download Open MPI and put /opt/amazon/openmpi/bin on PATH).
MPI_BY_HAND = re.compile(r"open-?mpi|mpich|mpirun|\bOMPI_", re.I)
# sshd settings that refuse the launcher's root key logins, written by a RUN (sed, echo >> sshd_config).
REFUSING = re.compile(r"\b(PermitRootLogin\s+no|PubkeyAuthentication\s+no)\b", re.I)


def installed(ctx: DockerfileContext) -> list[tuple[object, str]]:
    """(RUN instruction, package name) for every apt/rpm package and pip requirement of the final image."""
    found = []
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        for cmd in cmds:
            install = package_manager_installs(cmd)
            pip_args = pip_install_args(cmd)
            words = install[1] if install else pip_requirements(pip_args) if pip_args is not None else []
            for word in words:
                name = _NAME.match(word)
                if name:
                    found.append((ins, name.group(0).lower().split("=")[0]))
    return found


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    final = ctx.dockerfile.final_stage
    if final is None:
        return
    for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
        refused = next((found for cmd in cmds for word in cmd.argv for found in [REFUSING.search(word)] if found),
                       None)
        if refused:
            yield Problem(f"Sets sshd's `{refused.group(1)}`: the MPI launcher logs in to every host as root with "
                          "a key.", ins.line, ins.column)
    if base_may_differ(final) or MPI_BY_HAND.search(final.lineage()[-1].external_base or "") \
            or "horovod" in (final.lineage()[-1].external_base or "").lower():
        return  # a base that may bring MPI and sshd itself
    packages = installed(ctx)
    names = {name for _, name in packages}
    mpi = [(ins, name) for ins, name in packages
           if name.startswith(contract.MPI_APT_PREFIXES) or name in contract.MPI_PIP_NAMES]
    if not mpi:
        return
    ins, first = mpi[0]
    missing = [] if contract.SSHD_APT_PACKAGE in names else [contract.SSHD_APT_PACKAGE]
    by_hand = any(MPI_BY_HAND.search(ins.text) for ins in own_instructions(ctx.dockerfile.final_image_stages(),
                                                                             "RUN", "ENV"))
    if not names & set(contract.MPIRUN_APT_PACKAGES) and not by_hand:
        missing.append(f"mpirun ({' or '.join(contract.MPIRUN_APT_PACKAGES)})")
    if missing:
        yield Problem(f"Installs {first} but not {' nor '.join(missing)}: the MPI launcher starts {contract.SSHD} "
                      "on every host and runs mpirun on the first.", ins.line, ins.column)


RULE = Rule(
    code="IK114",
    name="mpi-launcher-incomplete",
    severity=Severity.ERROR,
    profiles=(contract.TRAIN_COMMAND,),
    target="dockerfile",
    summary="An MPI (Horovod, mpi4py) training image lacks mpirun or sshd, which the MPI launcher needs on every host.",
    rationale="With `distribution={'mpi': ...}` sagemaker-training (and imagekit's runtime, `distribution: mpi`) "
    f"starts {contract.SSHD} on every host, waits until each answers, then runs one `mpirun` on algo-1 that "
    "reaches the other hosts over ssh. An image with mpi4py or Horovod but no sshd fails on the first multi-host "
    "job with \"SSH daemon not found\"; one without mpirun cannot launch at all. Single-host tests never notice. "
    "A Dockerfile is checked for what it installs itself (bases it cannot see, such as AWS's, are skipped) and for "
    "a RUN that sets sshd to refuse root key logins; a built image for the programs only (its sshd_config is not "
    "read: image files are indexed, not kept).",
    fix="Install openmpi-bin (or mpich) and openssh-server in the final stage (`distribution: mpi` in imagekit.yaml "
    "does), and keep sshd's PermitRootLogin at prohibit-password or yes and PubkeyAuthentication on.",
    check=check,
    example_bad="FROM python:3.11-slim-bookworm\nRUN pip install --no-cache-dir mpi4py==4.0.3\n",
    example_good="FROM python:3.11-slim-bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends "
    "openmpi-bin=4.1.4-3+b1 openssh-server=1:9.2p1-2+deb12u7 && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*\n"
    "RUN pip install --no-cache-dir mpi4py==4.0.3\n",
)
