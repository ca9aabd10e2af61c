"""IK310: TLS certificate verification switched off."""

from __future__ import annotations

import re
from typing import Iterator

from imagekit.dockerfile.expand import key_values
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext, commands, own_instructions

_ENV = {"GIT_SSL_NO_VERIFY": None, "PYTHONHTTPSVERIFY": "0", "NODE_TLS_REJECT_UNAUTHORIZED": "0",
        "CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": ""}
_TEXT = re.compile(r"sslverify\s*[= ]\s*(false|0)|\[trusted=yes\]|strict-ssl\s+false|verify_ssl\s*[= ]\s*false"
                   r"|--allow-unauthenticated|--allow-untrusted|--nogpgcheck|--no-check-certificate", re.I)


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    df = ctx.dockerfile
    for ins in own_instructions(df.stages, "RUN", "ENV"):
        if ins.keyword == "ENV":
            for key, value in key_values(ins.text, ins.variables, df.escape):
                if key in _ENV and (_ENV[key] is None or value.strip() == _ENV[key]):
                    yield Problem(f"ENV {key}={value} turns off certificate verification for everything the "
                                  "image runs.", ins.line, ins.column)
            continue
        reason = _insecure(ins)
        if reason:
            yield Problem(f"{reason} turns off certificate or signature verification.", ins.line, ins.column)


def _insecure(ins) -> str | None:
    for cmd in commands(ins):
        if cmd.program == "curl" and any(w in ("-k", "--insecure") or re.fullmatch(r"-[a-zA-Z]*k[a-zA-Z]*", w)
                                         for w in cmd.argv[1:]):
            return "curl --insecure"
        match = _TEXT.search(" ".join(cmd.argv))
        if match:
            return f"`{match.group(0)}`"
    return None


RULE = Rule(
    code="IK310",
    name="tls-verification-disabled",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="curl -k, wget --no-check-certificate, sslVerify=false, [trusted=yes], PYTHONHTTPSVERIFY=0 and friends.",
    rationale="Turning off verification is the usual workaround for a TLS-intercepting proxy, and it lets "
    "anyone on the path substitute packages, models or scripts. In ENV it also weakens every request the "
    "running job makes.",
    fix="Install the proxy's CA certificate (e.g. COPY it into /usr/local/share/ca-certificates and run "
    "update-ca-certificates) instead of disabling verification.",
    check=check,
    example_bad="FROM debian:12\nRUN curl -kfsSLo /tmp/x.tgz https://example.com/x.tgz\n",
    example_good="FROM debian:12\nRUN curl -fsSLo /tmp/x.tgz https://example.com/x.tgz\n",
)
