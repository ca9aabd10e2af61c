"""The normalisation layer over dockerfile-parse: each test is one of its known gaps (linters.md §6)."""

from __future__ import annotations

import codecs

import pytest

from imagekit.dockerfile import load, parse
from imagekit.dockerfile.source import decode


def test_heredoc_bodies_are_folded_into_their_instruction() -> None:
    df = parse("FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\nCMD [\"x\"]\n")
    run, cmd = df.stages[0].instructions
    assert (run.keyword, run.line, run.end_line) == ("RUN", 2, 5)
    assert run.heredocs[0].body == "apt-get update\napt-get install -y curl\n"
    assert run.shell_scripts()[1].startswith("apt-get update")
    assert (cmd.keyword, cmd.line, cmd.exec_form) == ("CMD", 6, ["x"])


def test_heredoc_variants_dash_quoted_and_several() -> None:
    df = parse('FROM debian:12\nCOPY <<-"A" <<B /dst/\n\tone\n\tA\ntwo\nB\nRUN python3 <<PY\nprint(1)\nPY\n')
    copy, run = df.stages[0].instructions
    assert [(d.marker, d.body, d.strip_tabs, d.quoted) for d in copy.heredocs] == [
        ("A", "one\n", True, True), ("B", "two\n", False, False)]
    assert run.shell_scripts() == ["python3 <<PY"]  # the body is Python, not shell


def test_unterminated_heredoc_is_a_located_syntax_error() -> None:
    df = parse("FROM debian:12\nRUN <<EOF\necho hi\n")
    assert df.error is not None and df.error.line == 2


def test_unknown_instruction_from_a_missing_continuation_is_an_error() -> None:
    df = parse("FROM debian:12\nRUN apt-get update &&\n    apt-get install -y curl\n")
    assert df.error is not None and df.error.line == 3 and "apt-get" in df.error.message


def test_empty_line_inside_a_continuation_does_not_end_the_instruction() -> None:
    df = parse("FROM debian:12\nRUN echo a \\\n\n  && echo b\nCMD [\"x\"]\n")
    run = df.stages[0].instructions[0]
    assert "echo b" in run.text and run.end_line == 4
    assert df.empty_continuation_lines == [3]


def test_exec_form_is_decoded_and_invalid_json_falls_back_to_shell_form() -> None:
    df = parse('FROM a:1\nENTRYPOINT ["python", "-m", "app"]\nCMD [python, app]\n')
    entrypoint, cmd = df.stages[0].instructions
    assert entrypoint.exec_form == ["python", "-m", "app"]
    assert cmd.exec_form is None and cmd.text == "[python, app]"


def test_json_array_of_non_strings_is_an_error_like_buildkit() -> None:
    assert parse('FROM a:1\nCMD ["echo", ["nested"]]\n').error is not None


def test_flags_are_parsed_and_removed_from_the_arguments() -> None:
    df = parse("FROM a:1 AS b\n"
               "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=t --network=none make\n"
               "COPY --from=b --chmod=755 --link src /dst\n")
    run, copy = df.stages[0].instructions
    assert run.flags == {"mount": ["type=cache,target=/root/.cache", "type=secret,id=t"], "network": ["none"]}
    assert run.text == "make"
    assert copy.flag("from") == "b" and copy.flag("chmod") == "755" and "link" in copy.flags
    assert copy.text == "src /dst"


@pytest.mark.parametrize("text, expected", [
    ("ARG B=python:3.11\nFROM ${B}\n", "python:3.11"),
    ("ARG B\nFROM ${B:-python:3.12}\n", "python:3.12"),
    ("ARG B=x\nFROM python${B:+:3.13}\n", "python:3.13"),
    ("FROM ${MISSING:-debian}:12\n", "debian:12"),
])
def test_from_expands_global_args_with_defaults(text: str, expected: str) -> None:
    assert parse(text).stages[0].base == expected


def test_arg_scoping_follows_buildkit() -> None:
    df = parse("ARG V=top\nFROM a:1\nARG V=stage\nENV X=$V\nFROM a:1\nARG V\nENV Y=$V\nFROM a:1\nENV Z=${V:-unset}\n")
    assert df.stages[0].env["X"] == "stage"  # an in-stage default wins over the global one
    assert df.stages[1].env["Y"] == "top"  # ARG without default imports the global value
    assert df.stages[2].env["Z"] == "unset"  # not declared in the stage: not visible


def test_stages_inherit_env_entrypoint_cmd_user_workdir() -> None:
    df = parse('FROM a:1 AS base\nENV X=1\nUSER app\nWORKDIR /w\nCMD ["x"]\nFROM base\nENTRYPOINT ["e"]\n')
    child = df.stages[1]
    assert child.parent is df.stages[0]
    assert (child.env, child.user, child.workdir) == ({"X": "1"}, "app", "/w")
    assert child.entrypoint is not None and child.cmd is None  # ENTRYPOINT resets an inherited CMD


def test_env_quotes_and_legacy_form() -> None:
    df = parse('FROM a:1\nENV A="x y" B=\'$A\' C=$A\nENV LEGACY some value\n')
    assert df.stages[0].env == {"A": "x y", "B": "$A", "C": "", "LEGACY": "some value"}


