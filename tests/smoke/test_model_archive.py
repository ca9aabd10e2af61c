"""--model as hosting reads ModelDataUrl: a directory or a model.tar.gz; anything else is a clear exit 2."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from imagekit.errors import ImagekitError
from imagekit.smoke.layout import pack_model, unpack_model


def test_a_packed_model_and_a_directory_unpack_to_the_same_files(tmp_path: Path) -> None:
    source = tmp_path / "model"
    (source / "sub").mkdir(parents=True)
    (source / "model.pkl").write_bytes(b"weights")
    (source / "sub" / "vocab.txt").write_text("a b")
    archive = pack_model(source, tmp_path / "out" / "model.tar.gz")
    for given, extracted in ((archive, tmp_path / "from-tar"), (source, tmp_path / "from-dir")):
        unpack_model(given, extracted)
        assert (extracted / "model.pkl").read_bytes() == b"weights"
        assert (extracted / "sub" / "vocab.txt").read_text() == "a b"


def _evil_archive(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    return path


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: tmp / "missing.tar.gz", "does not exist"),
    (lambda tmp: tmp / "garbage.tar.gz", "not a tar archive"),
    (lambda tmp: tmp / "truncated.tar.gz", "not a readable model.tar.gz"),
    (lambda tmp: _evil_archive(tmp / "evil.tar.gz"), "refused"),
], ids=["missing", "garbage", "truncated", "path-traversal"])
def test_a_bad_model_is_one_clear_error_and_nothing_escapes(tmp_path: Path, make, expected: str) -> None:
    (tmp_path / "garbage.tar.gz").write_bytes(b"not an archive at all")
    good = pack_model(_model_dir(tmp_path), tmp_path / "good.tar.gz").read_bytes()
    (tmp_path / "truncated.tar.gz").write_bytes(good[: len(good) // 2])
    destination = tmp_path / "work" / "model"
    with pytest.raises(ImagekitError, match=expected):
        unpack_model(make(tmp_path), destination)
    assert not (tmp_path / "work" / "escaped.txt").exists()


def _model_dir(tmp_path: Path) -> Path:
    model = tmp_path / "m"
    model.mkdir()
    (model / "weights.bin").write_bytes(bytes(range(256)) * 400)
    return model


def test_cli_reports_a_missing_model_before_touching_the_engine(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "imagekit", "smoke", "serve", "any-image:latest", "--model",
                             str(tmp_path / "nope")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
