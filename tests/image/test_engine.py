"""Images built by the engine: the entrypoint proof on real images, and the same findings from every source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from image.archive import oci_from_docker_save
from imagekit.lint.image_lint import lint_image

pytestmark = pytest.mark.slow
PROOF = {"IK501", "IK502", "IK503", "IK504"}
PROGRAM = "#!/usr/bin/env python3\nimport sys\nprint(sys.argv)\n"
GOOD = ("FROM {base}\nCOPY train serve /usr/local/bin/\n"
        "LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true\nEXPOSE 8080\n")


def rules(ref: str, **kwargs) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in lint_image(ref, **kwargs)]


def save(tag: str, path: Path) -> Path:
    from imagekit import engine

    with path.open("wb") as out:
        for chunk in engine.export_image(tag):
            out.write(chunk)
    return path


def test_good_image_is_proven_from_engine_archive_and_oci_layout(throwaway_image, tmp_path: Path) -> None:
    tag = throwaway_image(GOOD, files={"train": PROGRAM, "serve": PROGRAM})
    from_engine = rules(tag)
    assert not PROOF & {rule for rule, _ in from_engine}, from_engine
    archive = save(tag, tmp_path / "good.tar")
    assert rules(str(archive)) == from_engine
    layout = oci_from_docker_save(archive, tmp_path / "oci")
    assert rules(str(layout)) == from_engine


def test_serve_deleted_by_a_later_layer_and_broken_scripts(throwaway_image, tmp_path: Path) -> None:
    good = throwaway_image(GOOD, files={"train": PROGRAM, "serve": PROGRAM})
    missing = throwaway_image(f"FROM {good}\nRUN rm /usr/local/bin/serve\n")
    findings = rules(missing, profiles={"train", "serve"})
    assert [rule for rule, message in findings if rule in PROOF] == ["IK501"]
    assert "serve" in findings[0][1] and "not on PATH" in findings[0][1]
    broken = throwaway_image(GOOD, files={"train": "#!/usr/bin/env python3\r\nprint(1)\r\n",
                                          "serve": "#!/usr/bin/python\nprint(1)\n"})
    assert {rule for rule, _ in rules(broken)} & PROOF == {"IK502", "IK503"}


def test_a_program_executable_through_a_supplementary_group(throwaway_image) -> None:
    tag = throwaway_image(
        "FROM {base}\nRUN printf '#!/bin/sh\\necho hi\\n' > /usr/local/bin/serve && cp /usr/local/bin/serve "
        "/usr/local/bin/train && chown root:staff /usr/local/bin/serve /usr/local/bin/train && chmod 750 "
        "/usr/local/bin/serve /usr/local/bin/train && useradd -G staff app\nUSER app\nEXPOSE 8080\n")
    assert not PROOF & {rule for rule, _ in rules(tag)}, rules(tag)  # `docker run IMAGE serve` prints hi


def test_missing_engine_image_is_exit_2_with_a_hint(engine) -> None:
    result = subprocess.run([sys.executable, "-m", "imagekit", "lint", "--image", "imagekit-test/absent:nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "not in the Docker engine" in result.stderr and "docker images" in result.stderr
