"""A check with a Dockerfile and an image implementation has one id; its old image id (IK523 -> IK107, ...) keeps
working everywhere a user names rules, the way ruff redirects renamed codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from image.archive import BASE_LAYER, docker_save
from imagekit import contract
from imagekit.lint import LintOptions, Target, run
from imagekit.lint.core import REDIRECTS, all_rules, implementations, load_rules

EXPOSES_5000 = 'FROM python:3.11-slim\nEXPOSE 5000\nENTRYPOINT ["serve"]\n'
IMAGE_CONFIG = {"Entrypoint": ["/usr/local/bin/serve"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]}
SERVE_LAYER = [("usr/local/bin/serve", b"#!/bin/sh\nexec true\n")]

# old id -> a Dockerfile and an image (config changes, extra files) that both break the check
BROKEN: dict[str, tuple[str, dict, list]] = {
    "IK505": ('FROM python:3.11-slim\nENTRYPOINT serve\n', {"Entrypoint": ["/bin/sh", "-c", "serve"]}, []),
    "IK510": (f'FROM python:3.11-slim\nENV {contract.ENV_PROGRAM}=train.py\nENTRYPOINT ["serve"]\n',
              {"Env": [*IMAGE_CONFIG["Env"], f"{contract.ENV_PROGRAM}=train.py"]}, []),
    "IK511": (f'FROM python:3.11-slim\nCOPY model.pt {contract.MODEL_DIR}/\nENTRYPOINT ["serve"]\n', {},
              [(f"{contract.MODEL_DIR}/model.pt".lstrip("/"), b"weights")]),
    "IK520": ('FROM python:3.11-slim\nUSER 1000\nENTRYPOINT ["serve"]\n', {"User": "1000"}, []),
    "IK521": (f'FROM python:3.11-slim\nLABEL {contract.LABEL_BIND_TO_PORT}=True\nENTRYPOINT ["serve"]\n',
              {"Labels": {contract.LABEL_BIND_TO_PORT: "True"}}, []),
    "IK523": (EXPOSES_5000, {"ExposedPorts": {"5000/tcp": {}}}, []),
    "IK533": ('FROM python:3.11-slim\nCOPY libcuda.so.535.1 /usr/lib/x86_64-linux-gnu/\nENTRYPOINT ["serve"]\n', {},
              [("usr/lib/x86_64-linux-gnu/libcuda.so.535.1", b"driver")]),
    "IK501": ("FROM python:3.11-slim\nCOPY app.py /opt/app/\n", {"Entrypoint": ["/opt/program/train"]}, []),
    "IK113": ("FROM python:3.11-slim\nCOPY --chmod=755 train /opt/program/train\n", {"Entrypoint": None}, []),
}


def broken_targets(tmp_path: Path, old: str) -> list:
    text, config, files = BROKEN[old]
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(text)
    archive = docker_save(tmp_path / "img.tar", {**IMAGE_CONFIG, **config}, [BASE_LAYER, SERVE_LAYER + files])
    return [dockerfile, Target.image(str(archive))]


@pytest.fixture
def targets(tmp_path: Path) -> list:
    return broken_targets(tmp_path, "IK523")


# the profile each check belongs to (the training entry-point check is train's)
PROFILE = {"IK510": "train", "IK501": "train", "IK113": "train"}


def rules_found(targets: list, code: str = "IK107", profile: str = "serve", **options) -> list[tuple[str, str]]:
    result = run(targets, LintOptions(profile=profile, **options))
    return [(Path(f.file).suffix or "Dockerfile", f.rule) for f in result.findings if f.rule == code]


def test_every_redirect_has_a_broken_example() -> None:
    assert set(BROKEN) == set(REDIRECTS)


@pytest.mark.parametrize("old", sorted(REDIRECTS))
def test_both_implementations_report_the_new_id_and_the_old_id_silences_them(tmp_path: Path, old: str) -> None:
    targets, new = broken_targets(tmp_path, old), REDIRECTS[old]
    assert [rule.target for rule in implementations(new)] == ["dockerfile", "image"]
    assert old not in load_rules("image") and old not in all_rules()
    profile = PROFILE.get(old, "serve")
    assert rules_found(targets, new, profile) == [("Dockerfile", new), (".tar", new)]
    assert rules_found(targets, new, profile, ignore=(old,)) == []
    other = "info" if all_rules()[new].severity.label != "info" else "error"
    result = run(targets, LintOptions(profile=profile, severity={old.lower(): other}))
    assert {f.severity.label for f in result.findings if f.rule == new} == {other}


@pytest.mark.parametrize("old", sorted(REDIRECTS))
def test_imagekit_rules_explains_every_old_id(old: str) -> None:
    explained = subprocess.run([sys.executable, "-m", "imagekit", "rules", old], capture_output=True, text=True)
    assert explained.returncode == 0
    assert explained.stdout.startswith(f"{REDIRECTS[old]} ") and "dockerfile, image;" in explained.stdout
    formerly = explained.stdout.partition("Formerly ")[2].partition(":")[0]  # "IK113, IK501"
    assert old in formerly.split(", ")


def test_old_id_works_in_a_config_file_and_a_pragma(tmp_path: Path, targets: list) -> None:
    (tmp_path / ".imagekit.yaml").write_text("lint:\n  ignore: [IK523]\n")
    assert rules_found(targets[:1]) == []
    (tmp_path / ".imagekit.yaml").unlink()
    silenced = tmp_path / "Silenced.Dockerfile"
    silenced.write_text(EXPOSES_5000.replace("EXPOSE", "# imagekit ignore=IK523 -- the proxy listens on 8080\nEXPOSE"))
    rules = [f.rule for f in run([silenced], LintOptions(profile="serve")).findings]
    assert "IK107" not in rules and "IK299" not in rules  # silenced, and the pragma is not reported as unknown


def test_a_stale_pragma_names_the_old_id_as_written(tmp_path: Path) -> None:
    stale = tmp_path / "Dockerfile"
    stale.write_text("FROM python:3.11-slim\n# imagekit ignore=IK523 -- legacy\nEXPOSE 8080\n")
    messages = [f.message for f in run([stale], LintOptions(profile="serve")).findings if f.rule == "IK299"]
    assert messages == ["The pragma ignores IK523 (now IK107), but IK107 reports nothing here."]
