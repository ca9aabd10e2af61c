"""Which files of the user's code dir go into the image (a .dockerignore subset: globs, dir/ prefixes).

Patterns come from built-in defaults, the project's own .dockerignore and the spec's code.exclude; a
pattern without ``/`` matches at any depth (like .gitignore), one with ``/`` is anchored at the code dir.
Negations (``!``) are not supported and are skipped.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from imagekit.render.context import CONTEXT_MARKER
from imagekit.spec import Spec

DEFAULT_EXCLUDES = (".git", ".hg", ".imagekit", "__pycache__", "*.pyc", ".venv", "venv", ".mypy_cache",
                    ".pytest_cache", ".ipynb_checkpoints", ".DS_Store", ".dockerignore", ".pre-commit-config.yaml")


def _patterns(spec: Spec) -> list[str]:
    ignore_file = spec.code_dir / ".dockerignore"
    project = ignore_file.read_text().splitlines() if ignore_file.is_file() else []
    found = [*DEFAULT_EXCLUDES, *project, *spec.code_exclude]
    return [p.strip().strip("/") for p in found if p.strip() and not p.lstrip().startswith(("#", "!"))]


def _excluded(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        pattern = pattern.removeprefix("./")
        if "/" in pattern:
            if any(fnmatchcase(prefix, pattern) for prefix in prefixes):
                return True
        elif any(fnmatchcase(part, pattern) for part in parts):
            return True
    return False


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
        if not _excluded(relative, patterns):
            plan[relative] = path
    return plan
