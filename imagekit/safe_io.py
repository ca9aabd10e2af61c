"""Reading user-named files without hanging or exhausting memory: regular files only, at most a budget of bytes.

`/dev/zero` never ends and a FIFO with no writer blocks forever, so both are refused before any read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from imagekit.contract import Limits
from imagekit.errors import ImagekitError, LimitExceeded


def read_regular(path: Path, what: str, limit: str) -> bytes:
    """The bytes of *path* if it is a regular file of at most ``Limits.<limit>`` bytes; OSError passes through."""
    cap = getattr(Limits, limit)
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # even opening a FIFO must not block
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ImagekitError(f"{path} is not a regular file (a device, FIFO or socket); imagekit reads a {what} "
                                "only from a regular file.", "Pass the path of the file itself.")
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise LimitExceeded(str(path), f"the size of this {what}", limit, cap)
    return data
