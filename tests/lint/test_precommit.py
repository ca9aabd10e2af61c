"""The pre-commit hook, run by real pre-commit (`try-repo`) from a snapshot of the working tree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lint.corpus import REPO_ROOT

HOOKS = REPO_ROOT / ".pre-commit-hooks.yaml"


def git(*args: str, cwd: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def snapshot_of_working_tree(destination: Path) -> Path:
    """try-repo only sees committed and tracked files, so commit a copy of tracked + untracked files."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO_ROOT,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git("init", "-q", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-q", "-m", "snapshot", cwd=destination)
    return destination


def test_hook_definition_matches_dockerfile_names() -> None:
    hook = yaml.safe_load(HOOKS.read_text())[0]
    assert hook["id"] == "imagekit-lint" and hook["language"] == "python" and hook["entry"] == "imagekit lint"
    files = re.compile(hook["files"])
    for name in ("Dockerfile", "docker/Dockerfile", "Dockerfile.gpu", "serve.Dockerfile", "a/b/train.dockerfile"):
        assert files.search(name), name
    for name in ("Dockerfile.dockerignore", "dockerfiles.md", "notDockerfile", "src/app.py"):
        assert not files.search(name) or re.search(hook["exclude"], name), name


@pytest.mark.slow
def test_pre_commit_try_repo_passes_clean_and_fails_bad_files(tmp_path: Path) -> None:
    if shutil.which("pre-commit") is None:
        pytest.fail("pre-commit is not installed (it is in the [test] extra)")
    hook_repo = snapshot_of_working_tree(tmp_path / "hook-repo")
    user_repo = tmp_path / "user-repo"
    user_repo.mkdir()
    (user_repo / "Dockerfile").write_text('FROM python:3.11-slim\nCOPY app.py /app/app.py\n'
                                          'CMD ["python", "/app/app.py"]\n')
    (user_repo / "gpu.Dockerfile").write_text("FROM python:latest\nRUN apt-get update\n")
    git("init", "-q", cwd=user_repo)
    git("add", "-A", cwd=user_repo)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_repo(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run(["pre-commit", "try-repo", str(hook_repo), "imagekit-lint", "--files", *files],
                              cwd=user_repo, capture_output=True, text=True, env=env, timeout=900)

    clean = try_repo("Dockerfile")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"imagekit lint\.+Passed", clean.stdout)
    bad = try_repo("Dockerfile", "gpu.Dockerfile")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "gpu.Dockerfile:1:1: warning IK202" in bad.stdout
