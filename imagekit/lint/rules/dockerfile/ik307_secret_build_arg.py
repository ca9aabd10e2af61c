"""IK307: a credential passed as a build arg."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, arguments
from imagekit.lint.secrets import is_secret_name


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword != "ARG":
            continue
        for word in arguments(ins):
            name, eq, value = word.partition("=")
            if is_secret_name(name) and not value:
                yield Problem(f"ARG {name}: build-arg values are recorded in the image history "
                              "(`docker history --no-trunc`).", ins.line, ins.column)


RULE = Rule(
    code="IK307",
    name="secret-build-arg",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="An ARG with a credential-like name (HF_TOKEN, AWS_SECRET_ACCESS_KEY, ...).",
    rationale="Build args used by a RUN are stored in the image history, so a token passed with --build-arg "
    "leaks to everyone who can pull the image (BuildKit's SecretsUsedInArgOrEnv).",
    fix="Use a BuildKit secret: RUN --mount=type=secret,id=hf_token ... "
    "and `docker build --secret id=hf_token,env=HF_TOKEN`.",
    check=check,
    example_bad="FROM python:3.11-slim\nARG HF_TOKEN\nRUN python download.py\n",
    example_good="FROM python:3.11-slim\nRUN --mount=type=secret,id=hf_token python download.py\n",
)
