"""IK200: the file cannot be parsed the way BuildKit would."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    error = ctx.dockerfile.error
    if error is not None:
        yield Problem(error.message, error.line, error.column)


RULE = Rule(
    code="IK200",
    name="dockerfile-syntax-error",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="The Dockerfile cannot be parsed (BuildKit would refuse it); no other rule runs.",
    rationale="Unknown instructions (often a missing line continuation), instructions before the first FROM, "
    "an escape directive other than \\ or `, unterminated heredocs, instructions missing their arguments "
    "(`USER`, `COPY a`, `ONBUILD`, `ENV a=b c`), options BuildKit does not know (`RUN --bogus`), an unclosed "
    "quote or `${` in the words BuildKit expands (`ENV PATH=\"/opt/bin:$PATH`), `COPY --from=$VAR`, invalid "
    "stage names or upper-case image names in FROM, ports that are "
    "not ports, unknown STOPSIGNAL names, malformed HEALTHCHECK lines, UTF-16 or CR-only files and lines over "
    "65,535 bytes stop `docker build`. Linting the rest would report noise, so this is the only finding for "
    "such a file and `imagekit lint` exits 2.",
    fix="Fix the line named in the message; `docker build` reports the same problem.",
    check=check,
    example_bad="FROM python:3.11-slim\nRUN apt-get update &&\n    apt-get install -y curl\n",
    example_good="FROM python:3.11-slim\nRUN apt-get update && \\\n    apt-get install -y curl\n",
)
