"""IK506: what execve refuses with ENOEXEC (checked against runc: `exec /usr/local/bin/train: exec format error`
for each bad head below), and what it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from image.test_image_rules import example_findings
from imagekit.image.example import File, ImageExample, elf
from imagekit.image.fs import FILE, Entry
from imagekit.lint.rules.image.ik506_exec_format_error import unexecutable

EXECUTABLE = 0o755
NO_ENTRYPOINT = {"Entrypoint": None}  # `docker run IMAGE train` runs `train` from PATH


@pytest.mark.parametrize(("content", "why"), [
    ("echo training\n", "is neither an ELF binary nor a script starting with `#!`"),
    ("", "is empty"),
    ("\ufeff#!/bin/sh\necho training\n", "starts with a UTF-8 byte-order mark before `#!`"),
    ("\n#!/bin/sh\necho training\n", "has blank space or lines before `#!`"),
    (" #!/bin/sh\necho training\n", "has blank space or lines before `#!`"),
    ("#!\necho training\n", "has a `#!` line that names no interpreter"),
    ("#! \t\necho training\n", "has a `#!` line that names no interpreter"),
])
def test_heads_the_kernel_refuses(tmp_path: Path, content: str, why: str) -> None:
    example = ImageExample(config=NO_ENTRYPOINT, files={"usr/local/bin/train": File(content, mode=EXECUTABLE)})
    assert example_findings(tmp_path, example, "IK506", "bad") == ["IK506"]
    assert unexecutable(_entry(content.encode())).startswith(why)


@pytest.mark.parametrize("content", ["#!/bin/sh\necho training\n", "#! /bin/sh\necho training\n", "#!/bin/sh",
                                     elf()])
def test_heads_the_kernel_runs(tmp_path: Path, content: str | bytes) -> None:
    example = ImageExample(config=NO_ENTRYPOINT, files={"usr/local/bin/train": File(content, mode=EXECUTABLE)})
    assert "IK506" not in example_findings(tmp_path, example, "IK506", "good")


def test_a_scripts_interpreter_must_start_like_a_program_too(tmp_path: Path) -> None:
    runner = File("exec python3 \"$@\"\n", mode=EXECUTABLE)
    example = ImageExample(config=NO_ENTRYPOINT, files={"opt/bin/runner": runner,
                                                        "usr/local/bin/train": "#!/opt/bin/runner\nprint(1)\n"})
    assert example_findings(tmp_path, example, "IK506", "interpreter") == ["IK506"]


def test_a_file_whose_first_bytes_were_not_kept_is_not_judged() -> None:
    assert unexecutable(Entry(FILE, EXECUTABLE, 0, 0, 4096, 0)) is None  # a hard link's second name, say
    assert unexecutable(Entry(FILE, EXECUTABLE, 0, 0, 0, 0)) == "is empty"


def test_a_program_that_is_not_executable_is_left_to_ik104(tmp_path: Path) -> None:
    example = ImageExample(config=NO_ENTRYPOINT, files={"usr/local/bin/train": File("echo training\n", mode=0o644)})
    assert "IK506" not in example_findings(tmp_path, example, "IK506", "plain")


def _entry(head: bytes) -> Entry:
    return Entry(FILE, EXECUTABLE, 0, 0, len(head), 0, head=head[:256])
