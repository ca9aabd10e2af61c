"""The sandboxed Jinja2 environment and the quoting filters every spec value goes through.

Templates are data the user may edit, and spec values are user input: the immutable sandbox stops
templates from reaching Python internals, StrictUndefined turns a typo into an error instead of an empty
string, and each place a value lands in a Dockerfile has its own filter:

* ``sh``   — one shell word (RUN lines), via shlex.quote;
* ``dq``   — a double-quoted Dockerfile ENV/LABEL value (``\\``, ``"`` and ``$`` escaped);
* ``exec`` — a JSON array for exec-form ENTRYPOINT/CMD.

All three refuse newlines and NULs, which would start a new Dockerfile instruction.
"""

from __future__ import annotations

import json
import shlex
from functools import lru_cache
from typing import Any, Iterable

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from imagekit.errors import ImagekitError
from imagekit.resources import templates_dir


def _single_line(value: Any) -> str:
    text = str(value)
    if any(c in text for c in "\r\n\x00"):
        raise ImagekitError(f"Refusing to render {text!r}: it contains a line break or NUL.",
                            "Values that reach the Dockerfile must be single-line; fix the spec.")
    return text


def shell_quote(value: Any) -> str:
    return shlex.quote(_single_line(value))


def dockerfile_quote(value: Any) -> str:
    text = _single_line(value).replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{text}"'


def exec_form(values: Iterable[Any]) -> str:
    return json.dumps([_single_line(v) for v in values])


@lru_cache(maxsize=None)
def environment(directory: str | None = None) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(directory or str(templates_dir())),
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(sh=shell_quote, dq=dockerfile_quote, exec=exec_form)
    return env
