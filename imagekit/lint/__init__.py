"""Linters: one pipeline (`run`) over the Dockerfile and image drivers, with the shared core, config, pragmas and
reporters.

    >>> from imagekit.lint import LintOptions, Target, run
    >>> result = run(["Dockerfile"], LintOptions(fail_on="error"))

The names below load on first use, so importing a lint submodule (`imagekit lint` start-up) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LintOptions", "LintRun", "Target", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from imagekit.lint import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
