"""docs/ci.md and docs/lint.md: every YAML block parses and every `imagekit lint` command in it uses real flags."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import yaml
from typer.main import get_command

from imagekit.cli import app
from imagekit.cli.lint import FORMATS
from lint.corpus import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "ci.md").read_text()
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)


def commands(node) -> list[str]:
    """Every `imagekit lint ...` string anywhere in a parsed YAML document."""
    if isinstance(node, dict):
        return [c for value in node.values() for c in commands(value)]
    if isinstance(node, list):
        return [c for value in node for c in commands(value)]
    if isinstance(node, str):
        return [line.strip() for line in node.splitlines() if line.strip().startswith("imagekit lint")]
    return []


def test_there_is_a_github_workflow_with_sarif_upload_and_a_gitlab_job() -> None:
    documents = [yaml.safe_load(block) for block in BLOCKS]
    workflow = next(d for d in documents if "jobs" in d)
    steps = workflow["jobs"]["imagekit-lint"]["steps"]
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif") for step in steps)
    assert workflow["permissions"]["security-events"] == "write"
    gitlab = next(d for d in documents if "imagekit-lint" in d and "script" in d["imagekit-lint"])
    assert gitlab["imagekit-lint"]["artifacts"]["reports"]["junit"]


def test_every_documented_command_parses_with_the_real_cli() -> None:
    lint = get_command(app).commands["lint"]
    found = [c for block in BLOCKS for c in commands(yaml.safe_load(block))]
    assert len(found) >= 4
    for command in found:
        args = shlex.split(command)[2:]
        ctx = lint.make_context("lint", list(args))  # raises on an unknown flag or a missing value
        assert ctx.params["fmt"] in FORMATS, command
        assert ctx.params["fail_on"] in (None, "error", "warning", "info", "style", "none"), command


def test_every_documented_flag_is_in_lint_help() -> None:
    help_text = subprocess.run([sys.executable, "-m", "imagekit", "lint", "--help"], capture_output=True, text=True,
                               check=True).stdout
    found = [c for block in BLOCKS for c in commands(yaml.safe_load(block))]
    flags = {word.split("=")[0] for command in found for word in shlex.split(command) if word.startswith("-")}
    assert {"--format", "--output", "--fail-on"} <= flags
    for flag in flags:
        assert re.search(rf"(^|[\s,]){re.escape(flag)}([\s,=]|$)", help_text, re.M), flag


def test_pre_commit_snippet_in_lint_docs_uses_our_hook_and_real_flags() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", (REPO_ROOT / "docs" / "lint.md").read_text(), re.S)
    config = next(yaml.safe_load(b) for b in blocks if "repos:" in b)
    hook = config["repos"][0]["hooks"][0]
    hook_ids = [h["id"] for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())]
    assert hook["id"] in hook_ids
    get_command(app).commands["lint"].make_context("lint", [*hook.get("args", []), "Dockerfile"])
