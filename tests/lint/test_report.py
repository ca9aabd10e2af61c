"""Output formats: text with caret, the JSON shape, SARIF 2.1.0 (validated), JUnit and GitHub commands."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from imagekit.lint import run
from imagekit.lint.core import Finding, Severity, all_rules
from imagekit.lint.report import FORMATS, render

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
IMAGE_FINDING = Finding(rule="IK401", severity=Severity.ERROR, message="serve is not executable", file="team/img:1",
                        path="/usr/local/bin/serve", fix="chmod +x it")


@pytest.fixture()
def findings(tmp_path: Path) -> list[Finding]:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:latest\n  RUN apt-get update\n")
    return run([dockerfile]).findings


def test_text_shows_the_source_line_and_a_caret(findings: list[Finding]) -> None:
    text = render(findings, "text", fail_on=Severity.WARNING)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "IK207" in line)
    assert lines[at].endswith("warning IK207: `apt-get update` runs in a RUN of its own: its cached layer makes later "
                              "installs use stale package lists.")
    assert lines[at + 1] == "    2 |   RUN apt-get update"
    assert lines[at + 2] == "      |   ^"
    assert lines[-1] == "1 file checked: 2 warnings."


@pytest.mark.parametrize("files, images, line", [
    (1, 0, "1 file checked: 1 error."),
    (0, 1, "1 image checked: 1 error."),
    (2, 3, "2 files and 3 images checked: 1 error."),
])
def test_the_summary_counts_files_and_images_apart(files: int, images: int, line: str) -> None:
    assert render([IMAGE_FINDING], "text", files=files, images=images).splitlines()[-1] == line
    summary = json.loads(render([IMAGE_FINDING], "json", files=files, images=images))["summary"]
    assert (summary["files"], summary["images"]) == (files, images)


def test_text_for_image_findings_has_no_caret() -> None:
    text = render([IMAGE_FINDING], "text", quiet=True)
    assert text == "team/img:1: /usr/local/bin/serve: error IK401: serve is not executable\n"


def test_json_shape(findings: list[Finding]) -> None:
    data = json.loads(render(findings + [IMAGE_FINDING], "json", fail_on=Severity.WARNING))
    assert set(data) == {"findings", "summary"}
    first = data["findings"][0]
    assert list(first) == ["rule", "severity", "file", "line", "column", "message", "fix"]
    assert first["severity"] in ("error", "warning", "info", "style")
    assert data["findings"][-1]["path"] == "/usr/local/bin/serve" and data["findings"][-1]["line"] is None
    assert data["summary"]["warning"] == 2 and data["summary"]["failed"] is True


def test_sarif_validates_against_the_official_schema(findings: list[Finding]) -> None:
    data = json.loads(render(findings + [IMAGE_FINDING], "sarif"))
    jsonschema.Draft4Validator(SCHEMA).validate(data)
    run = data["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(all_rules()) <= set(rules)
    assert rules["IK202"]["helpUri"].endswith("#ik202") and rules["IK202"]["defaultConfiguration"]["level"] == "warning"
    result = run["results"][0]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert run["results"][-1]["locations"][0]["logicalLocations"][0]["name"] == "/usr/local/bin/serve"


def test_junit_is_well_formed(findings: list[Finding]) -> None:
    root = ET.fromstring(render(findings, "junit"))
    assert root.tag == "testsuites" and root.get("failures") == "2"
    assert len(root.findall(".//failure")) == 2
    clean = ET.fromstring(render([], "junit"))
    assert clean.get("failures") == "0" and clean.find(".//testcase") is not None


def test_github_annotations_escape_their_properties(findings: list[Finding]) -> None:
    lines = render(findings + [IMAGE_FINDING], "github").splitlines()
    assert lines[0].startswith("::warning file=") and ",line=1,col=1,title=IK202::" in lines[0]
    assert lines[-1].startswith("::error file=team/img%3A1,title=IK401 /usr/local/bin/serve::")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_no_findings(fmt: str) -> None:
    assert render([], fmt, files=1) is not None


def test_sarif_locations_are_uri_references() -> None:
    finding = Finding("IK202", Severity.WARNING, "m", "we ird/a%b.Dockerfile", 1, 1)
    absolute = Finding("IK202", Severity.WARNING, "m", "/srv/app/Dockerfile", 1, 1)
    results = json.loads(render([finding, absolute], "sarif"))["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris == ["we%20ird/a%25b.Dockerfile", "file:///srv/app/Dockerfile"]


def test_text_and_github_escape_control_characters_from_the_dockerfile(tmp_path: Path) -> None:
    """An ESC sequence in a Dockerfile must not reach the terminal or CI log; JSON keeps the exact text."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nLABEL a=\"\x1b[2J\"\nRUN apt-get install \x1b[31mx\x07 \u202e\x0b\n")
    findings = run([dockerfile]).findings
    for fmt in ("text", "github"):
        out = render(findings, fmt)
        assert not any(ch in out for ch in "\x1b\x07\u202e\x0b"), fmt
    text = render(findings, "text").splitlines()
    at = next(i for i, line in enumerate(text) if "IK208" in line)
    assert "\\x1b[31mx\\x07" in text[at] and text[at + 1].startswith("    3 | RUN apt-get install \\x1b[31mx\\x07")
    assert any("\x1b" in f["message"] for f in json.loads(render(findings, "json"))["findings"])


def test_the_caret_follows_escapes_and_long_lines_are_cut() -> None:
    finding = Finding("IK202", Severity.WARNING, "m", "Dockerfile", 1, 4)
    lines = render([finding], "text", source=lambda _: ["\x1b\x1bxy" + "z" * 500]).splitlines()
    assert lines[1] == "    1 | \\x1b\\x1bxy" + "z" * 190 + "…"
    assert lines[2].index("^") - lines[2].index("|") - 2 == len("\\x1b\\x1bx")  # under the y
