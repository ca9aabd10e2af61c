"""IK309: code downloaded at build time and run without a checksum or signature check."""

from __future__ import annotations

import posixpath
import re
from typing import Iterator

from imagekit.dockerfile.model import Instruction
from imagekit.dockerfile.shell import SHELLS, Command
from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import (
    ALL_PROFILES,
    DockerfileContext,
    commands,
    copy_paths,
    with_triggers,
)

_INTERPRETERS = re.compile(r"^(sh|bash|zsh|dash|ash|ksh|python[\d.]*|perl|ruby|node)$")
_URL = re.compile(r"^(https?|ftp)://", re.I)
_SUBSTITUTED_DOWNLOAD = re.compile(r"(\$\(|`)\s*(curl|wget)\b")
# Commands that check what was downloaded: checksums, signatures.
_CHECKSUMS = frozenset({"sha256sum", "sha512sum", "sha384sum", "sha1sum", "shasum", "md5sum", "b2sum", "gpgv",
                        "minisign", "signify"})


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    for stage in ctx.dockerfile.stages:
        unverified_adds: dict[str, str] = {}  # path -> URL of an ADD without --checksum in this stage
        for ins in with_triggers(stage):
            if ins.keyword == "ADD" and not ins.flag("checksum"):
                unverified_adds.update(_added_urls(ins))
            elif ins.keyword == "RUN":
                problem = _run_problem(ins, commands(ins), unverified_adds)
                if problem:
                    yield Problem(problem, ins.line, ins.column)


def _run_problem(ins: Instruction, cmds: list[Command], added: dict[str, str]) -> str | None:
    if any(_verifies(cmd) for cmd in cmds):
        return None  # a checksum or signature is checked in this RUN
    downloaded = dict(added)  # path -> where it came from
    for first, second in zip(cmds, cmds[1:], strict=False):
        if first.piped and first.program in ("curl", "wget") and _INTERPRETERS.match(second.program):
            return (f"{first.program} output is piped into {second.program}: whatever the server sends runs as "
                    "root, unverified.")
    for cmd in cmds:
        if cmd.program in SHELLS and any(_SUBSTITUTED_DOWNLOAD.search(word) for word in cmd.argv[1:]):
            return f"{cmd.program} runs a script fetched by command substitution, unverified."
        downloaded.update(_downloads(cmd))
        ran = _executed(cmd, downloaded)
        if ran:
            source = downloaded[ran].split("$(", 1)[0] + ("..." if "$(" in downloaded[ran] else "")
            return (f"{ran} is downloaded from {source} and run by {cmd.program} without a checksum or "
                    "signature check: whatever the server sends runs as root.")
    return None


def _verifies(cmd: Command) -> bool:
    """A checksum or signature check (`gpg --dearmor` imports a key; it verifies nothing)."""
    if cmd.program in _CHECKSUMS:
        return True
    if cmd.program in ("gpg", "gpg2"):
        return cmd.has("--verify") or any(word.startswith("--verify") for word in cmd.argv)
    if cmd.program in ("cosign", "openssl", "sigstore"):
        return any(word.startswith("verify") or word == "dgst" for word in cmd.argv[1:2])
    return False


def _added_urls(ins: Instruction) -> dict[str, str]:
    parts = copy_paths(ins)
    urls = [p for p in parts[:-1] if _URL.match(p)]
    if not urls:
        return {}
    dest = parts[-1]
    if len(urls) > 1 or dest.endswith("/"):
        return {posixpath.join(dest, _basename(url)): url for url in urls}
    return {dest: urls[0]}


def _downloads(cmd: Command) -> dict[str, str]:
    """Files curl or wget write: -o/--output FILE, -O (the URL's name), wget URL (its name), wget -O FILE."""
    if cmd.program not in ("curl", "wget"):
        return {}
    argv = cmd.argv[1:]
    urls = [word for word in argv if _URL.match(word)]
    if not urls:
        return {}
    output = None
    for i, word in enumerate(argv):
        if cmd.program == "curl" and word in ("-o", "--output") and i + 1 < len(argv):
            output = argv[i + 1]
        elif cmd.program == "wget" and word in ("-O", "--output-document") and i + 1 < len(argv):
            output = argv[i + 1]
        elif word.startswith(("--output=", "--output-document=")):
            output = word.split("=", 1)[1]
        elif cmd.program == "curl" and re.fullmatch(r"-[a-zA-Z]*o\S+", word):  # -ofile, -sSLofile
            output = word[word.index("o") + 1:]
    if output in ("-", "/dev/stdout"):
        return {}
    if output:
        return {output: urls[0]}
    if cmd.program == "wget" or any(re.fullmatch(r"-[a-zA-Z]*O[a-zA-Z]*|--remote-name", w) for w in argv):
        return {_basename(url): url for url in urls}
    return {}


def _executed(cmd: Command, downloaded: dict[str, str]) -> str | None:
    """The downloaded file this command runs: as the program itself, or as the script of an interpreter."""
    if not downloaded:
        return None
    candidates = [cmd.argv[0]]
    if _INTERPRETERS.match(cmd.program):
        script = next((word for word in cmd.argv[1:] if not word.startswith("-")), None)
        if script is not None and not (cmd.program.startswith("python") and "-m" in cmd.argv[1:2]):
            candidates.append(script)
    for candidate in candidates:
        for path in downloaded:
            if _same_file(candidate, path):
                return path
    return None


def _same_file(used: str, downloaded: str) -> bool:
    if "$" in used or "$" in downloaded:
        return False
    if used.startswith("/") and downloaded.startswith("/"):
        return posixpath.normpath(used) == posixpath.normpath(downloaded)
    return posixpath.basename(used) == posixpath.basename(downloaded) != ""


def _basename(url: str) -> str:
    return posixpath.basename(url.split("?", 1)[0].split("#", 1)[0].rstrip("/"))


RULE = Rule(
    code="IK309",
    name="remote-code-unverified",
    severity=Severity.WARNING,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="Downloaded code runs unverified: `curl | sh`, `wget x && python x`, or `ADD URL` then run it.",
    rationale="The installer can change between builds or be replaced in transit; nothing records which "
    "version ran, and it runs as root. Conda/uv/rustup installers and get-pip.py are common culprits in ML "
    "images. A RUN that checks a checksum or signature (sha256sum, gpg --verify, cosign) and an ADD with "
    "--checksum are not reported.",
    fix="Download a pinned version to a file, verify its checksum (sha256sum -c) or signature, then run it; or "
    "ADD --checksum=sha256:... the file.",
    check=check,
    example_bad="FROM debian:12\nRUN wget https://bootstrap.pypa.io/get-pip.py && python3 get-pip.py\n",
    example_good="FROM debian:12\nRUN curl -fsSLo /tmp/i.sh https://example.com/v1.2/install.sh "
    "&& echo '0123abcd  /tmp/i.sh' | sha256sum -c && sh /tmp/i.sh\n",
)
