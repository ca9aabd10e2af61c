"""`imagekit lint` and `imagekit rules` end to end: exit codes, formats, flags and config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLEAN = "FROM python:3.11-slim\nCOPY app.py /app/app.py\nCMD [\"python\", \"/app/app.py\"]\n"


def imagekit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imagekit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(CLEAN)
    (tmp_path / "bad.Dockerfile").write_text("FROM python:latest\nRUN apt-get update\n")
    (tmp_path / "info.Dockerfile").write_text("FROM debian:12\nMAINTAINER me\n")
    (tmp_path / "broken.Dockerfile").write_text("FROM debian:12\nRUN apt-get update &&\n  apt-get install -y curl\n")
    return tmp_path


def test_clean_file_exits_0_and_defaults_to_dockerfile(project: Path) -> None:
    result = imagekit("lint", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "1 file checked: no findings.\n"


def test_findings_at_fail_on_exit_1(project: Path) -> None:
    result = imagekit("lint", "bad.Dockerfile", cwd=project)
    assert result.returncode == 1
    assert "bad.Dockerfile:1:1: warning IK202" in result.stdout


def test_fail_on_threshold(project: Path) -> None:
    assert imagekit("lint", "info.Dockerfile", cwd=project).returncode == 0  # style only
    assert imagekit("lint", "info.Dockerfile", "--fail-on", "style", cwd=project).returncode == 1
    assert imagekit("lint", "bad.Dockerfile", "--fail-on", "error", cwd=project).returncode == 0
    assert imagekit("lint", "bad.Dockerfile", "--fail-on", "none", cwd=project).returncode == 0


def test_syntax_error_is_one_located_finding_and_exit_2(project: Path) -> None:
    result = imagekit("lint", "broken.Dockerfile", "bad.Dockerfile", "-f", "json", cwd=project)
    assert result.returncode == 2
    findings = json.loads(result.stdout)["findings"]
    broken = [f for f in findings if f["file"] == "broken.Dockerfile"]
    assert [(f["rule"], f["line"]) for f in broken] == [("IK200", 3)]
    assert any(f["file"] == "bad.Dockerfile" for f in findings)  # other files are still linted
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_clear_error_exit_2(project: Path) -> None:
    result = imagekit("lint", "nope.Dockerfile", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("imagekit: error: Cannot read Dockerfile nope.Dockerfile")
    assert "Traceback" not in result.stderr


def test_ignore_severity_and_profile_flags(project: Path) -> None:
    result = imagekit("lint", "bad.Dockerfile", "--ignore", "IK202", "--severity", "IK207=info", "-q", cwd=project)
    assert result.returncode == 0 and result.stdout.startswith("bad.Dockerfile:2:1: info IK207")
    served = imagekit("lint", "Dockerfile", "--profile", "serve", "-f", "json", cwd=project)
    assert "IK104" in {f["rule"] for f in json.loads(served.stdout)["findings"]}


@pytest.mark.parametrize("args", [["--format", "yaml"], ["--fail-on", "sometimes"], ["--profile", "batch"],
                                  ["--severity", "IK202"], ["--ignore", "DL3008"], ["--ignore", "IK999"],
                                  ["--severity", "IK999=error"], ["--platform", "linux/amd64"],
                                  ["--dockerfile", "Dockerfile"], ["-o", "."]])
def test_bad_flags_exit_2_with_a_message(project: Path, args: list[str]) -> None:
    result = imagekit("lint", "Dockerfile", *args, cwd=project)
    assert result.returncode == 2 and result.stderr.startswith("imagekit: error:")


def test_config_file_and_output_file(project: Path) -> None:
    (project / ".imagekit.yaml").write_text("lint:\n  ignore: [IK202]\n  fail-on: error\n")
    result = imagekit("lint", "bad.Dockerfile", "-f", "sarif", "-o", "out.sarif", cwd=project)
    assert result.returncode == 0 and result.stdout == ""
    results = json.loads((project / "out.sarif").read_text())["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["IK207"]
    explicit = imagekit("lint", "bad.Dockerfile", "--config", str(project / "missing.yaml"), cwd=project)
    assert explicit.returncode == 2


def test_output_creates_its_directory_and_an_unwritable_one_is_exit_2(project: Path) -> None:
    result = imagekit("lint", "Dockerfile", "-f", "json", "-o", "reports/lint/out.json", cwd=project)
    assert result.returncode == 0 and json.loads((project / "reports/lint/out.json").read_text())["findings"] == []
    (project / "blocker").write_text("")
    blocked = imagekit("lint", "Dockerfile", "-o", "blocker/out.json", cwd=project)
    assert blocked.returncode == 2 and blocked.stderr.startswith("imagekit: error: Cannot write the report to")
    assert "Traceback" not in blocked.stderr


def test_each_file_fails_by_its_own_configs_threshold(project: Path) -> None:
    """pre-commit runs from the repository root; a service directory's config still decides for its files."""
    lenient, strict = project / "lenient", project / "strict"
    for directory, fail_on in ((lenient, "error"), (strict, "style")):
        directory.mkdir()
        (directory / ".imagekit.yaml").write_text(f"lint:\n  fail-on: {fail_on}\n")
    (lenient / "Dockerfile").write_text("FROM python:latest\n")  # a warning
    (strict / "Dockerfile").write_text("FROM debian:12\nMAINTAINER me\n")  # style only
    ok = imagekit("lint", "lenient/Dockerfile", "-f", "json", cwd=project)
    assert ok.returncode == 0 and json.loads(ok.stdout)["summary"]["failed"] is False
    strict_run = imagekit("lint", "strict/Dockerfile", "-f", "json", cwd=project)
    assert strict_run.returncode == 1 and json.loads(strict_run.stdout)["summary"]["failed"] is True
    assert imagekit("lint", "lenient/Dockerfile", "--fail-on", "warning", cwd=project).returncode == 1  # flag wins