@pytest.mark.parametrize("bom, encoding", [
    (b"", "utf-8"), (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
])
def test_byte_order_marks_and_crlf(tmp_path, bom: bytes, encoding: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(bom + "FROM a:1\r\nRUN echo hi\r\n".encode(encoding))
    df = load(path)
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN"] and df.stages[0].instructions[0].text == "echo hi"
    if encoding == "utf-8":  # BuildKit strips a UTF-8 BOM and the CR of CRLF
        assert df.error is None
    else:  # and reads nothing else: "unknown instruction: ��F R O M"
        name = encoding.upper().replace("-LE", "LE").replace("-BE", "BE")
        assert df.error.line == 1 and f"The file is {name}" in df.error.message
        assert "Save it as UTF-8" in df.error.message


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_named_as_utf16(tmp_path, encoding: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes("FROM a:1\nRUN echo hi\n".encode(encoding))
    error = load(path).error
    name = encoding.upper().replace("-LE", "LE").replace("-BE", "BE")
    assert error.line == 1 and f"The file is {name} (no byte-order mark" in error.message


def test_the_cr_of_a_crlf_line_counts_towards_buildkits_line_limit(tmp_path) -> None:
    path = tmp_path / "Dockerfile"
    for size, refused in ((65534, False), (65535, True)):  # the line without its line end, CR excluded
        path.write_bytes(b"FROM a:1\r\nLABEL a=" + b"x" * (size - 8) + b"\r\nCMD [\"true\"]\r\n")
        error = load(path).error
        assert (error is not None and error.line == 2 and "65,536 bytes" in error.message) == refused, size


def test_cr_only_line_ends_are_one_line_to_buildkit(tmp_path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a:1\rRUN echo hi\r")
    assert "CR only" in load(path).error.message
    path.write_bytes(b"FROM a:1\nRUN echo a\rb\n")  # a lone CR inside a line is part of it, as in BuildKit
    df = load(path)
    assert df.error is None and df.stages[0].instructions[0].text == "echo a\rb"
    assert decode(b"RUN a\r\n") == "RUN a\n"


def test_a_line_over_buildkits_limit_is_a_syntax_error_at_that_line() -> None:
    assert parse("FROM a:1\nRUN echo " + "x" * (65535 - 9) + "\n").error is None
    for long_line in ("RUN echo " + "x" * (65535 - 8), "RUN echo " + "ab " * 25_000, "RUN echo " + "é" * 40_000):
        error = parse("FROM a:1\n" + long_line + "\nUSER\n").error
        assert error.line == 2 and "BuildKit refuses lines over 65,535 bytes" in error.message
    df = parse("FROM a:1\nRUN echo " + "x" * 60_000 + " \\\n    " + "y" * 60_000 + "\n")  # split: accepted
    assert df.error is None


def test_escape_directive_backtick() -> None:
    df = parse("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir `\n  C:\\\nWORKDIR C:\\app\n")
    run = df.stages[0].instructions[0]
    assert df.escape == "`" and run.end_line == 4 and "C:\\" in run.text


def test_continuation_at_end_of_file_is_accepted() -> None:
    df = parse("FROM a:1\nRUN echo \\")
    assert df.error is None and df.stages[0].instructions[0].text.startswith("echo")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "RUN echo\n", "FROM\n", "FROM a b c d\n", "ENV X\n"])
def test_unbuildable_files_get_one_located_error(text: str) -> None:
    df = parse(text)
    assert df.error is not None and df.error.line >= 1


def test_positions_are_one_based_with_columns() -> None:
    df = parse("FROM a:1\n\n  RUN echo hi\n")
    run = df.stages[0].instructions[0]
    assert (run.line, run.column) == (3, 3)


def test_load_of_a_missing_file_is_an_imagekit_error(tmp_path) -> None:
    from imagekit.errors import ImagekitError

    with pytest.raises(ImagekitError):
        load(tmp_path / "nope")


def test_unknown_instruction_is_a_located_syntax_error() -> None:
    df = parse("FROM debian:12\n  RUNN echo hi\n")
    assert df.error is not None and (df.error.line, df.error.column) == (2, 3) and "RUNN" in df.error.message


def test_run_heredoc_with_dash_strips_tabs_and_quoted_marker_is_kept_verbatim() -> None:
    df = parse("FROM debian:12\nRUN <<-'EOT' bash\n\tset -e\n\techo $HOME\n\tEOT\nUSER app\n")
    run, user = df.stages[0].instructions
    (doc,) = run.heredocs
    assert (doc.marker, doc.strip_tabs, doc.quoted, doc.body) == ("EOT", True, True, "set -e\necho $HOME\n")
    assert run.shell_scripts()[1] == "set -e\necho $HOME\n"
    assert (user.line, user.text) == (6, "app")


def test_onbuild_registers_a_parsed_trigger_and_refuses_what_buildkit_refuses() -> None:
    df = parse("FROM debian:12\nWORKDIR /src\nONBUILD RUN --mount=type=cache,target=/root/.cache pip install .\n")
    trigger = df.stages[0].instructions[1].trigger
    assert (trigger.keyword, trigger.text, trigger.flags, trigger.line, trigger.workdir) == (
        "RUN", "pip install .", {"mount": ["type=cache,target=/root/.cache"]}, 3, "/src")
    for body in ("ONBUILD RUN true", "FROM debian:12", "maintainer me"):
        broken = parse(f"FROM debian:12\nONBUILD {body}\n")
        assert broken.error is not None and broken.error.line == 2 and "not allowed" in broken.error.message
