"""Run one rule over Dockerfile text, through the real driver (pragmas, profiles, config)."""

from __future__ import annotations

import re
from pathlib import Path

from imagekit.lint.config import LintConfig
from imagekit.lint.core import load_rules
from imagekit.lint.dockerfile_lint import lint_text

FIXTURES = Path(__file__).parent
# docker.io trusted so IK203 has something to compare with; no other rule reads it.
CONFIG = LintConfig(trusted_registries=("docker.io",))
_EXPECT = re.compile(r"^\s*#\s*expect:\s*(IK\d{3})\s*$")


def rule_lines(code: str, text: str, profile: str | None = None) -> list[int]:
    """Lines where *code* reports. Without *profile*, a rule that never runs in `generic` uses its first
    profile unless the text chooses one with `# imagekit profile=`."""
    rule = load_rules("dockerfile")[code]
    if profile is None and "imagekit profile=" not in text and "generic" not in rule.profiles:
        profile = rule.profiles[0]
    return sorted(f.line for f in lint_text(text, config=CONFIG, profile=profile) if f.rule == code)


def expected_lines(code: str, text: str) -> list[int]:
    """`# expect: IK123` marks the next line that is not itself a marker."""
    lines = text.split("\n")
    expected = []
    for number, line in enumerate(lines, 1):
        match = _EXPECT.match(line)
        if match and match.group(1) == code:
            target = number + 1
            while target <= len(lines) and _EXPECT.match(lines[target - 1]):
                target += 1
            expected.append(target)
    return sorted(expected)


def assert_flags(code: str, text: str, lines: list[int], profile: str | None = None) -> None:
    assert rule_lines(code, text, profile) == sorted(lines)


def assert_clean(code: str, text: str, profile: str | None = None) -> None:
    assert rule_lines(code, text, profile) == []
