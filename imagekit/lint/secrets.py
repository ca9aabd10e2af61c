"""Recognising secrets by name and by value (shared by the Dockerfile and image linters)."""

from __future__ import annotations

import re

# Names that hold credentials in ML stacks (AWS, Hugging Face, W&B, OpenAI...) and generic ones.
SECRET_NAME = re.compile(
    r"^(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN|HF_TOKEN|HUGGING_FACE_HUB_TOKEN|"
    r"HUGGINGFACE_HUB_TOKEN|HUGGINGFACE_TOKEN|WANDB_API_KEY|OPENAI_API_KEY|ANTHROPIC_API_KEY|COMET_API_KEY|"
    r"NEPTUNE_API_TOKEN|MLFLOW_TRACKING_PASSWORD|MLFLOW_TRACKING_TOKEN|GITHUB_TOKEN|GH_TOKEN|NGC_API_KEY|"
    r".*(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|SECRET_KEY|ACCESS_KEY|AUTH_KEY))$",
    re.I,
)
_NOT_SECRET_SUFFIX = re.compile(r"_(FILE|PATH|DIR|URL|URI|ENDPOINT|NAME|ID_FILE|LENGTH|TYPE)$", re.I)
# A name that switches a credential's use on or off (HF_HUB_DISABLE_IMPLICIT_TOKEN, NO_AUTH_TOKEN) names a flag.
_SWITCH_NAME = re.compile(r"(^|_)(DISABLED?|ENABLED?|NO|USE|SKIP|ALLOW|REQUIRED?)_", re.I)
# Values of an on/off switch: never a credential, whatever the name.
_SWITCH_VALUES = frozenset({"0", "1", "true", "false", "yes", "no", "on", "off"})
# Values that are credentials whatever they are called.
SECRET_VALUE = re.compile(
    r"\b(AKIA|ASIA)[0-9A-Z]{16}\b|\bhf_[A-Za-z0-9]{30,}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bsk-[A-Za-z0-9_-]{20,}\b"
)

# A literal password in a URL (https://user:pass@host); a $VARIABLE in its place is not a literal.
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@$]+@", re.I)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.match(name)) and not _NOT_SECRET_SUFFIX.search(name) and not _SWITCH_NAME.search(name)


def holds_secret_by_name(name: str, value: str) -> bool:
    """*name*=*value* stores a credential because of what it is called: a credential's name with a value that is
    neither empty nor an on/off switch (HF_TOKEN=hf_..., not HF_HUB_DISABLE_IMPLICIT_TOKEN=1)."""
    value = value.strip().strip("\"'").strip()
    return is_secret_name(name) and bool(value) and value.lower() not in _SWITCH_VALUES


def secret_value(text: str) -> str | None:
    """What kind of literal credential *text* holds, worded for a finding, or None."""
    if SECRET_VALUE.search(text):
        return "what looks like an access token or AWS key"
    if URL_PASSWORD.search(text):
        return "a URL with a password in it"
    return None
