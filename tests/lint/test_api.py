"""`imagekit.lint.run`: the one call behind `imagekit lint`, used here directly (Dockerfiles, images, stdin,
configs, counts and the exit decision)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from image.archive import BASE_LAYER, docker_save
from imagekit.errors import ImagekitError
from imagekit.lint import LintOptions, Target, run
from imagekit.lint.config import LintConfig
from imagekit.lint.core import Severity

LATEST = "FROM python:latest\n"  # IK202, a warning
SERVE = b"#!/usr/bin/env python3\nprint('serving')\n"
SERVING_IMAGE = {"Entrypoint": ["/usr/local/bin/serve"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
                 "Labels": {"com.amazonaws.sagemaker.capabilities.accept-bind-to-port": "true"},
                 "ExposedPorts": {"8080/tcp": {}}}


def dockerfile(directory: Path, text: str, name: str = "Dockerfile") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def test_counts_worst_and_exit_decision(tmp_path: Path) -> None:
    result = run([dockerfile(tmp_path, LATEST)])
    assert [f.rule for f in result.findings] == ["IK202"]
    assert result.counts == {"error": 0, "warning": 1, "info": 0, "style": 0}
    assert result.worst is Severity.WARNING
    assert result.failed and result.exit_code == 1  # the default fail-on is warning
    assert not result.fails("error") and result.fails(Severity.INFO) and not result.fails("none")
    assert run([dockerfile(tmp_path, LATEST)], LintOptions(fail_on="error")).exit_code == 0


def test_clean_file_and_unparseable_file(tmp_path: Path) -> None:
    clean = run([dockerfile(tmp_path, 'FROM python:3.11-slim\nCMD ["python", "-V"]\n')])
    assert clean.findings == [] and clean.worst is None and clean.exit_code == 0
    broken = run([dockerfile(tmp_path, "RUN true\n", "Broken.Dockerfile")], LintOptions(fail_on="none"))
    assert [f.rule for f in broken.findings] == ["IK200"] and broken.unparseable and broken.exit_code == 2


def test_each_file_keeps_its_own_config_and_fail_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    dockerfile(tmp_path / "strict", "lint:\n  fail-on: info\n", ".imagekit.yaml")
    dockerfile(tmp_path / "lenient", "lint:\n  fail-on: error\n  ignore: [IK202]\n", ".imagekit.yaml")
    strict, lenient = dockerfile(tmp_path / "strict", LATEST), dockerfile(tmp_path / "lenient", LATEST)
    result = run([strict, lenient])
    assert [(r.file, r.fail_on, [f.rule for f in r.findings]) for r in result.results] == [
        (str(strict), Severity.INFO, ["IK202"]), (str(lenient), Severity.ERROR, [])]
    assert result.fail_on is Severity.WARNING  # the working directory has no config
    explicit = run([strict, lenient], LintOptions(config=LintConfig(fail_on=None)))
    assert len(explicit.findings) == 2 and explicit.exit_code == 0


def test_overrides_apply_on_top_of_every_config(tmp_path: Path) -> None:
    path = dockerfile(tmp_path, LATEST + "RUN apt-get update\n")
    result = run([path], LintOptions(ignore=("IK202",), severity={"IK207": "error"}))
    assert [(f.rule, f.severity) for f in result.findings] == [("IK207", Severity.ERROR)]


def test_default_dockerfile_and_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImagekitError, match="no ./Dockerfile"):
        run()
    dockerfile(tmp_path, LATEST)
    assert [(f.file, f.rule) for f in run().findings] == [("Dockerfile", "IK202")]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(LATEST.encode())))
    result = run(["-"])
    assert [(f.file, f.rule) for f in result.findings] == [("-", "IK202")]
    assert result.source("-") == ["FROM python:latest"]  # standard input is kept for the report's caret


def test_images_and_dockerfiles_in_one_run(tmp_path: Path) -> None:
    good = docker_save(tmp_path / "good.tar", SERVING_IMAGE, [BASE_LAYER, [("usr/local/bin/serve", SERVE)]])
    bad = docker_save(tmp_path / "bad.tar", {**SERVING_IMAGE, "ExposedPorts": {"5000/tcp": {}}},
                      [BASE_LAYER, [("usr/local/bin/serve", SERVE)]])
    result = run([dockerfile(tmp_path, LATEST), Target.image(str(good)), Target.image(str(bad))],
                 LintOptions(profile="serve"))
    assert (result.dockerfiles, result.images) == (1, 2)
    assert [(r.kind, r.file) for r in result.results] == [
        ("dockerfile", str(tmp_path / "Dockerfile")), ("image", str(good)), ("image", str(bad))]
    assert {f.rule for f in result.findings if f.file == str(bad)} == {"IK107"}
    assert not [f for f in result.findings if f.file == str(good)]


def test_image_cross_checked_against_a_dockerfile(tmp_path: Path) -> None:
    archive = docker_save(tmp_path / "img.tar", SERVING_IMAGE, [BASE_LAYER, [("usr/local/bin/serve", SERVE)]])
    other = dockerfile(tmp_path, 'FROM base\nENTRYPOINT ["/opt/app/run"]\n', "Other.Dockerfile")
    result = run([Target.image(str(archive))], LintOptions(dockerfile=other, profile="serve"))
    assert [f.rule for f in result.findings] == ["IK550"]


@pytest.mark.parametrize("options, flag", [(LintOptions(platform="linux/amd64"), "--platform"),
                                           (LintOptions(dockerfile="Dockerfile"), "--dockerfile")])
def test_image_only_options_need_an_image(tmp_path: Path, options: LintOptions, flag: str) -> None:
    with pytest.raises(ImagekitError, match=f"{flag} applies to --image"):
        run([dockerfile(tmp_path, LATEST)], options)


def test_one_unreadable_file_among_several_is_its_own_ik200_and_the_rest_are_linted(tmp_path: Path) -> None:
    """pre-commit passes every matching path: a committed dangling symlink must not hide the other files' report."""
    good = tmp_path / "Dockerfile.pip"
    good.write_text("FROM python:3.11-slim\nRUN pip install flask\n")
    (tmp_path / "Dockerfile.old").symlink_to(tmp_path / "gone")
    result = run([str(good), str(tmp_path / "Dockerfile.old")])
    assert result.exit_code == 2
    by_file = {r.file: [f.rule for f in r.findings] for r in result.results}
    assert by_file[str(tmp_path / "Dockerfile.old")] == ["IK200"] and "IK209" in by_file[str(good)]
    with pytest.raises(ImagekitError, match="Cannot read Dockerfile"):  # alone, it is the one-paragraph error
        run([str(tmp_path / "Dockerfile.old")])
