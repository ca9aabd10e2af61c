"""Inline `# imagekit ...` pragmas: scopes, missing-thing findings on FROM lines, useless pragmas reported."""

from __future__ import annotations

from imagekit.lint.dockerfile_lint import lint_text


def rules_at(text: str, **kwargs) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in lint_text(text, **kwargs)]


def test_line_ignore_silences_the_next_instruction_only() -> None:
    text = ("FROM python:latest AS a\n"
            "# imagekit ignore=IK202 -- mirrored by CI\n"
            "FROM python:latest\n")
    assert rules_at(text) == [("IK202", 1)]


def test_ignore_covers_a_multi_line_instruction() -> None:
    text = "FROM debian:12\n# imagekit ignore=IK207\nRUN \\\n  apt-get update\n"
    assert "IK207" not in {rule for rule, _ in rules_at(text)}


def test_stage_ignore_covers_the_stage_the_next_from_starts() -> None:
    text = ("FROM debian:12 AS build\n"
            "RUN apt-get update\n"
            "# imagekit stage ignore=IK207\n"
            "FROM debian:12\n"
            "RUN apt-get update\n"
            "RUN apt-get update\n")
    assert [line for rule, line in rules_at(text) if rule == "IK207"] == [2]


def test_global_ignore_and_several_ids() -> None:
    text = "# imagekit global ignore=IK202, IK207\nFROM python:latest\nRUN apt-get update\n"
    assert rules_at(text) == []


def test_missing_things_attach_to_from_so_they_can_be_ignored_there() -> None:
    text = "# imagekit profile=serve\nFROM python:3.11-slim\nCMD [\"python\", \"app.py\"]\n"
    assert ("IK104", 2) in rules_at(text)
    ignored = "# imagekit profile=serve\n# imagekit ignore=IK104,IK111 -- the base ships serve\n" \
              "FROM python:3.11-slim\nCMD [\"python\", \"app.py\"]\n"
    assert rules_at(ignored) == []


def test_unused_unknown_and_malformed_pragmas_are_reported_as_info() -> None:
    text = ("FROM python:3.11-slim\n"
            "# imagekit ignore=IK202\n"
            "RUN echo hi\n"
            "# imagekit ignore=IK999\n"
            "RUN echo hi\n"
            "# imagekit ignroe=IK202\n")
    findings = [f for f in lint_text(text) if f.rule == "IK299"]
    assert [(f.line, f.severity.label) for f in findings] == [(2, "info"), (4, "info"), (6, "info")]
    assert "IK999" in findings[1].message


def test_pragma_for_a_rule_that_did_not_run_is_not_reported() -> None:
    text = "FROM python:3.11-slim\n# imagekit ignore=IK109\nUSER app\n"  # IK109 is SageMaker-only
    assert rules_at(text, profile="generic") == []


def test_profile_pragma_selects_the_profile() -> None:
    text = "# imagekit profile=train\nFROM python:3.11-slim\nUSER app\nENTRYPOINT [\"train\"]\nENV PYTHONUNBUFFERED=1\n"
    assert ("IK109", 3) in rules_at(text)
    assert ("IK109", 3) not in rules_at(text, profile="generic")
