"""Hostile Dockerfiles: each is refused (exit 2, one paragraph) or linted within the time and memory budgets."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from hostile.harness import command, env, run


def _lint(tmp_path, text: str, *extra: str):
    (tmp_path / "Dockerfile").write_text(text)
    return run(tmp_path, "lint", "Dockerfile", *extra)


@pytest.mark.parametrize("text, limit", [
    ("FROM a\nENV A=aaaaaaaaaaaaaaaa\n" + "ENV A=$A$A$A$A\n" * 40, "EXPANSION_CHARS"),  # 4^40 characters asked for
    ("FROM a\nENV A=x\nRUN echo ${A:-" * 1 + "${A:-" * 5000 + "}" * 5001 + "\nLABEL l=${A:-" + "${A:-" * 5000
     + "x" + "}" * 5001 + "\n", "EXPANSION_NESTING"),
    ("FROM a\nRUN echo " + "x" * 60_000 + "\\\n" + "x" * 60_000 + "\n", "DOCKERFILE_WORD_CHARS"),
    ("FROM a\n" * 5_000, "DOCKERFILE_STAGES"),
    ("FROM a\n" + "RUN true\n" * 30_000, "DOCKERFILE_INSTRUCTIONS"),
    ("FROM a\nRUN echo " + "x " * (3 << 20) + "\n", "DOCKERFILE_BYTES"),
])
def test_over_a_limit_is_one_paragraph_naming_it(tmp_path, text, limit):
    outcome = _lint(tmp_path, text).check(2)
    assert limit in outcome.stderr


@pytest.mark.parametrize("line", ["RUN echo " + "x" * 100_000, "RUN echo " + "x" * (1 << 20)])
def test_a_line_longer_than_buildkit_reads_is_ik200_at_that_line(tmp_path, line):
    outcome = _lint(tmp_path, "FROM a\n" + line + "\nUSER\n", "--format", "json").check(2)
    assert [(f["rule"], f["line"]) for f in json.loads(outcome.stdout)["findings"]] == [("IK200", 2)]


def test_thousands_of_env_lines_share_one_scope(tmp_path):
    text = "FROM a\n" + "".join(f"ENV V{i}=value-{i}\n" for i in range(10_000)) + "RUN echo $V9999\n"
    _lint(tmp_path, text).check(0, 1)


def test_nested_defaults_within_the_limit_expand(tmp_path):
    _lint(tmp_path, "FROM a\nLABEL l=" + "${A:-" * 90 + "x" + "}" * 90 + "\n").check(0, 1)


def test_deep_exec_form_json_is_not_a_traceback(tmp_path):
    _lint(tmp_path, "FROM a\nCMD " + "[" * 100_000 + "\n").check(0, 1, 2)


def test_padded_pragmas_are_read_in_linear_time(tmp_path):
    text = "".join(f"# imagekit ignore={' ' * 4000}IK201{' ' * 4000}x\n" for _ in range(5)) + "FROM a\n"
    _lint(tmp_path, text).check(0, 1)


def test_unknown_pragma_key_is_a_finding_with_did_you_mean(tmp_path):
    outcome = _lint(tmp_path, "# imagekit profle=serve\nFROM a:1\n", "--format", "json").check(0, 1)
    messages = [f["message"] for f in json.loads(outcome.stdout)["findings"] if f["rule"] == "IK299"]
    assert messages and "did you mean 'profile'" in messages[0]


def test_unknown_pragma_profile_is_a_finding(tmp_path):
    outcome = _lint(tmp_path, "# imagekit profile=serv\nFROM a:1\n", "--format", "json").check(0, 1)
    assert any(f["rule"] == "IK299" and "serve" in f["message"] for f in json.loads(outcome.stdout)["findings"])


def test_check_directive_before_escape_follows_buildkit(tmp_path):
    outcome = _lint(tmp_path, "# check=skip=all\n# escape=`\nFROM a:1\nRUN echo a `\n  b\n", "--format", "json")
    assert not [f for f in json.loads(outcome.check(0, 1).stdout)["findings"] if f["rule"] == "IK200"]


def test_repeated_directive_is_a_syntax_error(tmp_path):
    outcome = _lint(tmp_path, "# escape=`\n# escape=`\nFROM a:1\n", "--format", "json").check(2)
    assert any("Only one escape" in f["message"] for f in json.loads(outcome.stdout)["findings"])


def test_empty_continuation_lines_give_a_capped_report(tmp_path):
    outcome = _lint(tmp_path, "FROM a:1\nRUN echo a \\\n" + "\n" * 100_000 + "  b\n", "--format", "json").check(0, 1)
    findings = json.loads(outcome.stdout)["findings"]
    assert len(findings) <= 1000 and "FINDINGS_PER_FILE" in findings[-1]["message"]
    assert len(outcome.stdout) < 2_000_000


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_special_files_are_refused_up_front(tmp_path, special):
    if special == "fifo":
        os.mkfifo(tmp_path / "fifo")
    assert "not a regular file" in run(tmp_path, "lint", special).check(2).message


def test_closed_stdin_and_stdout(tmp_path):
    assert "standard input" in run(tmp_path, "lint", "-", closed=(0,)).check(2).message
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    assert "Standard output is closed" in run(tmp_path, "lint", "Dockerfile", closed=(1,)).check(2).message
    run(tmp_path, "lint", "Dockerfile", "--output", "report.txt", closed=(1,)).check(1)


def test_non_utf8_names_are_reported(tmp_path):
    name = os.fsdecode(b"bad\xffname")
    (tmp_path / name).write_text("FROM a\n")
    for fmt in ("text", "json", "sarif", "junit", "github"):
        run(tmp_path, "lint", name, "--format", fmt).check(1)
        run(tmp_path, "lint", name, "--format", fmt, "--output", "report.out").check(1)


def test_over_long_and_unwritable_paths(tmp_path):
    run(tmp_path, "lint", "a/" * 3000 + "Dockerfile").check(2)
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    run(tmp_path, "lint", "Dockerfile", "--output", "/proc/version/report").check(2)


def test_empty_fail_on_flag_is_refused(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    assert "fail-on" in run(tmp_path, "lint", "Dockerfile", "--fail-on", "").check(2).message


def test_full_disk_is_one_paragraph(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    assert "No space left" in run(tmp_path, "lint", "Dockerfile", "--output", "/dev/full").check(2).message


def test_output_pipe_closed_early_is_not_a_traceback(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM a\n" + "RUN apt-get install x && pip install y\n" * 900)
    child = subprocess.Popen(command("lint", "Dockerfile"), cwd=tmp_path, env=env(tmp_path), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    child.stdout.read(100)
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) in (1, 2) and "Traceback" not in stderr, stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a case as user nobody")
def test_unreadable_input_and_unwritable_output_as_a_non_root_user():
    with tempfile.TemporaryDirectory() as directory:  # pytest's own tmp_path is private to root
        tmp = Path(directory)
        tmp.chmod(0o777)
        (tmp / "Dockerfile").write_text("FROM a\n")
        (tmp / "Dockerfile").chmod(0o000)
        unreadable = run(tmp, "lint", "Dockerfile", as_nobody=True)  # refused by the CLI's argument check
        assert unreadable.code == 2 and "not readable" in unreadable.message and "Traceback" not in unreadable.stderr
        (tmp / "readable").write_text("FROM a\n")
        (tmp / "locked").mkdir(mode=0o555)
        outcome = run(tmp, "lint", "readable", "--output", "locked/report.txt", as_nobody=True).check(2)
        assert "Permission denied" in outcome.message
