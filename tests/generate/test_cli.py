"""The generator's commands: clear one-paragraph errors with exit 2 on bad input, and nothing left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def invoke(*args: str) -> subprocess.CompletedProcess:
    """The real console entry point (error handling included), with output on .output."""
    run = subprocess.run([sys.executable, "-m", "imagekit", *args], capture_output=True, text=True, timeout=120)
    run.exit_code, run.output = run.returncode, run.stdout + run.stderr
    return run


def test_new_render_explain_happy_path(tmp_path: Path) -> None:
    created = invoke("new", "demo", "--framework", "sklearn", "--dir", str(tmp_path))
    assert created.exit_code == 0 and "next:" in created.output
    rendered = invoke("render", str(tmp_path / "demo"), "-o", str(tmp_path / "ctx"))
    assert rendered.exit_code == 0, rendered.output
    assert (tmp_path / "ctx" / "Dockerfile").is_file()
    assert (tmp_path / "ctx" / "imagekit-runtime" / "opt" / "imagekit" / "runtime.json").is_file()
    explained = invoke("explain", str(tmp_path / "demo"))
    assert explained.exit_code == 0 and "runtime base" in explained.output


def test_misspelt_key_is_located_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "imagekit.yaml").write_text("name: demo\nframework:\n  name: sklearn\nacelerator: cpu\n")
    result = invoke("render", str(tmp_path), "-o", str(tmp_path / "ctx"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'imagekit.yaml'}:4:1" in result.output and "did you mean 'accelerator'?" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "ctx").exists()


def test_broken_yaml_and_missing_spec(tmp_path: Path) -> None:
    (tmp_path / "imagekit.yaml").write_text("name: [demo\n")
    result = invoke("render", str(tmp_path))
    assert result.exit_code == 2 and "invalid YAML" in result.output and "Traceback" not in result.output
    missing = invoke("build", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "No spec at" in missing.output


def test_render_never_replaces_a_directory_it_did_not_write(tmp_path: Path) -> None:
    invoke("new", "demo", "--framework", "custom", "--dir", str(tmp_path))
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = invoke("render", str(tmp_path / "demo"), "-o", str(precious))
    assert result.exit_code == 2 and (precious / "notes.txt").read_text() == "keep me"


def test_new_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "x").write_text("")
    result = invoke("new", "demo", "--framework", "sklearn", "--dir", str(tmp_path))
    assert result.exit_code == 2 and "not empty" in result.output


def test_build_refuses_a_tag_docker_would_refuse_before_rendering(tmp_path: Path) -> None:
    invoke("new", "demo", "--framework", "sklearn", "--dir", str(tmp_path))
    for tag in ("Bad Tag", "Iris:1", "iris:", "team//iris", "TEAM/iris"):  # TEAM is no host: docker refuses it
        result = invoke("build", str(tmp_path / "demo"), "-t", tag)
        assert result.exit_code == 2, result.output
        assert f"-t {tag!r} is not an image reference" in result.output and "Traceback" not in result.output


def test_new_with_a_file_as_dir_is_one_paragraph_exit_2(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("")
    result = invoke("new", "x6", "--framework", "sklearn", "--dir", str(tmp_path / "train.py"))
    assert result.exit_code == 2 and "is not a directory" in result.output and "Traceback" not in result.output
