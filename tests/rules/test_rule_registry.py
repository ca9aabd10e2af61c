"""The rule catalogue is complete: metadata, docs and fixtures for every rule, ids in the agreed ranges."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from imagekit.lint.core import PROFILES, Severity, load_rules
from rules.helpers import FIXTURES

RULES = load_rules("dockerfile")
REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs" / "rules.md"


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


def test_every_fixture_directory_belongs_to_a_rule() -> None:
    """A renamed or deleted rule must take its fixtures along (they would silently never run)."""
    directories = {path.name for path in FIXTURES.iterdir() if path.is_dir() and path.name.startswith("IK")}
    assert directories == set(RULES)


def test_every_rule_module_defines_a_loaded_rule() -> None:
    modules = [path.stem for path in (REPO_ROOT / "imagekit" / "lint" / "rules" / "dockerfile").glob("ik*.py")]
    assert sorted(m.split("_", 1)[0].upper() for m in modules) == sorted(RULES)


def test_committed_rules_reference_is_the_generated_one() -> None:
    """docs/rules.md is generated from the rule modules; regenerate with the command in the message."""
    generated = subprocess.run([sys.executable, "-m", "imagekit.lint.docs"], capture_output=True, text=True,
                               check=True, cwd=REPO_ROOT).stdout
    assert DOCS.read_text(encoding="utf-8") == generated, (
        "docs/rules.md is out of date: run `python -m imagekit.lint.docs > docs/rules.md`")
