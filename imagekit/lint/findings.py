"""Turn a rule's Problems into Findings under the user's configuration, and the per-target result (shared by
both lint drivers and the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from imagekit.contract import Limits
from imagekit.lint.config import LintConfig
from imagekit.lint.core import Finding, Problem, Rule, Severity


def to_findings(rule: Rule, problems: Iterable[Problem], *, file: str, config: LintConfig) -> list[Finding]:
    """Apply the config's ignore list and severity override; the rule's generic fix fills gaps."""
    if rule.code in config.ignored:
        return []
    severity = config.severity_of(rule)
    return [
        Finding(rule=rule.code, severity=severity, message=problem.message, file=file, line=problem.line,
                column=problem.column, path=problem.path, fix=problem.fix or rule.fix)
        for problem in problems
    ]


def fails(findings: Iterable[Finding], threshold: Severity | None) -> bool:
    """True when a finding reaches ``--fail-on`` (None means never fail)."""
    return threshold is not None and any(finding.severity >= threshold for finding in findings)


def sort_key(finding: Finding) -> tuple:
    return (finding.file, finding.line or 0, finding.column or 0, finding.path or "", finding.rule)


def capped(findings: list[Finding]) -> list[Finding]:
    """At most Limits.FINDINGS_PER_FILE findings (sorted), the rest folded into one summary finding that keeps the
    highest severity left out, so --fail-on still sees it and a 100,000-line file gives a readable report."""
    if len(findings) <= Limits.FINDINGS_PER_FILE:
        return findings
    kept, rest = findings[:Limits.FINDINGS_PER_FILE - 1], findings[Limits.FINDINGS_PER_FILE - 1:]
    worst = max(rest, key=lambda finding: finding.severity)
    rules = sorted({finding.rule for finding in rest})
    summary = (f"{len(rest):,} more findings ({', '.join(rules[:10])}{', ...' if len(rules) > 10 else ''}) are not "
               f"listed: imagekit reports at most {Limits.FINDINGS_PER_FILE:,} per file (limit FINDINGS_PER_FILE, "
               "docs/limits.md).")
    return [*kept, replace(rest[0], severity=worst.severity, message=summary,
                           fix="Fix the findings listed first, then lint again to see the rest.")]


@dataclass
class TargetResult:
    """The findings of one Dockerfile or image, judged by the fail-on of the config that applied to it."""

    file: str  # the Dockerfile path as given, or the image reference
    findings: list[Finding]
    profiles: frozenset[str]
    kind: str = "dockerfile"  # or "image"
    unparseable: bool = False  # a Dockerfile syntax error: exit code 2
    fail_on: Severity | None = Severity.WARNING  # the threshold of this target's config
    lines: tuple[str, ...] = ()  # a Dockerfile as parsed, for the text report's caret (stdin cannot be re-read)

    @property
    def failed(self) -> bool:
        return fails(self.findings, self.fail_on)
