"""JUnit reports (smoke and lint share one writer) stay well-formed XML whatever the logs and messages hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from imagekit.lint.core import Finding, Severity
from imagekit.lint.report import render
from imagekit.smoke.report import Report

HOSTILE = "ValueError: \x00\x01\x02 <x> & \" \x1b[31mred\x1b[0m \x7f \ufffe \udcff end"


def test_a_smoke_report_with_control_characters_in_checks_and_logs_is_well_formed(tmp_path: Path) -> None:
    report = Report("img\x1b:1")
    report.check("train.exit-code", False, f"train exited 1: {HOSTILE}")
    report.check("serve.sigterm", False, HOSTILE)  # a warning: in system-out
    report.logs["algo-1"] = f"bad \x00 nul {HOSTILE}\r\nnext"
    report.write_junit(tmp_path / "smoke.xml")
    root = ET.parse(tmp_path / "smoke.xml").getroot()
    failure = root.find(".//failure")
    assert failure.get("message").startswith("train exited 1: ValueError: \\x00\\x01\\x02 <x> & \" red \x7f \\ufffe")
    assert "\\udcff end" in failure.text and "\x1b" not in failure.text
    assert "algo-1 | bad \\x00 nul" in root.findall("system-out")[-1].text


def test_lint_junit_escapes_the_same_way() -> None:
    finding = Finding(rule="IK200", severity=Severity.ERROR, message=f"apt package {HOSTILE}", file="D\x01ockerfile",
                      line=2, fix=HOSTILE)
    root = ET.fromstring(render([finding], "junit"))
    case = root.find(".//testcase")
    assert case.get("classname") == "D\\x01ockerfile" and case.find("failure").text.startswith("ValueError: \\x00")
