"""Fuzzing with hypothesis, in process: any exception other than ImagekitError is a failure, as is a slow example.

CI runs a few hundred examples per target; `IMAGEKIT_SOAK=1` runs thousands (several minutes) for local soaks.
Memory, hangs and stray writes of whole CLI runs are covered by the child-process cases beside this file.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile.harness import SOAK
from image.archive import BASE_LAYER, docker_save
from imagekit.errors import ImagekitError
from imagekit.lint.config import load_config
from imagekit.lint.dockerfile_lint import lint_text
from imagekit.lint.image_lint import lint_image
from imagekit.spec import load_spec

FUZZ = settings(max_examples=5000 if SOAK else 150, deadline=5000, database=None, derandomize=not SOAK,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

_KEYWORDS = ["FROM", "RUN", "CMD", "ENTRYPOINT", "ENV", "ARG", "LABEL", "COPY", "ADD", "USER", "WORKDIR", "SHELL",
             "EXPOSE", "VOLUME", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER", "FROMM", "run"]
_PIECES = ["$A", "${A}", "${A:-", "${A:+x}", "${", "}", "{", '"', "'", "\\", "`", "[", "]", '["a", "b"]', "=", "A=1",
           " ", "\t", "\r", "#", "<<EOF", "EOF", "--mount=type=cache,target=/x", "--from=0", "AS b", "a:1",
           "/opt/ml/code", "serve", "train", "sagemaker", "\u00b2", "\ufeff", "\x00", "é", "--", "&&", "|", ";"]
_LINES = st.one_of(
    st.builds(lambda k, parts: f"{k} {''.join(parts)}", st.sampled_from(_KEYWORDS),
              st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=8)), max_size=12)),
    st.sampled_from(["# escape=`", "# escape=\\", "# check=skip=all", "# syntax=docker/dockerfile:1",
                     "# imagekit ignore=IK201 -- x", "# imagekit profile=serve", "# imagekit stage ignore=",
                     "# imagekit profle=train", "# imagekit global ignore=IK9999", "", "\\", "EOF"]),
    st.text(max_size=40),
)


@FUZZ
@given(st.lists(_LINES, max_size=40))
def test_fuzzed_dockerfiles(lines):
    try:
        lint_text("\n".join(lines) + "\n")
    except ImagekitError:
        pass


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
                     st.sampled_from(["sklearn", "pytorch", "cpu", "gpu", "3.11", "train.py", "../x", "/etc/passwd",
                                      "a\nb", "IK201", "error", "", "inference"]))
_KEYS = st.one_of(st.sampled_from(["name", "framework", "version", "python", "accelerator", "requirements", "file",
                                   "lock", "train", "script", "serve", "handler", "env", "labels", "code", "dir",
                                   "exclude", "user", "lint", "fail-on", "ignore", "severity", "options", "profile",
                                   "trusted-registries", "tool", "imagekit"]), st.text(max_size=8))
_DOCUMENTS = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(_KEYS, inner, max_size=6)), max_leaves=30)


@FUZZ
@given(document=_DOCUMENTS, noise=st.text(max_size=20))
def test_fuzzed_specs(tmp_path: Path, document, noise):
    (tmp_path / "train.py").write_text("print(1)\n")
    spec = tmp_path / "imagekit.yaml"
    spec.write_text(json.dumps(document) + ("\n" + noise if noise.startswith("#") else ""))
    try:
        load_spec(spec)
    except ImagekitError:
        pass


@FUZZ
@given(document=_DOCUMENTS, as_toml=st.booleans(), raw=st.text(max_size=60))
def test_fuzzed_lint_configs(tmp_path: Path, document, as_toml, raw):
    for name in ("pyproject.toml", ".imagekit.yaml"):
        (tmp_path / name).unlink(missing_ok=True)
    if as_toml:
        (tmp_path / "pyproject.toml").write_text(f"[tool.imagekit]\n{raw}\n" if raw else
                                                 f"[tool.imagekit.lint]\nx = {json.dumps(document)}\n")
    else:
        (tmp_path / ".imagekit.yaml").write_text(json.dumps({"lint": document}) if not raw else raw)
    try:
        load_config(tmp_path)
    except ImagekitError:
        pass


_NAMES = st.one_of(st.sampled_from(["usr/local/bin/serve", "bin/sh", "../x", "/etc/passwd", "a/../../b", "./a",
                                    ".wh.bin", "usr/.wh..wh..opq", "etc/passwd", "d/" * 50, "", "."]),
                   st.text(min_size=1, max_size=20))
_MEMBERS = st.lists(st.tuples(_NAMES, st.sampled_from(["file", "dir", "symlink", "hardlink", "fifo"]),
                              st.binary(max_size=40), _NAMES), max_size=12)


def _layer(members) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, body, target in members:
            info = tarfile.TarInfo(name)
            info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                         "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                info.linkname = target
            info.size = len(body) if kind == "file" else 0
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(body) if kind == "file" else None)
    return raw.getvalue()


@FUZZ
@given(members=_MEMBERS, config=_DOCUMENTS, flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)),
                                                           max_size=3))
def test_fuzzed_archives(tmp_path: Path, members, config, flips):
    archive = tmp_path / "image.tar"
    docker_save(archive, config if isinstance(config, dict) else {"Cmd": config}, [BASE_LAYER, []])
    data = bytearray(archive.read_bytes())
    # put the fuzzed layer in place of the empty second one, then flip a few bytes
    layer = _layer(members)
    with tarfile.open(archive) as tar:
        names = [m.name for m in tar]
    rebuilt = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(bytes(data))) as source, tarfile.open(fileobj=rebuilt, mode="w") as tar:
        for member in source:
            body = layer if member.name == names[1] else source.extractfile(member).read()
            member.size = len(body)
            tar.addfile(member, io.BytesIO(body))
    data = bytearray(rebuilt.getvalue())
    for offset, value in flips:
        if data:
            data[offset % len(data)] = value
    archive.write_bytes(bytes(data))
    try:
        lint_image(str(archive))
    except ImagekitError:
        pass
