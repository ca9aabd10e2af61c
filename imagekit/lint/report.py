"""Render findings as text, JSON, SARIF 2.1.0, JUnit XML or GitHub workflow commands.

Dockerfile findings have a file and line; image findings (``imagekit lint --image``) have the image as
``file``, no line, and a ``path`` inside the image.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from imagekit import __version__
from imagekit.lint.core import Finding, Rule, Severity

if TYPE_CHECKING:
    from imagekit.lint.pipeline import LintRun

FORMATS = ("text", "json", "sarif", "junit", "github")
RULES_DOC_URL = "https://github.com/imagekit/imagekit/blob/main/docs/rules.md"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.STYLE: "note"}
_EXCERPT_CHARS = 160  # a source line is cut after this many characters (or 40 past the caret)
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice",
                 Severity.STYLE: "notice"}


def help_uri(code: str) -> str:
    return f"{RULES_DOC_URL}#{code.lower()}"


def summarize(findings: Sequence[Finding], *, files: int, fail_on: Severity | None,
              failed: bool | None = None, images: int = 0) -> dict:
    """Counts per severity; *failed* (what the exit status says) defaults to "a finding reaches fail_on"."""
    counts = Counter(f.severity.label for f in findings)
    return {
        "files": files,
        "images": images,
        "findings": len(findings),
        **{severity.label: counts.get(severity.label, 0) for severity in sorted(Severity, reverse=True)},
        "fail_on": fail_on.label if fail_on else "none",
        "failed": (failed if failed is not None
                   else fail_on is not None and any(f.severity >= fail_on for f in findings)),
    }


def render(findings: Sequence[Finding], fmt: str, *, files: int | None = None, fail_on: Severity | None = None,
           failed: bool | None = None, rules: Mapping[str, Rule] | None = None, quiet: bool = False,
           source: Callable[[str], list[str] | None] | None = None, images: int = 0) -> str:
    """One report for all *findings* of *files* Dockerfiles and *images* images.

    *source(file)* returns a file's lines for the text format's caret.
    """
    files = files if files is not None else len({f.file for f in findings})
    summary = summarize(findings, files=files, fail_on=fail_on, failed=failed, images=images)
    if fmt == "text":
        return _text(findings, summary, quiet, source or _read_lines)
    if fmt == "json":
        data = {"findings": [f.as_dict() for f in findings], "summary": summary}
        return json.dumps(data, indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(_sarif(findings, rules if rules is not None else _all_rules()), indent=2) + "\n"
    if fmt == "junit":
        return _junit(findings)
    if fmt == "github":
        return "".join(_github(f) + "\n" for f in findings)
    raise ValueError(f"unknown format {fmt!r}")


def render_run(run: "LintRun", fmt: str, *, quiet: bool = False) -> str:
    """The report of one `imagekit.lint.run`: its findings, counts and exit decision."""
    return render(run.findings, fmt, files=run.dockerfiles, images=run.images, fail_on=run.fail_on,
                  failed=run.failed, quiet=quiet, source=run.source)


def _all_rules() -> Mapping[str, Rule]:
    from imagekit.lint.core import all_rules

    return all_rules()


def _targets(rule: Rule) -> list[str]:
    """Both targets for a check with a Dockerfile and an image implementation."""
    from imagekit.lint.core import implementations

    return [r.target for r in implementations(rule.code)] or [rule.target]


def _read_lines(file: str) -> list[str] | None:
    try:
        from imagekit.dockerfile.source import decode

        return decode(Path(file).read_bytes()).split("\n")
    except OSError:
        return None


def _text(findings: Sequence[Finding], summary: dict, quiet: bool, source: Callable[[str], list[str] | None]) -> str:
    out: list[str] = []
    cache: dict[str, list[str] | None] = {}
    for f in findings:
        if f.line is None:
            where = f"{f.file}: {f.path}" if f.path else f.file
            out.append(f"{where}: {f.severity.label} {f.rule}: {f.message}")
        else:
            out.append(f"{f.file}:{f.line}:{f.column or 1}: {f.severity.label} {f.rule}: {f.message}")
            if f.file not in cache:
                cache[f.file] = source(f.file)
            lines = cache[f.file]
            if lines and 0 < f.line <= len(lines):
                text = lines[f.line - 1].replace("\t", " ")
                offset = len(printable(text[:max((f.column or 1) - 1, 0)]))
                shown = printable(text)
                if len(shown) > max(offset, _EXCERPT_CHARS) + 40:
                    shown = shown[:max(offset, _EXCERPT_CHARS) + 40] + "…"
                gutter = f"{f.line:>5} | "
                out.append(gutter + shown)
                out.append(" " * (len(gutter) - 2) + "| " + " " * offset + "^")
        if f.fix and not quiet:
            out.append(f"      = fix: {f.fix}")
    if not quiet:
        counts = ", ".join(_count(summary[s.label], s) for s in sorted(Severity, reverse=True) if summary[s.label])
        checked = " and ".join(f"{n} {noun}{'s' if n != 1 else ''}" for n, noun in
                               ((summary["files"], "file"), (summary["images"], "image")) if n) or "0 files"
        out.append(f"{checked} checked: " + (counts if counts else "no findings") + ".")
    return "\n".join(map(printable, out)) + ("\n" if out else "")


def printable(text: str) -> str:
    """*text* with control and other invisible characters (ESC, CR, bidi overrides, NBSP) written as Python
    escapes, so a Dockerfile cannot drive the terminal or CI log it is reported to, and the culprit shows."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text)


