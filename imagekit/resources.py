"""Locate the data imagekit ships: templates/ and schemas/.

In a wheel they live inside the package (imagekit/_data/...); in a source checkout or an editable
install they are the top-level folders of the repository. Nothing else should guess these paths.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def data_dir(name: str) -> Path:
    """The shipped folder *name* ("templates" or "schemas")."""
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"imagekit data folder {name!r} is missing from this installation")


def templates_dir() -> Path:
    return data_dir("templates")


def schemas_dir() -> Path:
    return data_dir("schemas")
