"""Shared `--check` handling for the generated reference docs (docs/rules.md, docs/spec.md)."""

from __future__ import annotations

import sys
from pathlib import Path


def print_or_check(text: str, argv: list[str], default_path: str, module: str) -> int:
    """Print *text*, or with ``--check [PATH]`` exit 1 when PATH (default *default_path*) differs from it."""
    if argv[:1] != ["--check"]:
        sys.stdout.write(text)
        return 0
    path = argv[1] if len(argv) > 1 else default_path
    try:
        current = Path(path).read_text(encoding="utf-8")
    except OSError:
        current = None
    if current != text:
        sys.stderr.write(f"{path} is out of date: run `python -m {module} > {path}`.\n")
        return 1
    return 0
