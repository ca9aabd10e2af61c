"""IK114, the image implementation: an image with MPI (libmpi, mpi4py, Horovod, mpirun) but without mpirun or
sshd on the standard paths. (sshd_config's body is not in the image index, so its settings are checked on the
Dockerfile only.)

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from typing import Iterator

from imagekit import contract
from imagekit.image.example import ImageExample, elf
from imagekit.lint.core import Problem
from imagekit.lint.rules.dockerfile import ik114_mpi_launcher_incomplete as dockerfile_rule
from imagekit.lint.rules.image._common import ImageContext, paths_ending

MPIRUN_NAMES = ("mpirun", "mpiexec", "orterun")
BIN_DIRS = ("/usr/bin", "/usr/local/bin", "/opt/venv/bin", "/usr/local/mpi/bin", "/opt/amazon/openmpi/bin")
PACKAGE_DIRS = ("site-packages", "dist-packages")


# Where to look for MPI markers: libmpi, or an mpi4py/Horovod package (the exact names are checked below).
MARKER_ENDS = (re.compile(r"libmpi\.so[^/\n]*$", re.MULTILINE),
               re.compile(r"-packages/(?:%s)$" % "|".join(map(re.escape, contract.MPI_PIP_NAMES)), re.MULTILINE))


def mpi_marker(ctx: ImageContext) -> str | None:
    """A path that shows the image runs MPI: libmpi, an mpi4py or Horovod package, or an mpirun."""
    launchers = [f"{directory}/{name}".lstrip("/") for directory in BIN_DIRS for name in MPIRUN_NAMES]
    found = [path for path in paths_ending(ctx.image, *MARKER_ENDS) if _is_marker(path)]
    found += [path for path in launchers if path in ctx.image.entries]
    return "/" + min(found) if found else None


def _is_marker(path: str) -> bool:
    directory, name = posixpath.split(path)
    return name.startswith("libmpi.so") or (posixpath.basename(directory) in PACKAGE_DIRS
                                            and name in contract.MPI_PIP_NAMES)


def exists(ctx: ImageContext, paths: tuple[str, ...]) -> bool:
    return any(ctx.image.resolve(path)[1] is not None for path in paths)


def check(ctx: ImageContext) -> Iterator[Problem]:
    marker = mpi_marker(ctx)
    if marker is None:
        return
    if not exists(ctx, (str(contract.SSHD),)):
        yield Problem(f"{marker} is MPI, but {contract.SSHD} is missing: the MPI launcher starts it on every host.",
                      path=marker)
    if not exists(ctx, tuple(f"{d}/{n}" for d in BIN_DIRS for n in MPIRUN_NAMES)):
        yield Problem(f"{marker} is MPI, but there is no mpirun on the standard paths.", path=marker)


MPI4PY = "opt/venv/lib/python3.11/site-packages/mpi4py/__init__.py"  # the examples' MPI marker

RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(files={MPI4PY: ""}),
               example_good=ImageExample(files={MPI4PY: "", "usr/bin/mpirun": elf(), str(contract.SSHD)[1:]: elf()}))
