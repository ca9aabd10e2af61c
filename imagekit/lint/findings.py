"""Turn a rule's Problems into Findings under the user's configuration (shared by both lint drivers)."""

from __future__ import annotations

from typing import Iterable

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
