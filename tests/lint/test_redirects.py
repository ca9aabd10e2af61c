"""A check with a Dockerfile and an image implementation has one id; its old image id (IK523 -> IK107) keeps
working everywhere a user names rules, the way ruff redirects renamed codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from image.archive import BASE_LAYER, docker_save
from imagekit.lint import LintOptions, Target, run
from imagekit.lint.core import REDIRECTS, all_rules, implementations, load_rules

EXPOSES_5000 = 'FROM python:3.11-slim\nEXPOSE 5000\nENTRYPOINT ["serve"]\n'
IMAGE_CONFIG = {"Entrypoint": ["/usr/local/bin/serve"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
                "ExposedPorts": {"5000/tcp": {}}}


@pytest.fixture
def targets(tmp_path: Path) -> list:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(EXPOSES_5000)
    archive = docker_save(tmp_path / "img.tar", IMAGE_CONFIG,
                          [BASE_LAYER, [("usr/local/bin/serve", b"#!/bin/sh\nexec true\n")]])
    return [dockerfile, Target.image(str(archive))]


def rules_found(targets: list, **options) -> list[tuple[str, str]]:
    result = run(targets, LintOptions(profile="serve", **options))
    return [(Path(f.file).suffix or "Dockerfile", f.rule) for f in result.findings if f.rule == "IK107"]


def test_one_id_for_both_implementations(targets: list) -> None:
    assert [rule.target for rule in implementations("IK107")] == ["dockerfile", "image"]
    assert "IK523" not in load_rules("image") and "IK523" not in all_rules()
    assert rules_found(targets) == [("Dockerfile", "IK107"), (".tar", "IK107")]


@pytest.mark.parametrize("old", sorted(REDIRECTS))
def test_old_id_works_in_ignore_and_severity(targets: list, old: str) -> None:
    assert rules_found(targets, ignore=(old,)) == []
    result = run(targets, LintOptions(profile="serve", severity={old.lower(): "error"}))
    assert {f.severity.label for f in result.findings if f.rule == REDIRECTS[old]} == {"error"}


def test_old_id_works_in_a_config_file_and_a_pragma(tmp_path: Path, targets: list) -> None:
    (tmp_path / ".imagekit.yaml").write_text("lint:\n  ignore: [IK523]\n")
    assert rules_found(targets[:1]) == []
    (tmp_path / ".imagekit.yaml").unlink()
    silenced = tmp_path / "Silenced.Dockerfile"
    silenced.write_text(EXPOSES_5000.replace("EXPOSE", "# imagekit ignore=IK523 -- the proxy listens on 8080\nEXPOSE"))
    rules = [f.rule for f in run([silenced], LintOptions(profile="serve")).findings]
    assert "IK107" not in rules and "IK299" not in rules  # silenced, and the pragma is not reported as unknown


def test_imagekit_rules_explains_an_old_id() -> None:
    explained = subprocess.run([sys.executable, "-m", "imagekit", "rules", "IK523"], capture_output=True, text=True)
    assert explained.returncode == 0
    assert explained.stdout.startswith("IK107 expose-other-port (info; dockerfile, image;")
    assert "Formerly IK523" in explained.stdout


def test_a_stale_pragma_names_the_old_id_as_written(tmp_path: Path) -> None:
    stale = tmp_path / "Dockerfile"
    stale.write_text("FROM python:3.11-slim\n# imagekit ignore=IK523 -- legacy\nEXPOSE 8080\n")
    messages = [f.message for f in run([stale], LintOptions(profile="serve")).findings if f.rule == "IK299"]
    assert messages == ["The pragma ignores IK523 (now IK107), but IK107 reports nothing here."]
