"""IK200 for what `docker build` refuses (each case checked against Docker 20.10 and BuildKit's frontend source),
and nothing for what it accepts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from imagekit.dockerfile import parse

HEAD = "FROM imagekit/base:bookworm\n"


@pytest.mark.parametrize("line, reason", [
    ("ONBUILD", "ONBUILD requires at least one argument"),
    ("ONBUILD   ", "ONBUILD requires at least one argument"),
    ("USER", "USER requires exactly one argument"),
    ("WORKDIR", "WORKDIR requires exactly one argument"),
    ("EXPOSE", "EXPOSE requires at least one argument"),
    ("EXPOSE abc", "invalid container port 'abc'"),
    ("EXPOSE 99999", "invalid container port '99999'"),
    ("EXPOSE 80/xyz", "invalid protocol 'xyz'"),
    ("EXPOSE 8080-80", "invalid container port '8080-80'"),
    ("STOPSIGNAL", "STOPSIGNAL requires exactly one argument"),
    ("STOPSIGNAL FOO", "Invalid signal: FOO"),
    ("STOPSIGNAL 0", "Invalid signal: 0"),
    ("COPY", "COPY requires at least two arguments"),
    ("COPY a", "COPY requires at least two arguments"),
    ('COPY ["a"]', "COPY requires at least two arguments"),
    ("ADD a", "ADD requires at least two arguments"),
    ("VOLUME", "VOLUME requires at least one argument"),
    ("VOLUME []", "VOLUME requires at least one argument"),
    ('VOLUME [""]', "VOLUME specified can not be an empty string"),
    ("LABEL", "LABEL requires at least one argument"),
    ("LABEL a", "LABEL must have two arguments"),
    ("LABEL =x", "LABEL names can not be blank"),
    ("ARG", "ARG requires at least one argument"),
    ("ARG =x", "ARG names can not be blank"),
    ("ENV a", "ENV must have two arguments"),
    ("ENV a=b c", "can't find = in 'c'"),
    ("HEALTHCHECK", "HEALTHCHECK requires at least one argument"),
    ("HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD"),
    ("HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"),
    ("HEALTHCHECK CONNECT TCP 7000", "Unknown type 'CONNECT' in HEALTHCHECK"),
    ("HEALTHCHECK --interval=abc CMD true", "--interval=abc is not a duration"),
    ("HEALTHCHECK --retries=x CMD true", "--retries=x is not a count"),
    ("HEALTHCHECK --bogus=1 CMD true", "Unknown flag --bogus"),
    ("HEALTHCHECK --interval=$I CMD true", "--interval=$I is not a duration"),  # options are not expanded
    ("MAINTAINER", "MAINTAINER requires exactly one argument"),
    ("RUN --bogus true", "Unknown flag --bogus: RUN takes --mount"),
    ("COPY --bogus a b", "Unknown flag --bogus: COPY takes"),
    ("COPY --from a b", "Missing a value on flag --from"),
    ("CMD --help", "Unknown flag --help: CMD takes no options"),
    ("RUN --mount=type=bogus true", "Unsupported mount type 'bogus'"),
    ("RUN --network=bogus true", "Invalid --network mode 'bogus'"),
    # the words BuildKit's shell lexer expands, whatever the build args (checked with docker build)
    ('ENV PATH="/opt/conda/bin:$PATH', "Unclosed \" in '\"/opt/conda/bin:$PATH'"),
    ('LABEL a="x', "matching double-quote"),
    ('WORKDIR "/app', "matching double-quote"),
    ('COPY "a /b', "Unclosed \" in '\"a'"),
    ('COPY "a b" /x', "Unclosed \" in '\"a'"),  # COPY splits at blanks before expanding
    ("ENV A=${B", "Unclosed ${ in '${B'"),
    ('ENV A=${B:-"}"', "Unclosed ${"),
    ("ENV A=${B:-'}", "Unclosed ${"),
    ("ENV A=" + "${" * 30_000, "Unclosed ${"),  # no recursion limit
    ("ENV A='x", "matching single-quote"),
    ('ENV A "x y', "matching double-quote"),
    ('ARG "A=1"', "Unclosed \" in '\"A'"),
    ('USER "a', "matching double-quote"),
    ('EXPOSE "80', "matching double-quote"),
    ('VOLUME "/a', "matching double-quote"),
    ('STOPSIGNAL "SIGTERM', "matching double-quote"),
    ("FROM imagekit/base:bookworm AS 1abc", "Invalid name for build stage: '1abc'"),
    ("FROM imagekit/base:bookworm AS a/b", "Invalid name for build stage: 'a/b'"),
    ("FROM --bogus=1 imagekit/base:bookworm", "Unknown flag --bogus: FROM takes --platform"),
    ("FROM Imagekit/base:bookworm", "repository name must be lowercase"),
    ("COPY --from=$S /a /b", "variable expansion is not supported for --from"),
    ("COPY --from=${S:-builder} /a /b", "variable expansion is not supported for --from"),
    ("RUN --mount=type=bind,from=$S,target=/x true", "'from' doesn't support variable expansion"),
    ("HEALTHCHECK --interval=-5s CMD true", "--interval=-5s: an interval cannot be less than 1ms"),
    ("EXPOSE foo:80:80", "invalid IP address 'foo'"),
    ("EXPOSE 1-3:5-9", "ranges of different lengths"),
    ("EXPOSE 80:1-3", "ranges of different lengths"),
    ("EXPOSE " + "9" * 5000, "invalid container port"),  # past Python's int() digit limit: no crash
    ("ONBUILD ENV a", "ONBUILD ENV: ENV must have two arguments"),
    ("ONBUILD LABEL a=b c", "can't find = in 'c'"),
    ("COPY a <<EOF\nx\nEOF", "COPY cannot accept a heredoc as a destination"),
    ("SHELL []", "SHELL requires at least one argument: the JSON list is empty"),
])
def test_what_buildkit_refuses_is_a_located_syntax_error(line: str, reason: str) -> None:
    error = parse(HEAD + line + "\n").error
    assert error is not None and error.line == 2, line
    assert reason in error.message


@pytest.mark.parametrize("line", [
    "EXPOSE $P", "EXPOSE 8080 8443/tcp 9000-9010/udp", "EXPOSE 8080:80", 'EXPOSE "8080"',
    "STOPSIGNAL $S", "STOPSIGNAL SIGRTMIN+3", "STOPSIGNAL sigterm", "STOPSIGNAL 9",
    "USER a b", "ONBUILD RUN", "ONBUILD bogus x", "ONBUILD RUN true",
    "LABEL a b c", 'LABEL "a b"=c d=""', "ENV a b c", "ARG A B=1 C=", 'ENV a="x y" b=\\ z',
    "RUN --mount=type=$T true", "RUN --mount=type=cache,target=/x --network=none --security=insecure true",
    "RUN --device=x true", "COPY --link --chmod=755 --from=build a b", "COPY -- --a b", 'COPY ["a", "b"]',
    "ADD --checksum=sha256:0 --keep-git-dir=true a b", "HEALTHCHECK NONE", "HEALTHCHECK --bogus none",
    "HEALTHCHECK --interval=1m30s --timeout=.5s --start-period=0 --retries=3 CMD true",
    "HEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"http://localhost/\"]",
    "STOPSIGNAL --x SIGTERM", "ARG --x A=1", "CMD [\"--help\"]",
    "HEALTHCHECK --retries= --interval= CMD true",  # an empty value is "not set"
    'ENV A="x" B=${C:-"d}"} C=\\"x D="a\\"b"', "LABEL \"a b\"=c", 'COPY a\\" /b', "ENV A \\'x",
    'ENV A "a=b"', 'LABEL a "x=y z"', "WORKDIR \"/my app\"",
    'RUN echo "x', 'CMD echo "x', "ENTRYPOINT echo 'x", 'HEALTHCHECK CMD echo "x', 'ONBUILD ENV A "x',
    "FROM ${BASE}", "FROM imagekit/base:bookworm AS Build.er-1_x", "FROM localhost:5000/x/y:Tag",
    "FROM MyRegistry.example.com/x@sha256:" + "a" * 64, "FROM --platform=$BUILDPLATFORM imagekit/base:bookworm",
    "RUN --mount=type=cache,target=/$X true",
    "EXPOSE 127.0.0.1:80:80 [::1]:81:81 1-3:80 1-3:2-4", "COPY --from=" + "9" * 5000 + " a b",
    "ONBUILD ENV", "COPY <<EOF /x\nx\nEOF",
])
def test_what_buildkit_accepts_is_not_an_error(line: str) -> None:
    error = parse(HEAD + line + "\n").error
    assert error is None, (line, error)


def test_a_stage_named_in_capitals_is_found_again() -> None:
    assert parse(HEAD.replace("\n", " AS Builder\n") + "FROM Builder\n").error is None


def test_onbuild_without_a_trigger_is_exit_2_not_a_traceback(tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text(HEAD + "ONBUILD   \n")
    result = subprocess.run([sys.executable, "-m", "imagekit", "lint", "Dockerfile"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Dockerfile:2:1: error IK200: ONBUILD requires at least one argument" in result.stdout


@pytest.mark.parametrize("dockerfile, refused", [
    (HEAD.replace("\n", " AS unused\n") + 'ENV A="x\nEXPOSE abc\n' + HEAD, False),  # checked with docker build
    (HEAD.replace("\n", " AS base\n") + 'ENV A="x\nFROM base\n', True),
    (HEAD.replace("\n", " AS tools\n") + 'ENV A="x\n' + HEAD + "COPY --from=tools /a /b\n", True),
    (HEAD + 'ENV A="x\n' + HEAD + "RUN --mount=from=0,target=/x true\n", True),
    ('ARG A="x\n' + HEAD, False),
])
def test_words_are_expanded_only_in_the_stages_the_build_needs(dockerfile: str, refused: bool) -> None:
    """BuildKit expands words (and reads EXPOSE, STOPSIGNAL) only when it builds a stage: the last one and those
    it is built from, copies from or mounts from."""
    error = parse(dockerfile).error
    assert (error is not None and error.line == 2) == refused, error
