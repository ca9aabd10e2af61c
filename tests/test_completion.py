"""Shell completion: `imagekit --show-completion bash` prints a script that, sourced in bash, completes commands
and options (the script `imagekit --install-completion` installs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture()
def shim(tmp_path: Path) -> Path:
    """An `imagekit` on PATH that runs this checkout, as the installed console script does."""
    command = tmp_path / "imagekit"
    command.write_text(f'#!/bin/sh\nexec {sys.executable} -m imagekit "$@"\n')
    command.chmod(0o755)
    return tmp_path


def complete(shim: Path, *words: str) -> list[str]:
    """What bash offers after `imagekit WORDS` with the generated script loaded."""
    script = ('eval "$(imagekit --show-completion bash)"\n'
              f'COMP_WORDS=(imagekit {" ".join(words)}); COMP_CWORD={len(words)}\n'
              '_imagekit_completion imagekit\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{shim}:/usr/bin:/bin", "HOME": str(shim)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_commands_subcommands_and_options(shim: Path) -> None:
    assert "smoke" in complete(shim, "sm")
    assert complete(shim, "smoke", "tr") == ["train"]
    assert set(complete(shim, "smoke", "all", "--inst")) == {"--instances", "--instance-type"}
