"""IK503: a script SageMaker starts has Windows line endings on its `#!` line."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import SAGEMAKER_PROFILES, ImageContext, started_programs


def check(ctx: ImageContext) -> Iterator[Problem]:
    for mode, path, entry in started_programs(ctx):
        first_line = entry.head.split(b"\n", 1)[0]
        if entry.head.startswith(b"#!") and first_line.endswith(b"\r"):
            interpreter = (first_line[2:].decode("utf-8", "replace").split() or [""])[-1]  # `#!\r` names none
            yield Problem(f"{path} (started by `{mode}`) ends its `#!` line with CR LF: the kernel looks for an "
                          f"interpreter named {interpreter!r} with a "
                          "trailing carriage return.", path=path)


RULE = Rule(
    code="IK503",
    name="crlf-shebang",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="A script SageMaker starts has a CRLF `#!` line, so its interpreter is never found.",
    rationale="Scripts committed from Windows (or with git's autocrlf) keep `\\r` at the end of the `#!` line; "
    "the container then fails with `/usr/bin/env: 'python3\\r': No such file or directory`.",
    fix="Convert the script to LF line endings (`.gitattributes: * text=auto eol=lf`, or `sed -i 's/\\r$//'` "
    "in the Dockerfile).",
    check=check,
    example_bad=ImageExample(files={"usr/local/bin/serve": "#!/usr/bin/env python3\r\nprint(1)\r\n"}),
    example_good=ImageExample(files={"usr/local/bin/serve": "#!/usr/bin/env python3\nprint(1)\n"}),
)
