"""Shell completion: `imagekit --install-completion bash` installs a script that completes commands, subcommands
and options in a new bash (and `--show-completion` prints the same script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """A HOME with completion installed, and an `imagekit` on PATH that runs this checkout, as the console
    script does."""
    command = tmp_path / "bin" / "imagekit"
    command.parent.mkdir()
    command.write_text(f'#!/bin/sh\nexec {sys.executable} -m imagekit "$@"\n')
    command.chmod(0o755)
    installed = subprocess.run(["imagekit", "--install-completion", "bash"], capture_output=True, text=True,
                               timeout=60, env=environment(tmp_path))
    assert installed.returncode == 0, installed.stderr
    return tmp_path


def environment(home: Path) -> dict[str, str]:
    return {"PATH": f"{home / 'bin'}:/usr/bin:/bin", "HOME": str(home), "SHELL": "/bin/bash"}


def complete(home: Path, *words: str) -> list[str]:
    """What bash offers after `imagekit WORDS`, in a shell that read the ~/.bashrc the install edited."""
    script = ('source ~/.bashrc\n'
              f'COMP_WORDS=(imagekit {" ".join(words)}); COMP_CWORD={len(words)}\n'
              '_imagekit_completion imagekit\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env=environment(home))
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_installed_bash_completion_completes_commands_subcommands_and_options(home: Path) -> None:
    assert "smoke" in complete(home, "sm")
    assert complete(home, "smoke", "tr") == ["train", "transform"]
    assert set(complete(home, "smoke", "all", "--inst")) == {"--instances", "--instance-type"}
