"""The spec's requirements file and every file it names with -r/-c (recursively), for deps/user/ in the context.

pip resolves ``-r``/``-c``/``--requirement``/``--constraint`` paths relative to the file that names them, so
the files are copied under ``deps/user/`` at their paths relative to the project directory (the spec's
directory): the references work unchanged in the builder and for the host's ``pip download``. A reference
to a missing file or one outside the project is refused naming ``file:line``; http(s) URLs are left to pip.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from imagekit.errors import ImagekitError
from imagekit.safe_io import read_inside
from imagekit.spec import Spec

USER_DEPS = "user"  # deps/user/<path relative to the project>
_OPTIONS = ("-r", "-c", "--requirement", "--constraint")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _references(text: str) -> list[tuple[int, str, str]]:
    """(line number, option, path) of every -r/-c line, with pip's continuation lines and comments."""
    found, logical, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not logical:
            start = number
        line = re.sub(r"(^|\s+)#.*$", "", raw)
        if line.endswith("\\"):
            logical += line[:-1]
            continue
        words, logical = (logical + line).split(), ""
        if not words:
            continue
        first = words[0]
        for option in _OPTIONS:
            if first == option and len(words) > 1:
                found.append((start, option, words[1]))
            elif option.startswith("--") and first.startswith(option + "="):
                found.append((start, option, first[len(option) + 1:]))
            elif not option.startswith("--") and first.startswith(option) and len(first) > 2:
                found.append((start, option, first[2:]))
    return found


def requirement_files(spec: Spec) -> dict[str, Path]:
    """posix path relative to the project → source file: the requirements file and what it includes."""
    if spec.requirements_file is None:
        return {}
    root = spec.root.resolve()
    top = PurePosixPath(spec.requirements_file.relative_to(root).as_posix())
    found: dict[str, Path] = {}
    pending = [top]
    while pending:
        relative = pending.pop()
        if str(relative) in found:
            continue
        source = root / relative
        found[str(relative)] = source
        text = read_inside(root, source, "requirements file")[0].decode("utf-8", errors="replace")
        for number, option, reference in _references(text):
            if _URL.match(reference) and not reference.startswith("file:"):
                continue  # pip fetches http(s) requirement files itself
            where = f"{source}:{number}: {option} {reference}"
            target = os.path.normpath(os.path.join(str(relative.parent), reference))
            if _URL.match(reference) or os.path.isabs(reference) or target.split(os.sep)[0] == "..":
                raise ImagekitError(f"{where}: the file is outside the project directory {root}.",
                                    "Only files inside the project are copied into the build context: move it "
                                    f"into {root} and name it by a path relative to {source.name}.")
            if not (root / target).is_file():
                raise ImagekitError(f"{where}: no such file ({root / target}).",
                                    f"Create it or fix the path; it is relative to {source.parent}.")
            pending.append(PurePosixPath(PurePosixPath(*Path(target).parts).as_posix()))
    return dict(sorted(found.items()))