MULTI_TARGET = ("FROM python:3.11-slim AS sagemaker\nENV PYTHONUNBUFFERED=1\nUSER 1000\n"
                'ENTRYPOINT ["python", "-m", "serve"]\nFROM scratch AS wheels\nCOPY --from=sagemaker /tmp /\n')


def test_target_makes_a_middle_stage_the_image(project: Path) -> None:
    """Multi-target files (the Deep Learning Containers build `--target sagemaker`) are judged per target."""
    (project / "multi.Dockerfile").write_text(MULTI_TARGET)
    last = imagekit("lint", "multi.Dockerfile", "--profile", "serve", "-f", "json", cwd=project)
    assert "IK109" not in {f["rule"] for f in json.loads(last.stdout)["findings"]}  # scratch has no USER
    targeted = imagekit("lint", "multi.Dockerfile", "--profile", "serve", "--target", "sagemaker", "-f", "json",
                        cwd=project)
    assert [(f["rule"], f["line"]) for f in json.loads(targeted.stdout)["findings"]] == [("IK109", 3)]
    unknown = imagekit("lint", "multi.Dockerfile", "--target", "gpu", cwd=project)
    assert unknown.returncode == 2 and "no stage 'gpu'" in unknown.stderr and "sagemaker, wheels" in unknown.stderr


def test_rules_lists_and_explains() -> None:
    listing = imagekit("rules")
    assert listing.returncode == 0
    assert any(line.startswith("IK101  error") for line in listing.stdout.splitlines())
    explained = imagekit("rules", "ik109")
    assert explained.returncode == 0 and "SageMaker" in explained.stdout and "Use instead:" in explained.stdout
    assert imagekit("rules", "IK999").returncode == 2


HEAVY_MODULES = ("docker", "requests", "urllib3", "jinja2", "jsonschema", "rich", "zstandard", "imagekit.engine")


@pytest.mark.parametrize("fmt", ["text", "sarif"])
def test_lint_path_keeps_heavy_imports_out(project: Path, fmt: str) -> None:
    """The cold-start goal: `imagekit lint` (pre-commit runs it per commit) never imports the engine,
    templating or schema stacks. Checked through the real CLI entry point in a fresh interpreter."""
    code = (f"import sys; from imagekit.cli import main; sys.argv = ['imagekit', 'lint', '-f', {fmt!r}, 'Dockerfile']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=project, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("[]"), result.stdout + result.stderr


def test_dash_reads_standard_input_with_the_source_line_under_each_finding(project: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "imagekit", "lint", "-"], capture_output=True, text=True,
                            input="FROM debian:12\nRUN apt-get update\n", cwd=project, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "-:2:1: warning IK207" in result.stdout and "    2 | RUN apt-get update" in result.stdout


def test_standard_input_named_twice_is_refused(project: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "imagekit", "lint", "-", "-"], capture_output=True, text=True,
                            input=CLEAN, cwd=project, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert "Standard input (-) is named more than once" in result.stderr and "Traceback" not in result.stderr
