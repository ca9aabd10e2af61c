"""IK299: an ignore pragma that ignores nothing, names an unknown rule or cannot be read."""

from __future__ import annotations

from typing import Iterator

from imagekit.lint.core import Problem, Rule, Severity
from imagekit.lint.rules.dockerfile._common import ALL_PROFILES, DockerfileContext


def check(ctx: DockerfileContext) -> Iterator[Problem]:
    """Reported by the driver after suppression (imagekit.lint.pragmas.apply_pragmas); nothing to do here."""
    return iter(())


RULE = Rule(
    code="IK299",
    name="useless-ignore-pragma",
    severity=Severity.INFO,
    profiles=ALL_PROFILES,
    target="dockerfile",
    summary="An `# imagekit ignore=` pragma suppresses nothing, names an unknown rule or is malformed.",
    rationale="Stale ignores hide future problems on that line; misspelt ones give a false sense of "
    "silence. Pragmas for rules that did not run (other profile, ignored in config) are not reported.",
    fix="Remove the pragma or correct the rule id.",
    check=check,
    example_bad="FROM python:3.11-slim\n# imagekit ignore=IK202 -- pinned elsewhere\nRUN echo hi\n",
    example_good="# imagekit ignore=IK202 -- the CI job resolves latest to a digest\nFROM python:latest\n",
)