def _count(number: int, severity: Severity) -> str:
    """"1 error", "3 warnings", "5 info", "2 style"."""
    plural = "s" if number != 1 and severity in (Severity.ERROR, Severity.WARNING) else ""
    return f"{number} {severity.label}{plural}"


def _sarif(findings: Sequence[Finding], rules: Mapping[str, Rule]) -> dict:
    used = sorted({f.rule for f in findings} | set(rules))
    index = {code: i for i, code in enumerate(used)}
    descriptors = []
    for code in used:
        rule = rules.get(code)
        descriptor: dict = {"id": code, "helpUri": help_uri(code)}
        if rule is not None:
            descriptor.update({
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.rationale},
                "help": {"text": f"{rule.rationale}\n\nFix: {rule.fix}",
                         "markdown": f"{rule.rationale}\n\n**Fix:** {rule.fix}"},
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                "properties": {"tags": [*_targets(rule), *rule.profiles]},
            })
        descriptors.append(descriptor)
    results = []
    for f in findings:
        result: dict = {"ruleId": f.rule, "ruleIndex": index[f.rule], "level": _SARIF_LEVEL[f.severity],
                        "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")}}
        if f.line is not None:
            region = {"startLine": f.line, **({"startColumn": f.column} if f.column else {})}
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": _uri(f.file)}, "region": region}}]
        else:
            name = f"{f.file}:{f.path}" if f.path else f.file
            result["locations"] = [{"logicalLocations": [{"name": f.path or f.file, "fullyQualifiedName": name,
                                                          "kind": "resource"}]}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "imagekit", "version": __version__, "informationUri": RULES_DOC_URL,
                                "rules": descriptors}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def _uri(file: str) -> str:
    """A URI reference: relative paths stay relative (GitHub code scanning resolves them against the
    checkout) and are percent-encoded; absolute ones become file:// URIs."""
    from urllib.parse import quote  # lazy, as in _junit

    path = Path(file)
    # errors=surrogateescape: a name that is not UTF-8 is quoted as its original bytes
    return path.as_uri() if path.is_absolute() else quote(path.as_posix(), safe="/", errors="surrogateescape")


def _junit(findings: Sequence[Finding]) -> str:
    from imagekit import junit  # lazy: text output never needs it

    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.file, []).append(f)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="imagekit lint" tests="{max(len(findings), 1)}" failures="{len(findings)}">']
    for file, items in by_file.items():
        out.append(f'  <testsuite name={junit.attr(file)} tests="{len(items)}" failures="{len(items)}">')
        for f in items:
            where = f"{file}:{f.line}" if f.line is not None else f"{file}: {f.path or ''}".rstrip(": ")
            out += junit.testcase(file, f"{f.rule} {where}", failure=(f.severity.label, f.message, f.fix or ""),
                                  indent="    ")
        out.append("  </testsuite>")
    if not findings:
        out.append('  <testsuite name="imagekit lint" tests="1" failures="0">')
        out += junit.testcase("imagekit", "no findings", indent="    ")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def _github(f: Finding) -> str:
    props = [f"file={_gh_property(printable(f.file))}"]
    if f.line is not None:
        props.append(f"line={f.line}")
        if f.column:
            props.append(f"col={f.column}")
    props.append(f"title={_gh_property(printable(f.rule + (' ' + f.path if f.path else '')))}")
    return f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_data(printable(f.message))}"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")
