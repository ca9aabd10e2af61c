"""Byte counts as people read them (decimal units, like `docker images`)."""

from __future__ import annotations

import re

from imagekit.errors import ImagekitError

_SIZE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """A size as people write it in a spec or config: 2GB, 800MiB, 1.5 GB."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?) ?([KMG]i?B|B)", text)
    if not match:
        raise ImagekitError(f"Size {text!r} is not understood.", "Write it like 2GB or 800MiB.")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
