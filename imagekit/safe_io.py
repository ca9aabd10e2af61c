"""Reading user-named files without hanging, exhausting memory or leaving the project.

`/dev/zero` never ends and a FIFO with no writer blocks forever, so both are refused before any read; files
`render` copies into a build context must resolve (symlinks followed) to regular files inside the project; a
report or model a command writes must not land on one of its inputs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, Mapping

from imagekit.contract import Limits
from imagekit.errors import ImagekitError, LimitExceeded


def read_regular(path: Path, what: str, limit: str | None = None) -> bytes:
    """The bytes of *path* if it is a regular file (of at most ``Limits.<limit>`` bytes); OSError passes through."""
    cap = getattr(Limits, limit) if limit else -1
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # even opening a FIFO must not block
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ImagekitError(f"{path} is not a regular file (a device, FIFO or socket); imagekit reads a {what} "
                                "only from a regular file.", "Pass or keep only regular files there.")
        data = stream.read(cap + 1 if limit else -1)
    if limit and len(data) > cap:
        raise LimitExceeded(str(path), f"the size of this {what}", limit, cap)
    return data


def check_inside(root: Path, path: Path, what: str) -> Path:
    """*path* with symlinks resolved, refused unless it is *root* or inside it: a link in a cloned project must
    not carry files from elsewhere on the machine into a build context."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    if real != base and base not in real.parents:
        raise ImagekitError(f"The {what} {path} resolves to {real}, outside the project directory {base}.",
                            "imagekit copies only files inside the project into the build context: move the file "
                            "into the project instead of linking to it.")
    return real


def read_inside(root: Path, path: Path, what: str) -> tuple[bytes, int]:
    """(bytes, permission bits) of a regular file that resolves inside *root*."""
    real = check_inside(root, path, what)
    try:
        data = read_regular(real, what)
        return data, real.stat().st_mode
    except OSError as error:
        raise ImagekitError(f"Cannot read the {what} {path}: {error.strerror or error}.",
                            "Check that it exists and is readable.") from None


def refuse_overwriting_inputs(outputs: Mapping[str, Path | None],
                              inputs: Mapping[str, Iterable[str | Path | None]], example: str = "") -> None:
    """Refuse, before anything is read or written, an output file that is one of the command's inputs (the same
    file, also through a symlink or a hard link) or another output: a report written over the Dockerfile it
    checks destroys the user's file, and a tab-completion slip on a CI command line is all it takes.

    *outputs* maps each output flag to its path (None: not given); *inputs* maps how to name each kind of input
    ("a Dockerfile being linted") to its paths, files or directories (an existing file below an input directory is
    refused too); ``-`` (standard input) and paths that do not exist are skipped.
    *example* completes the hint ("lint.sarif").
    """
    given = [(flag, path) for flag, path in outputs.items() if path is not None]
    for index, (flag, output) in enumerate(given):
        hint = f"Name another file for {flag}{', such as ' + example if example else ''}."
        for other_flag, other in given[index + 1:]:
            if os.path.abspath(output) == os.path.abspath(other) or _same_file(output, other):  # not written yet
                raise ImagekitError(f"{flag} {output} and {other_flag} {other} are the same file: one would "
                                    "overwrite the other.", hint)
        for what, paths in inputs.items():
            for path in paths:
                if path is None or str(path) == "-":
                    continue
                if _same_file(output, path):
                    shown = "" if str(path) == str(output) else f" ({path})"
                    raise ImagekitError(f"{flag} {output} is {what}{shown}: writing there would destroy it.", hint)
                if os.path.lexists(output) and _inside(output, path):
                    raise ImagekitError(f"{flag} {output} is a file inside {what} ({path}): writing there would "
                                        "destroy it.", hint)


def _inside(output: str | Path, directory: str | Path) -> bool:
    """*output* lies below the input *directory* (symlinks resolved): an existing file there is one the job reads
    (a channel's data, the shipped code, a transform input); a new report beside them harms nothing."""
    try:
        where, root = Path(output).resolve(), Path(directory).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return root.is_dir() and root in where.parents


def _same_file(first: str | Path, second: str | Path) -> bool:
    """Both name one existing file (symlinks followed, hard links included)."""
    try:
        return os.path.samefile(first, second)
    except (OSError, ValueError):  # one does not exist (yet), or a NUL in a name
        return False
