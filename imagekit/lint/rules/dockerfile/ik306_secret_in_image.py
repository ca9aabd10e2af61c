"""IK306: a credential written into ENV, ARG or LABEL (or a RUN line)."""

from __future__ import annotations

from typing import Iterator

from imagekit.dockerfile.expand import Expander, key_values
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext
from imagekit.lint.secrets import holds_secret_by_name, secret_value


class _References(dict):
    """Expands every variable to its own reference, so `ENV HF_TOKEN=$HF_TOKEN` keeps `$HF_TOKEN`."""

    def get(self, name, default=None):
        return f"${name}"


_KEEP_REFERENCES = _References()


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    df = ctx.dockerfile
    for ins in df.instructions:
        if ins.keyword in ("ENV", "LABEL", "ARG"):
            if ins.keyword == "ARG":
                raw_pairs = [(w.partition("=")[0], w.partition("=")[2])
                             for w in Expander(_KEEP_REFERENCES).words(ins.text)]
            else:
                raw_pairs = key_values(ins.text, _KEEP_REFERENCES, df.escape)
            for key, raw in raw_pairs:
                if holds_secret_by_name(key, raw) and (ins.keyword != "ARG" or "$" not in raw):
                    source = "the build arg it references" if "$" in raw else "a literal value"
                    yield Problem(f"{ins.keyword} {key} stores {source} in the image config, where anyone who can "
                                  "pull the image can read it.", ins.line, ins.column)
                    break
            else:  # a secret-looking value (an AWS key, a token) under any name
                if what := next(filter(None, (secret_value(f"{key}={raw}") for key, raw in raw_pairs)), None):
                    yield Problem(f"{ins.keyword} contains {what}.", ins.line, ins.column)
        elif ins.keyword == "RUN" and (what := secret_value(ins.source)):
            yield Problem(f"RUN contains {what}; it stays in the image history.", ins.line, ins.column)


RULE = Rule(
    code="IK306",
    name="secret-in-image",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="A credential (AWS key, HF_TOKEN, API key, a URL's password...) is baked into ENV, LABEL, an ARG default "
    "or a RUN.",
    rationale="ENV and LABEL values live in the image config, ARG values and RUN lines in its history: "
    "`docker inspect`/`docker history` shows them to anyone who can pull from the ECR repository. On "
    "SageMaker, credentials come from the execution role; tokens belong in secrets. A value is a credential by its "
    "name (HF_TOKEN, *_PASSWORD, *_API_KEY...) or by its form (an AWS key id, an hf_/ghp_/sk- token, a URL with a "
    "password); on/off switches are not (a value of 0/1/true/false/yes/no/on/off, or a name such as "
    "HF_HUB_DISABLE_IMPLICIT_TOKEN that disables, enables or skips a credential). IK530 is a different check on "
    "built images: credential files in any layer, where this rule reads values written into ENV, LABEL, ARG and RUN"
    " text.",
    fix="Remove it and rotate the credential; at build time use RUN --mount=type=secret, at run time the "
    "execution role or Secrets Manager.",
    check=check,
    example_bad="FROM python:3.11-slim\nENV HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123456789\n",
    example_good="FROM python:3.11-slim\nRUN --mount=type=secret,id=hf_token HF_TOKEN=$(cat /run/secrets/hf_token) "
    "python -c 'print(1)'\n",
)
