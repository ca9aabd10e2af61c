"""What a `pip install -r FILE` in a Dockerfile installs, read from the build context when the file is there.

IK104 asks whether an install puts `train`/`serve` on PATH. A requirements file the Dockerfile COPYs from the
build context (the Dockerfile's directory) can be read; one made by a RUN, copied from another stage, named by a
variable or a URL cannot, and then the install may provide anything.
"""

from __future__ import annotations

import glob
import posixpath
import re
from pathlib import Path

from imagekit.dockerfile.model import Instruction
from imagekit.lint.rules.dockerfile._common import copy_destination, copy_paths, mounts

# `name`, `name[extra]`, `name>=1`, `name @ url`, `name; marker`: a requirement that names its package.
_NAMED = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?:[@<>=!~;(]|$)")
# A requirement that is not a plain name: a local path, archive or wheel, a URL or VCS link, a variable.
OPAQUE_REQUIREMENT = re.compile(r"^(?:[./~$]|[a-z][a-z0-9+.-]*:)|\.(?:whl|tar\.gz|tgz|zip)$", re.I)
_REQUIREMENT_OPTION = re.compile(r"^(?:-r|--requirement)(?:=(.*)|(\S+))?$")
_OPAQUE_LINE_OPTION = re.compile(r"^(?:-e|--editable)\b")
_MAX_NESTING = 10  # -r inside requirements files; pip itself has no limit, a cycle must not hang the lint


def package_name(requirement: str) -> str | None:
    """The normalised (PEP 503) package a requirement names, None for a path, URL or wheel."""
    if OPAQUE_REQUIREMENT.search(requirement.split("@")[0].strip()) or not (match := _NAMED.match(requirement)):
        return None
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirement_files(args: list[str]) -> list[str]:
    """The FILE of every `-r FILE`, `-rFILE`, `--requirement FILE`, `--requirement=FILE` of a pip install."""
    files = []
    for index, word in enumerate(args):
        match = _REQUIREMENT_OPTION.match(word)
        if match:
            following = args[index + 1] if index + 1 < len(args) else ""
            files.append(match.group(1) if match.group(1) is not None else match.group(2) or following)
    return [f for f in files if f]


def listed_packages(file: str, ins: Instruction, before: list[Instruction], context: Path | None) -> set[str] | None:
    """The packages the requirements *file* (as the RUN *ins* names it) lists, through nested `-r`; None when it
    cannot be read from the build *context*, or it installs something unnamed (`-e .`, a path, a URL)."""
    if context is None or "$" in file or "://" in file:
        return None
    found = _context_file(posixpath.normpath(posixpath.join(ins.workdir or "/", file)), ins, before, context)
    return _read(found, context.resolve(), 0) if found else None


def _read(path: Path, context: Path, depth: int) -> set[str] | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    names: set[str] = set()
    for line in re.sub(r"\\\r?\n", "", text).splitlines():
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        nested = _REQUIREMENT_OPTION.match(line.split()[0]) if line else None
        if not line or line.startswith(("-c", "--constraint")):
            continue
        if nested:
            file = nested.group(1) or nested.group(2) or (line.split()[1] if len(line.split()) > 1 else "")
            inner = (path.parent / file).resolve()
            listed = _read(inner, context, depth + 1) \
                if depth < _MAX_NESTING and inner.is_relative_to(context) and "$" not in file else None
            if listed is None:
                return None
            names |= listed
        elif _OPAQUE_LINE_OPTION.match(line) or "${" in line:
            return None
        elif not line.startswith("-"):  # other options (--index-url, --hash=...) install nothing by themselves
            name = package_name(line)
            if name is None:
                return None
            names.add(name)
    return names


def _context_file(target: str, ins: Instruction, before: list[Instruction], context: Path) -> Path | None:
    """The build-context file that is at *target* in the image when *ins* runs: bind-mounted by *ins* itself, or
    put there by the last COPY/ADD (of *before*) that wrote it. None when another stage, an archive or a URL put
    it there, or nothing the Dockerfile shows did."""
    for mount in mounts(ins):
        if mount["type"] == "bind" and "from" not in mount and mount.get("target"):
            found = _placed(context, [mount.get("source", mount.get("src", "."))], mount["target"], False, target)
            if found is not False:
                return found
    for copy in reversed(before):
        if copy.keyword not in ("COPY", "ADD") or (dest := copy_destination(copy)) is None:
            continue
        sources = copy_paths(copy)[:-1]
        if copy.flag("from") or any("://" in s or s.startswith("<<") for s in sources):
            if target == dest or target.startswith(dest.rstrip("/") + "/"):
                return None
            continue
        found = _placed(context, sources, dest, copy_paths(copy)[-1].endswith("/") or len(sources) > 1, target)
        if found is not False:
            return found if found is None or copy.keyword == "COPY" or not _is_archive(found) else None
    return None


def _placed(context: Path, sources: list[str], dest: str, into_directory: bool, target: str) -> Path | None | bool:
    """The context file a copy of *sources* to *dest* puts at *target*; False when it puts nothing there, None
    when it may but the source is not in the context."""
    dest = "/" + posixpath.normpath(dest).lstrip("/")
    root = context.resolve()
    for source in sources:
        matches = sorted(glob.glob(glob.escape(str(root)) + "/" + source.lstrip("/"))) \
            if glob.has_magic(source) else [str(root / source.lstrip("/"))]
        for match in map(Path, matches):
            if not match.resolve().is_relative_to(root):
                continue
            if match.is_dir():
                if target.startswith(dest.rstrip("/") + "/"):
                    inside = match / posixpath.relpath(target, dest)
                    return inside if inside.is_file() and inside.resolve().is_relative_to(root) else None
            elif target == posixpath.join(dest, match.name) or (target == dest and not into_directory):
                # (`COPY requirements.txt .` puts it into the WORKDIR: a destination may be an existing directory)
                return match if match.is_file() else None
    return False


def _is_archive(path: Path) -> bool:
    """ADD unpacks a local archive instead of copying it."""
    return bool(re.search(r"\.(?:tar|tar\.\w+|tgz|tbz2?|txz)$", path.name))
