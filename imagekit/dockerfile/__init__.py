"""Dockerfiles as a clean model: ``parse``/``load`` return a :class:`Dockerfile` of stages and instructions.

The names below load on first use, so a module that needs only `imagekit.dockerfile.shell` (the image linter's
IK101) does not import the parser and dockerfile-parse.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Comment", "Dockerfile", "Heredoc", "Instruction", "Stage", "SyntaxProblem", "load", "parse"]
_PARSER = ("load", "parse")


def __getattr__(name: str) -> Any:
    if name in __all__:
        from imagekit.dockerfile import model, parser

        return getattr(parser if name in _PARSER else model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
