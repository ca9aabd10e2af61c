"""IK502: a script SageMaker starts names an interpreter that is not in the image."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import ImageExample
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import (
    SAGEMAKER_PROFILES,
    ImageContext,
    interpreter,
    is_executable_by,
    shebang,
    started_programs,
)


def check(ctx: ImageContext) -> Iterator[Problem]:
    image = ctx.image
    for mode, path, entry in started_programs(ctx):
        words = shebang(entry)
        if not words or words[0].endswith("\r"):
            continue  # not a script, or IK503's CRLF case
        name, _, found, why = interpreter(image, words)
        if found is None or not is_executable_by(found, image):
            yield Problem(f"{path} (started by `{mode}`) needs the interpreter {name!r} from its `#!` line, "
                          f"which does not resolve in the image: {why or 'not executable'}.", path=path)


RULE = Rule(
    code="IK502",
    name="interpreter-not-found",
    severity=Severity.ERROR,
    profiles=SAGEMAKER_PROFILES,
    target="image",
    summary="A script SageMaker starts has a `#!` interpreter (or `/usr/bin/env X` program) missing from the image.",
    rationale="The kernel reports a missing interpreter as `no such file or directory` for the script itself, "
    "one of the most confusing container failures. Common causes: `#!/usr/bin/python` on an image that only has "
    "python3, or a virtualenv path from the build stage that the final stage never copied.",
    fix="Point the `#!` line at an interpreter that exists in the final image (for example "
    "`#!/usr/bin/env python3` with the venv's bin on PATH).",
    check=check,
    example_bad=ImageExample(files={"usr/local/bin/serve": "#!/usr/bin/python\nprint(1)\n"}),
    example_good=ImageExample(files={"usr/local/bin/serve": "#!/usr/bin/env python3\nprint(1)\n"}),
)
