"""Hostile specs, lint configs and projects: refused as one paragraph (exit 2), never expanded, never escaped from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile.harness import run

SPEC = """name: demo
framework:
  name: sklearn
  version: "1.6.1"
requirements:
  file: requirements.txt
train:
  script: train.py
"""
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(  # "billion laughs"
    f"{name}: &{name} [{','.join([f'*{chr(ord(name) - 1)}'] * 9)}]\n" for name in "bcdefghi")


def _project(tmp_path: Path, spec: str = SPEC) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "imagekit.yaml").write_text(spec)
    (project / "requirements.txt").write_text("numpy\n")
    (project / "train.py").write_text("print('train')\n")
    return project


def _render(tmp_path: Path, project: Path):
    return run(tmp_path, "render", str(project), "-o", str(tmp_path / "out"))


@pytest.mark.parametrize("text, expected", [
    (BOMB, "DOCUMENT_NODES"),
    ("a: &a [1, *a]\n", ""),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "DOCUMENT_DEPTH"),
    ("name: " + "9" * 5000 + "\n", ""),
    ("- a\n- b\n", "mapping"),
    ("x" * (2 << 20) + ": 1\n", "YAML_BYTES"),
])
def test_hostile_spec_yaml(tmp_path, text, expected):
    outcome = _render(tmp_path, _project(tmp_path, text)).check(2)
    assert expected in outcome.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, expected", [
    (BOMB, "DOCUMENT_NODES"),
    ("lint: &a [1, *a]\n", ""),
    ("lint: " + "[" * 5000 + "]" * 5000 + "\n", "DOCUMENT_DEPTH"),
    ("- lint\n", "mapping"),
    ("lint:\n  fail-on:\n", "fail-on"),
    ("lint:\n  fail-on: " + "9" * 5000 + "\n", ""),
])
def test_hostile_lint_yaml_config(tmp_path, text, expected):
    (tmp_path / ".imagekit.yaml").write_text(text)
    (tmp_path / "Dockerfile").write_text("FROM a:1\n")
    assert expected in run(tmp_path, "lint", "Dockerfile").check(2).message


@pytest.mark.parametrize("text", [
    'tool = "imagekit"\n',
    "[tool.imagekit-lint]\nfail-on = \"error\"\n",
    "[tools.imagekit.lint]\nfail-on = \"error\"\n",
    "[imagekit.lint]\nfail-on = \"error\"\n",
    "[tool.imagekit]\nlint = 3\n",
    "[tool.imagekit.lint]\nfail-on = " + "9" * 5000 + "\n",
    "[tool.imagekit.lint]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
])
def test_hostile_pyproject(tmp_path, text):
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "Dockerfile").write_text("FROM a:1\n")
    run(tmp_path, "lint", "Dockerfile").check(2)


def test_env_key_with_a_newline_is_refused(tmp_path):
    outcome = _render(tmp_path, _project(tmp_path, SPEC + 'env:\n  "A\\n": x\n')).check(2)
    assert "$.env" in outcome.stderr


def test_new_refuses_a_name_with_a_newline(tmp_path):
    run(tmp_path, "new", "demo\n", "--framework", "sklearn").check(2)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("link", ["requirements.txt", "include", "lock", "code"])
def test_render_copies_nothing_from_outside_the_project(tmp_path, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("numpy\n")
    (outside / "train.py").write_text("print('outside')\n")
    spec = SPEC
    project = _project(tmp_path)
    if link == "requirements.txt":
        (project / "requirements.txt").unlink()
        (project / "requirements.txt").symlink_to(outside / "secret.txt")
    elif link == "include":
        (project / "requirements.txt").write_text("-r more.txt\n")
        (project / "more.txt").symlink_to(outside / "secret.txt")
    elif link == "lock":
        (project / "lock.txt").symlink_to(outside / "secret.txt")
        spec = SPEC.replace("  file: requirements.txt\n", "  file: requirements.txt\n  lock: lock.txt\n")
    else:
        (project / "src").symlink_to(outside)
        spec = SPEC + "code:\n  dir: src\n"
    (project / "imagekit.yaml").write_text(spec)
    assert "outside the project" in _render(tmp_path, project).check(2).message
    assert not (tmp_path / "out").exists()


def test_render_refuses_a_fifo_in_the_code_dir(tmp_path):
    project = _project(tmp_path)
    os.mkfifo(project / "pipe")
    assert "not a regular file" in _render(tmp_path, project).check(2).message


def test_render_reads_a_non_utf8_dockerignore(tmp_path):
    project = _project(tmp_path)
    (project / ".dockerignore").write_bytes(b"\xff\xfe*.tmp\n")
    _render(tmp_path, project).check(0)
