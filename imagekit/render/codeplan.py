"""Which files of the user's code dir go into the image (a .dockerignore subset: globs, dir/ prefixes).

Patterns come from built-in defaults, the project's own .dockerignore and the spec's code.exclude; a
pattern without ``/`` matches at any depth (like .gitignore), one with ``/`` is anchored at the code dir.
Negations (``!``) are not supported and are skipped.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from imagekit.errors import ImagekitError
from imagekit.render.context import CONTEXT_MARKER
from imagekit.spec import Spec

DEFAULT_EXCLUDES = (".git", ".hg", ".imagekit", "__pycache__", "*.pyc", ".venv", "venv", ".mypy_cache",
                    ".pytest_cache", ".ipynb_checkpoints", ".DS_Store", ".dockerignore", ".pre-commit-config.yaml")


def _sourced_patterns(spec: Spec) -> list[tuple[str, str]]:
    """(pattern, where it comes from), in the order they apply."""
    ignore_file = spec.code_dir / ".dockerignore"
    project = (ignore_file.read_bytes().decode("utf-8", errors="replace").splitlines() if ignore_file.is_file()
               else [])
    found = [*((p, "the built-in excludes") for p in DEFAULT_EXCLUDES),
             *((p, f"{ignore_file}") for p in project), *((p, "code.exclude") for p in spec.code_exclude)]
    return [(p.strip().strip("/"), source) for p, source in found
            if p.strip() and not p.lstrip().startswith(("#", "!"))]


def _patterns(spec: Spec) -> list[str]:
    return [pattern for pattern, _source in _sourced_patterns(spec)]


def _matches(relative: str, pattern: str) -> bool:
    parts = relative.split("/")
    pattern = pattern.removeprefix("./")
    if "/" in pattern:
        return any(fnmatchcase("/".join(parts[: i + 1]), pattern) for i in range(len(parts)))
    return any(fnmatchcase(part, pattern) for part in parts)


def _excluded(relative: str, patterns: list[str]) -> bool:
    return any(_matches(relative, pattern) for pattern in patterns)


def left_out(spec: Spec, relative: str) -> str:
    """Why plan_code leaves the file *relative* (to the code dir) out of the image, in words."""
    path = spec.code_dir / relative
    for pattern, source in _sourced_patterns(spec):
        if _matches(relative, pattern):
            return f"the pattern {pattern!r} of {source} excludes it"
    parents = [path, *path.parents]
    link = next((p for p in parents if p.is_symlink() and spec.code_dir in p.parents), None)
    if link is not None:
        return f"{link} is a symbolic link, and imagekit copies no symbolic links"
    if path == spec.path:
        return "it is the spec itself"
    rendered = next((p for p in path.parents if (p / CONTEXT_MARKER).exists() and spec.code_dir in [p, *p.parents]),
                    None)
    return f"it is inside {rendered}, a context imagekit rendered" if rendered else "it is not a regular file"


def plan_code(spec: Spec, skip: tuple[Path, ...] = ()) -> dict[str, Path]:
    """relative posix path → source file, sorted; the spec file, *skip* dirs and rendered contexts are left out."""
    patterns = _patterns(spec)
    rendered = {marker.parent for marker in spec.code_dir.rglob(CONTEXT_MARKER)}
    skipped = {p.resolve() for p in skip} | {spec.path} | rendered
    plan: dict[str, Path] = {}
    for path in sorted(spec.code_dir.rglob("*")):
        if path.is_dir() or path.is_symlink() or any(s == path or s in path.parents for s in skipped):
            continue
        relative = path.relative_to(spec.code_dir).as_posix()
        if _excluded(relative, patterns):
            continue
        if not path.is_file():  # a FIFO would block the copy forever; a device could be endless
            raise ImagekitError(f"{path} in the code directory is not a regular file (a FIFO, socket or device).",
                                "Remove it, or exclude it with code.exclude or .dockerignore.")
        plan[relative] = path
    return plan
