"""IK506: the program SageMaker starts is neither an ELF binary nor a script whose first bytes are `#!`."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import File, ImageExample
from imagekit.image.fs import Entry
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import (
    SAGEMAKER_PROFILES,
    ImageContext,
    is_executable_by,
    shebang,
    started_programs,
)

ELF_MAGIC, SHEBANG, UTF8_BOM = b"\x7fELF", b"#!", b"\xef\xbb\xbf"


def check(ctx: ImageContext) -> Iterator[Problem]:
    image = ctx.image
    for mode, path, entry in started_programs(ctx):
        if not is_executable_by(entry, image):
            continue  # IK104's case
        why = unexecutable(entry)
        if why:
            yield Problem(f"{path} (started by `{mode}`) {why}: the kernel refuses to execute it (`exec format "
                          "error`), and the job or endpoint fails at once.", path=path)
            continue
        words = shebang(entry)
        if words:  # the kernel executes the `#!` program itself, so it must start like a program too
            where, found, _ = image.which(words[0])
            if found is not None and is_executable_by(found, image) and (why := unexecutable(found)):
                yield Problem(f"{path} (started by `{mode}`) names the interpreter {where} in its `#!` line, which "
                              f"{why}: the kernel refuses to execute the script (`exec format error`).", path=where)


def unexecutable(entry: Entry) -> str | None:
    """Why execve would fail with ENOEXEC on this regular file, or None (it starts like an ELF binary or a `#!`
    script, or its first bytes were not kept, so nothing is known).

    Only the first bytes count: the kernel looks for the ELF magic or `#!` at offset 0 (binfmt_misc handlers
    aside, which no SageMaker host registers for this); unlike a shell, it never falls back to running the file
    with /bin/sh.
    """
    head = entry.head
    if not head:
        return "is empty" if entry.size == 0 else None
    if head.startswith(ELF_MAGIC):
        return None
    if head.startswith(SHEBANG):
        return None if head[2:].split(b"\n", 1)[0].strip(b" \t") else "has a `#!` line that names no interpreter"
    if head.startswith(UTF8_BOM + SHEBANG):
        return "starts with a UTF-8 byte-order mark before `#!`, so the kernel does not see the `#!` line"
    if head.lstrip(b" \t\r\n").startswith(SHEBANG):
        return "has blank space or lines before `#!`, so the kernel does not see the `#!` line"
    return "is neither an ELF binary nor a script starting with `#!`"


RULE = Rule(
    code="IK506",
    name="exec-format-error",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="The program SageMaker starts (or its `#!` interpreter) is neither an ELF binary nor starts with `#!`.",
    rationale="The container runtime starts `train`/`serve` with execve, which runs only ELF binaries and files "
    "whose first two bytes are `#!`; a shell would fall back to running anything else as a shell script, the "
    "runtime does not. A script written by `RUN echo ... > train`, an empty file, or one an editor saved with a "
    "byte-order mark or a blank line before `#!` fails with `exec format error` before any code runs.",
    fix="Make `#!` the very first bytes (for example `#!/bin/sh` or `#!/usr/bin/env python3` on line 1, saved "
    "as UTF-8 without a BOM), or start the program through its interpreter in ENTRYPOINT.",
    check=check,
    example_bad=ImageExample(files={"usr/local/bin/serve": File("echo serving\nexec python3 -m app\n", mode=0o755)}),
    example_good=ImageExample(files={"usr/local/bin/serve": "#!/bin/sh\necho serving\nexec python3 -m app\n"}),
)
