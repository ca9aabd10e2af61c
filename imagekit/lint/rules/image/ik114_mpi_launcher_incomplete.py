"""IK114, the image implementation: an image with MPI (libmpi, mpi4py, Horovod, mpirun) but without mpirun or
sshd on the standard paths, or whose sshd config refuses root key logins, read the way sshd reads it (unless the
image runs imagekit's runtime, whose sshd reads a config of its own).

Name, severity, docs and examples are the Dockerfile rule's: one check, one id, whichever of the two is linted.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from dataclasses import replace
from typing import Iterator, NamedTuple

from imagekit import contract
from imagekit.contract import Limits
from imagekit.errors import LimitExceeded
from imagekit.image.example import ImageExample, elf
from imagekit.image.fs import FILE, ImageFS
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


_SSHD_LINE = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(.*)")


def sshd_setting(line: str) -> tuple[str, list[str]] | None:
    """(keyword as written, arguments) of one sshd_config line, split as sshd does (the keyword ends at blanks or
    one `=`; double quotes group; `#` starts a comment); None for blank lines, comments and bare words."""
    match = _SSHD_LINE.match(line)
    if match is None:
        return None
    try:
        words = shlex.split(match.group(2), comments=True)
    except ValueError:  # an unbalanced quote: sshd refuses the file; its words still say what was meant
        words = match.group(2).split()
    return match.group(1), words


INCLUDE_DEPTH = 16  # how deep sshd follows Include lines (SERVCONF_MAX_DEPTH)


class Setting(NamedTuple):
    keyword: str  # as written
    value: str  # its first argument
    path: str  # the file that sets it


def sshd_refusal(image: ImageFS) -> Setting | None:
    """The setting by which the image's sshd config refuses root key logins, read as sshd reads it:
    keywords and values in any case, `#` comments, the first value of a keyword wins, Include files (globs in
    lexical order, relative to /etc/ssh) read where they stand. A Match block restricts: what it sets counts
    only when it surely applies to the launcher's logins (`Match all`, `Match User` patterns that take root),
    and then it wins over the global value, as in sshd. Files whose bodies the image index does not keep (larger
    than Limits.SSHD_CONFIG_BYTES, or outside /etc/ssh/sshd_config*) are skipped."""
    reader = _ConfigReader(image)
    reader.read(str(contract.SSHD_CONFIG))
    for keyword in dockerfile_rule.REFUSING:
        setting = reader.found.get((True, keyword)) or reader.found.get((False, keyword))
        if setting and dockerfile_rule.refuses(keyword, setting.value):
            return setting
    return None


class _ConfigReader:
    """Reads one image's sshd config files with bounded work, however hostile the image.

    Each file is read once and Includes nest at most as deep as sshd allows; each Include pattern is expanded
    once per scope (a second Include of it names only files already read); and the directory entries patterns
    are matched against plus the files they name count against Limits.SSHD_INCLUDE_NAMES, beyond which the
    image is refused (LimitExceeded). So drop-ins that include each other cost one read each.
    """

    def __init__(self, image: ImageFS) -> None:
        self.image = image
        self.found: dict[tuple[bool, str], Setting] = {}  # (in a Match for root, keyword lower-cased) -> first value
        self.done: set[str] = set()  # files read (as named and as resolved)
        self.expanded: set[tuple[str, bool]] = set()  # (Include pattern, scope) already followed
        self.names_left = Limits.SSHD_INCLUDE_NAMES

    def read(self, path: str, scope: bool = False, depth: int = 0) -> None:
        """Record the first value of each setting IK114 judges, globally and in Match blocks that take root.

        *scope* is where the file's lines start (an Include inside a Match block is part of it; a Match inside an
        included file ends with that file).
        """
        if depth > INCLUDE_DEPTH or path in self.done:
            return
        resolved, entry, _ = self.image.resolve(path)
        body = self.image.small_files.get(resolved.lstrip("/")) if entry is not None and entry.kind == FILE else None
        if body is None or resolved in self.done:
            return
        self.done.update((path, resolved))
        state: bool | None = scope  # False: global; True: a Match that applies to root; None: one that may not
        for line in body.decode("utf-8", "replace").splitlines():
            setting = sshd_setting(line)
            if setting is None:
                continue
            keyword, args = setting[0].lower(), setting[1]
            if keyword == "match":
                state = True if _matches_root(args) else None
            elif state is None:
                continue
            elif keyword == "include":
                for pattern in args:
                    self.include(posixpath.join(str(contract.SSHD_CONFIG.parent), pattern), state, depth + 1)
            elif args and keyword in dockerfile_rule.REFUSING:
                self.found.setdefault((state, keyword), Setting(setting[0], args[0], path))

    def include(self, pattern: str, scope: bool, depth: int) -> None:
        if (pattern, scope) in self.expanded:
            return
        self.expanded.add((pattern, scope))
        for included in self._matches(pattern):
            self.read(included, scope, depth)

    def _matches(self, pattern: str) -> list[str]:
        """The files an Include pattern names, as glob(3) lists them: sorted, `*` not matching a leading dot; only
        the last component may be a pattern (sshd's own configs never use more)."""
        directory, name = posixpath.split(pattern)
        if not any(char in name for char in "*?["):
            self._spend(1)
            return [pattern]
        found, entry, _ = self.image.resolve(directory)
        children = self.image.children.get(found.strip("/"), ()) if entry is not None else ()
        self._spend(len(children))
        names = sorted(child for child in map(posixpath.basename, children)
                       if fnmatch.fnmatchcase(child, name) and (name.startswith(".") or not child.startswith(".")))
        self._spend(len(names))
        return [posixpath.join(directory, child) for child in names]

    def _spend(self, names: int) -> None:
        self.names_left -= names
        if self.names_left < 0:
            raise LimitExceeded(self.image.name, "the work of following sshd's Include lines (directory entries "
                                "matched and files named)", "SSHD_INCLUDE_NAMES", Limits.SSHD_INCLUDE_NAMES)


def _matches_root(criteria: list[str]) -> bool:
    """Whether a Match line surely applies to root's logins: `all`, or only `User` criteria whose pattern list
    takes root (comma-separated wildcards, `!` excludes); any other criterion depends on the connection."""
    if [word.lower() for word in criteria] == ["all"]:
        return True
    if not criteria or len(criteria) % 2 or any(name.lower() != "user" for name in criteria[::2]):
        return False
    return all(_pattern_list_takes("root", patterns) for patterns in criteria[1::2])


def _pattern_list_takes(name: str, patterns: str) -> bool:
    """sshd's match_pattern_list: a negated pattern that matches refuses, else any pattern that matches takes."""
    taken = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        if fnmatch.fnmatchcase(name, pattern[negated:]):
            if negated:
                return False
            taken = True
    return taken


def runs_imagekit_runtime(image: ImageFS) -> bool:
    """Whether the image's train is imagekit's runtime, which starts sshd with a complete config of its own
    (`sshd -f`, root key logins allowed), so the image's /etc/ssh is never read."""
    return str(contract.RUNTIME_CONFIG_FILE).lstrip("/") in image.entries


def check(ctx: ImageContext) -> Iterator[Problem]:
    marker = mpi_marker(ctx)
    if marker is None:
        return  # sshd is started for MPI jobs only
    refusal = None if runs_imagekit_runtime(ctx.image) else sshd_refusal(ctx.image)
    if refusal is not None:
        yield Problem(f"{refusal.path} sets sshd's `{refusal.keyword} {refusal.value}`: the MPI launcher logs in "
                      "to every host as root with a key.", path=refusal.path)
    if not exists(ctx, (str(contract.SSHD),)):
        yield Problem(f"{marker} is MPI, but {contract.SSHD} is missing: the MPI launcher starts it on every host.",
                      path=marker)
    if not exists(ctx, tuple(f"{d}/{n}" for d in BIN_DIRS for n in MPIRUN_NAMES)):
        yield Problem(f"{marker} is MPI, but there is no mpirun on the standard paths.", path=marker)


MPI4PY = "opt/venv/lib/python3.11/site-packages/mpi4py/__init__.py"  # the examples' MPI marker
SSHD_CONFIG = str(contract.SSHD_CONFIG)[1:]
# An MPI image with mpirun and sshd, whose sshd reads Debian's Include line and one file it includes.
MPI_IMAGE = {MPI4PY: "", "usr/bin/mpirun": elf(), str(contract.SSHD)[1:]: elf(),
             SSHD_CONFIG: f"Include {contract.SSHD_CONFIG_DIR}/*.conf\nKbdInteractiveAuthentication no\n"}
INCLUDED = f"{str(contract.SSHD_CONFIG_DIR)[1:]}/mpi.conf"

RULE = replace(dockerfile_rule.RULE, target="image", check=check,
               example_bad=ImageExample(files={**MPI_IMAGE, INCLUDED: "PermitRootLogin no\n"}),
               example_good=ImageExample(files={**MPI_IMAGE, INCLUDED: "PermitRootLogin prohibit-password\n"}))
