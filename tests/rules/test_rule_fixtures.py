"""Every rule against its fixtures: tests/rules/IKnnn/bad.Dockerfile (with `# expect:` markers) and good.Dockerfile."""

from __future__ import annotations

import pytest

from imagekit.lint.core import load_rules
from rules.helpers import FIXTURES, expected_lines, rule_lines

CODES = sorted(load_rules("dockerfile"))


@pytest.mark.parametrize("code", CODES)
def test_bad_fixture_reports_exactly_the_marked_lines(code: str) -> None:
    text = (FIXTURES / code / "bad.Dockerfile").read_text()
    expected = expected_lines(code, text)
    if code != "IK200":  # a syntax error fixture has one finding and no room for more
        assert expected, f"{code}/bad.Dockerfile has no `# expect: {code}` marker"
    assert rule_lines(code, text) == expected


@pytest.mark.parametrize("code", CODES)
def test_good_fixture_is_clean(code: str) -> None:
    text = (FIXTURES / code / "good.Dockerfile").read_text()
    assert rule_lines(code, text) == []
    assert rule_lines("IK200", text) == [], "a good fixture must be one BuildKit builds, or the rule never ran on it"


@pytest.mark.parametrize("code", CODES)
def test_documented_examples_behave(code: str) -> None:
    rule = load_rules("dockerfile")[code]
    assert rule_lines(code, rule.example_bad), "example_bad must trigger the rule"
    assert rule_lines(code, rule.example_good) == [], "example_good must not trigger the rule"
