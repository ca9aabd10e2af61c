"""Mutated corpus files and random bytes never make the parser or any rule raise.

Derandomized with a fixed example budget, so every run checks the same inputs in a few seconds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagekit.dockerfile import parse
from imagekit.dockerfile.source import decode
from imagekit.lint.dockerfile_lint import lint_dockerfile
from lint.corpus import fuzz_seeds

SOURCES = [decode(path.read_bytes()).split("\n") for path in fuzz_seeds()]
TOKENS = ["\\", "`", "<<EOF", "EOF", "<<-'X'", "${A:-", "}", "$", '["', '"]', "[", "--mount=", "--from=",
          "# imagekit ignore=IK2", "# escape=`", "FROM", "AS", "ARG", "\t", " ", "&&", "|", "'", '"', "\ufeff", "\x00"]


@st.composite
def mutated(draw) -> str:
    lines = list(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["delete", "duplicate", "splice", "insert", "cut"]))
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        if action == "delete" and lines:
            del lines[at]
        elif action == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif action == "splice":
            other = draw(st.sampled_from(SOURCES))
            start = draw(st.integers(0, max(len(other) - 1, 0)))
            lines[at:at] = other[start:start + draw(st.integers(1, 5))]
        elif action == "insert":
            lines.insert(at, "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=6))))
        elif action == "cut" and lines:
            line = lines[at]
            lines[at] = line[:draw(st.integers(0, len(line)))]
    return "\n".join(lines)


def check_no_crash(text: str) -> None:
    df = parse(text, "fuzz.Dockerfile")
    result = lint_dockerfile(df)
    for finding in result.findings:
        assert finding.line is None or finding.line >= 1


@settings(max_examples=800, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus_files_never_crash(text: str) -> None:
    check_no_crash(text)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    check_no_crash(decode(b"FROM a:1\n" + data))
    check_no_crash(decode(data))
