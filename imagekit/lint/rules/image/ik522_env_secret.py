"""IK522: a credential in the image config's environment."""

from __future__ import annotations

from typing import Iterator

from imagekit.image.example import EXAMPLE_PATH, ImageExample
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.image._common import ALL_PROFILES, ImageContext
from imagekit.lint.secrets import holds_secret_by_name, secret_value


def check(ctx: ImageContext) -> Iterator[Problem]:
    for key, value in sorted(ctx.image.env().items()):
        if holds_secret_by_name(key, value) or secret_value(value):
            yield Problem(f"ENV {key} holds a credential in the image config; anyone who can pull the image can "
                          "read it with `docker inspect`.")


RULE = Rule(
    code="IK522",
    name="secret-in-env",
    severity=Severity.ERROR,
    profiles=ALL_PROFILES,
    target="image",
    summary="The image config's Env contains a credential (AWS key, HF_TOKEN, API key, a URL's password...).",
    rationale="Image configs are readable by everyone with pull access to the repository, and are copied into "
    "every registry and cache the image passes through. Credentials are recognised as IK306 recognises them: by "
    "name or by form, and never an on/off switch (HF_HUB_DISABLE_IMPLICIT_TOKEN=1).",
    fix="Remove it from the image and rotate it; on SageMaker use the execution role or Secrets Manager.",
    check=check,
    example_bad=ImageExample(config={"Env": [EXAMPLE_PATH, "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123456789"]}),
    example_good=ImageExample(config={"Env": [EXAMPLE_PATH, "HF_HOME=/opt/hf", "HF_HUB_DISABLE_IMPLICIT_TOKEN=1",
                                              "HF_HUB_DISABLE_TOKEN=true"]}),
)
