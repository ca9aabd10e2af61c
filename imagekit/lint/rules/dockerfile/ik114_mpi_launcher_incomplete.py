"""IK114: an image that runs MPI without what the MPI launcher needs on every host (mpirun, sshd)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Iterator

from imagekit import contract
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    DockerfileContext,
    arguments,
    base_may_differ,
    commands,
    env_pairs,
    own_instructions,
    package_manager_installs,
    pip_install_args,
    pip_requirements,
    runs,
)

if TYPE_CHECKING:
    from imagekit.dockerfile.shell import Command

_NAME = re.compile(r"^[A-Za-z0-9_.-]+")
# A word that names an MPI built or placed by hand: Open MPI or MPICH (a download URL, a tarball, a directory such
# as /opt/amazon/openmpi/bin, a variable such as $OMPI_VERSION, ${OPENMPI_VERSION} or OPEN_MPI_PATH), mpirun (a
# wrapper around it), or one of Open MPI's own OMPI_* settings.
MPI_NAME = re.compile(r"open[-_]?mpi|mpich|mpirun|\bompi_", re.I)
# sshd settings (keywords lower-case: sshd reads them case-insensitively) whose values refuse the root key logins
# the MPI launcher makes; forced-commands-only lets root run only the command authorized_keys names, never orted.
REFUSING = {"permitrootlogin": ("no", "forced-commands-only"), "pubkeyauthentication": ("no",)}


def refuses(keyword: str, value: str) -> bool:
    """Whether sshd's *keyword* set to *value* refuses the launcher's root key logins."""
    return value.lower() in REFUSING.get(keyword.lower(), ())


def mpi_by_hand(ctx: DockerfileContext) -> bool:
    """The final image's own instructions build or place an MPI by hand, as AWS's images do (download Open MPI,
    set OMPI_* and put /opt/amazon/openmpi/bin on PATH): read from RUN words (redirect targets and assignments
    too), ENV names and values, and ARG names."""
    for ins in own_instructions(ctx.dockerfile.final_image_stages(), "RUN", "ENV", "ARG"):
        if ins.keyword == "RUN":
            words = []
            for cmd in commands(ins):
                install = package_manager_installs(cmd)
                packages = set(install[1]) if install else set()  # a package is no MPI by hand: libopenmpi-dev
                words += [word for word in (*cmd.assignments, *cmd.argv, *cmd.redirects) if word not in packages]
        elif ins.keyword == "ENV":
            words = [part for name, value, _ in env_pairs(ins) for part in (name, value)]
        else:
            words = [word.partition("=")[0] for word in arguments(ins)]
        if any(MPI_NAME.search(word) for word in words):
            return True
    return False


# A refusing setting inside text a RUN writes (`echo "PermitRootLogin no" >> ...`, a sed expression).
_WRITTEN_SETTING = re.compile(r"\b(%s)(?:\s*=\s*|\s+)\"?([\w-]+)" % "|".join(REFUSING), re.I)
# A sed `s` command where a command may start (the script's start, after `;`, a line break, a brace, `!` or an
# address), ending where the next command may: only its replacement reaches the file.
_SED_SUBSTITUTE = re.compile(r"(?:^|(?<=[;{}!\s/$\d]))s([^\w\s\\])(?:\\.|(?!\1)[^\\])*\1((?:\\.|(?!\1)[^\\])*)\1"
                             r"\w*(?=\s*(?:[;}]|$))", re.S | re.M)


def refused_setting(cmds: Iterable[Command]) -> str | None:
    """The first refusing sshd setting, as `Keyword value`, in the text *cmds* write: the lines echo and printf
    print (their words joined, as echo joins them), the replacements of a sed script's `s` commands, any other
    word whole. A setting on a line that is a comment to sshd (`#` first) refuses nothing."""
    for cmd in cmds:
        args = cmd.argv[1:]
        if cmd.program in ("echo", "printf"):
            texts = " ".join(args).split("\\n")  # echo -e and printf turn `\n` into a line break
        elif cmd.program == "sed":
            texts = [text for word in args
                     for text in ([found.group(2) for found in _SED_SUBSTITUTE.finditer(word)] or [word])]
        else:
            texts = list(args)
        for text in texts:
            for setting in _WRITTEN_SETTING.finditer(text):
                if refuses(setting.group(1), setting.group(2)) and not _commented(text, setting.start()):
                    return f"{setting.group(1)} {setting.group(2)}"
    return None


def _commented(text: str, start: int) -> bool:
    """Whether the setting at *start* is behind a `#`: first on its line, or right before it (`echo '#...`)."""
    before = text[text.rfind("\n", 0, start) + 1:start]
    return before.lstrip().startswith("#") or before.rstrip().endswith("#")


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
    base = final.lineage()[-1].external_base or ""
    mpi_base = bool(MPI_NAME.search(base)) or "horovod" in base.lower()  # a base that brings MPI and sshd itself
    packages = installed(ctx)
    mpi = [(ins, name) for ins, name in packages
           if name.startswith(contract.MPI_APT_PREFIXES) or name in contract.MPI_PIP_NAMES]
    by_hand = mpi_by_hand(ctx)
    if not (mpi or mpi_base or by_hand):
        return  # sshd is started for MPI jobs only
    if contract.LABEL_GENERATOR not in final.labels:  # imagekit's runtime starts sshd with its own config
        for ins, cmds in runs(ctx.dockerfile.final_image_stages()):
            refused = refused_setting(cmds)
            if refused:
                yield Problem(f"Sets sshd's `{refused}`: the MPI launcher logs in to every host as root with a key.",
                              ins.line, ins.column)
    if not mpi or mpi_base or base_may_differ(final):
        return  # no MPI package, or a base that may bring mpirun and sshd itself
    ins, first = mpi[0]
    names = {name for _, name in packages}
    missing = [] if contract.SSHD_APT_PACKAGE in names else [contract.SSHD_APT_PACKAGE]
    if not names & set(contract.MPIRUN_APT_PROVIDERS) and not by_hand:
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
    "sagemaker-training's sshd reads the image's own config, so in an MPI image PermitRootLogin no (or "
    "forced-commands-only) or PubkeyAuthentication no there fails the same way, once the job is multi-host "
    "(imagekit's runtime starts sshd with a config of its own, so its images are not judged on theirs). A "
    "Dockerfile is checked for what it installs itself (bases it cannot see, such as AWS's, are skipped) and, when "
    "it shows MPI, for a RUN that writes such a setting (echo, printf, the replacements of a sed script; `#` "
    "comments excluded); a built image with MPI for the programs and for its sshd config, read as sshd reads it "
    f"({contract.SSHD_CONFIG} and the files it Includes from {contract.SSHD_CONFIG_DIR}; first value wins; Match "
    "blocks count only when they surely apply to root).",
    fix="Install openmpi-bin (or mpich) and openssh-server in the final stage (`distribution: mpi` in imagekit.yaml "
    "does), and keep sshd's PermitRootLogin at prohibit-password or yes and PubkeyAuthentication on.",
    check=check,
    example_bad="FROM python:3.11-slim-bookworm\nRUN pip install --no-cache-dir mpi4py==4.0.3\n",
    example_good="FROM python:3.11-slim-bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends "
    "openmpi-bin=4.1.4-3+b1 openssh-server=1:9.2p1-2+deb12u7 && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*\n"
    "RUN pip install --no-cache-dir mpi4py==4.0.3\n",
)
