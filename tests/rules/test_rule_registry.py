"""The rule catalogue is complete: metadata, docs and fixtures for every rule, ids in the agreed ranges."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagekit.lint.core import PROFILES, Severity, load_rules
from rules.helpers import FIXTURES

RULES = load_rules("dockerfile")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_there_are_at_least_thirty_rules() -> None:
    assert len(RULES) >= 30


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_metadata_is_complete(code: str) -> None:
    rule = RULES[code]
    assert re.fullmatch(r"IK[1-3]\d\d", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), "kebab-case name that states the bad thing"
    assert isinstance(rule.severity, Severity)
    assert rule.profiles and set(rule.profiles) <= set(PROFILES)
    assert rule.target == "dockerfile"
    for text in (rule.summary, rule.rationale, rule.fix, rule.example_bad, rule.example_good):
        assert text.strip()
    assert len(rule.summary) <= 120, "summary is one line"


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_has_fixtures_and_docs(code: str) -> None:
    assert (FIXTURES / code / "bad.Dockerfile").is_file()
    assert (FIXTURES / code / "good.Dockerfile").is_file()
    assert f"\n## {code}\n" in DOCS.read_text()


def test_contract_rules_are_sagemaker_profiled() -> None:
    for code, rule in RULES.items():
        if code.startswith("IK1"):
            assert "generic" not in rule.profiles or code == "IK110", code


def test_names_are_unique() -> None:
    names = [rule.name for rule in RULES.values()]
    assert len(names) == len(set(names))
