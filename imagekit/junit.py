"""JUnit XML, the one writer smoke and lint reports share: every text goes through here, so a log line with a
NUL, a colour code or an invalid byte (common in exactly the runs that failed) never makes the report a file
Jenkins or GitLab refuse. Characters XML 1.0 forbids are written as visible escapes (\\x01), ANSI sequences dropped."""

from __future__ import annotations

import re

# CSI (colours, cursor moves), OSC (titles, links) and two-character escapes, as terminals read them.
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Everything outside XML 1.0's Char production: C0 controls but tab/LF/CR, lone surrogates, U+FFFE and U+FFFF.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """*text* with ANSI sequences removed and each character XML cannot hold written as a visible escape."""
    return NOT_XML.sub(lambda found: repr(found.group())[1:-1], ANSI.sub("", text))


def text(value: str) -> str:
    """Element content."""
    return clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr(value: str) -> str:
    """A quoted attribute value (newlines and tabs kept as character references)."""
    from xml.sax.saxutils import quoteattr  # lazy: `imagekit lint` only pays for it when it writes JUnit

    return quoteattr(clean(value))


def testcase(classname: str, name: str, *, failure: tuple[str, str, str] | None = None, output: str | None = None,
             indent: str = "  ", skipped: str | None = None) -> list[str]:
    """One <testcase>: *failure* is (type, message, body); *output* goes to its system-out; *skipped*: why it was
    not run."""
    opening = f"{indent}<testcase classname={attr(classname)} name={attr(name)}"
    if failure is None and output is None and skipped is None:
        return [opening + "/>"]
    lines = [opening + ">"]
    if skipped is not None:
        lines.append(f"{indent}  <skipped message={attr(skipped)}/>")
    if failure is not None:
        kind, message, body = failure
        lines.append(f"{indent}  <failure type={attr(kind)} message={attr(message)}>{text(body)}</failure>")
    if output is not None:
        lines.append(f"{indent}  <system-out>{text(output)}</system-out>")
    return [*lines, f"{indent}</testcase>"]
