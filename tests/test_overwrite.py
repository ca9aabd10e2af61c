"""Commands that write a file (a report, a model) refuse to write it over one of their inputs, before any work.

`imagekit lint -o` is covered in tests/lint/test_cli.py; these are smoke's --junit and --output, refused before
the engine is asked (so no engine is needed here).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

INPUT = '{"epochs": 3}\n'


@pytest.mark.parametrize(("args", "message"), [
    (["serve", "x:1", "--payload", "in.json", "--junit", "in.json"], "--junit in.json is a --payload"),
    (["serve", "x:1", "--model", "in.json", "--junit", "link.json"], "--junit link.json is the --model (in.json)"),
    (["train", "x:1", "--hp-file", "in.json", "--output", "in.json"], "--output in.json is the --hp-file"),
    (["all", "x:1", "--hp-file", "in.json", "--junit", "link.json"], "--junit link.json is the --hp-file"),
    (["transform", "x:1", "--input", "in.json", "--output", "out", "--junit", "in.json"],
     "--junit in.json is the --input"),
    (["train", "x:1", "--output", "m.tar.gz", "--junit", "m.tar.gz"],
     "--output m.tar.gz and --junit m.tar.gz are the same file"),
])
def test_smoke_refuses_to_write_over_its_input(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "in.json").write_text(INPUT)
    (tmp_path / "link.json").symlink_to("in.json")
    result = subprocess.run([sys.executable, "-m", "imagekit", "smoke", *args], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith(f"imagekit: error: {message}"), result.stderr
    assert (tmp_path / "in.json").read_text() == INPUT
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [
    ["train", "x:1", "--data", "train=data", "--junit", "data/a.csv"],
    ["all", "x:1", "--data", "train=data", "--junit", "data/a.csv"],
    ["train", "x:1", "--source-dir", "data", "--junit", "data/a.csv"],
    ["transform", "x:1", "--input", "data", "--output", "out", "--junit", "data/a.csv"],
])
def test_smoke_refuses_to_write_over_a_file_inside_an_input_directory(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("1,2\n")
    result = subprocess.run([sys.executable, "-m", "imagekit", "smoke", *args], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "--junit data/a.csv is a file inside" in result.stderr, result.stderr
    assert (tmp_path / "data" / "a.csv").read_text() == "1,2\n"
