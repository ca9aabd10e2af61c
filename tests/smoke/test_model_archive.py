"""--model as hosting reads ModelDataUrl: a directory or a model.tar.gz; anything else is a clear exit 2."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from imagekit.errors import ImagekitError
from imagekit.smoke.layout import merge_models, pack_model, unpack_model


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


def _host_models(tmp_path: Path, files: dict[str, dict[str, str]]) -> dict[str, Path]:
    """host -> its model dir holding *files* (relative path -> text; a path ending in / is an empty dir)."""
    models = {}
    for host, contents in files.items():
        models[host] = tmp_path / host
        models[host].mkdir()
        for name, text in contents.items():
            path = models[host] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir() if name.endswith("/") else path.write_text(text)
    return models


def test_hosts_models_merge_in_host_order_and_different_bytes_under_one_name_clash(tmp_path: Path) -> None:
    """As SageMaker (and SDK local mode's copy) merges a multi-host job's /opt/ml/model: the later host's wins."""
    models = _host_models(tmp_path, {
        "algo-1": {"same.txt": "s", "clash.bin": "1", "only-1/a.txt": "a", "was-a-dir/x": "x", "empty/": ""},
        "algo-2": {"same.txt": "s", "clash.bin": "2", "was-a-dir": "now a file"},
        "algo-3": {"model.json": "{}", "clash.bin": "2"},
    })
    (models["algo-2"] / "link").symlink_to("same.txt")
    (models["algo-3"] / "link").symlink_to("model.json")
    merged = merge_models(models)
    assert merged.clashes == {"clash.bin": ["algo-1", "algo-2", "algo-3"], "link": ["algo-2", "algo-3"],
                              "was-a-dir": ["algo-1", "algo-2"]}
    unpack_model(pack_model(merged, tmp_path / "model.tar.gz"), tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "clash.bin", "empty", "link", "model.json", "only-1", "only-1/a.txt", "same.txt", "was-a-dir"]
    assert (out / "clash.bin").read_text() == "2" and (out / "was-a-dir").read_text() == "now a file"
    assert str((out / "link").readlink()) == "model.json"
    assert merged.files == 6


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


def _archive_of(path: Path, members: list[tuple[str, str, str]]) -> Path:
    """(name, kind, link-or-content) members: kind is file, sym, hard or fifo."""
    kinds = {"file": tarfile.REGTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}
    with tarfile.open(path, "w:gz") as archive:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            info.type = kinds[kind]
            if kind == "file":
                info.size = len(value)
                archive.addfile(info, io.BytesIO(value.encode()))
            else:
                info.linkname = value
                archive.addfile(info)
    return path


@pytest.mark.parametrize("members", [
    [("up", "sym", "/etc"), ("up/passwd", "file", "x")],                      # absolute link, then write through it
    [("here", "sym", "."), ("here/out", "sym", "../escaped.txt")],            # lexically inside, really outside
    [("hl", "hard", "../escaped.txt")],
    [("/abs.txt", "file", "x")],
    [("pipe", "fifo", "")],
], ids=["absolute-symlink", "symlink-through-symlink", "hardlink-out", "absolute-name", "fifo"])
def test_links_and_special_files_cannot_escape_without_tarfile_filters(tmp_path: Path, members) -> None:
    """Debian 12's Python 3.11.2 has no extraction filters: imagekit's own checks must refuse these."""
    destination = tmp_path / "work" / "model"
    with pytest.raises(ImagekitError, match="refused"):
        unpack_model(_archive_of(tmp_path / "evil.tar.gz", members), destination)
    assert not (tmp_path / "work" / "escaped.txt").exists()
    assert not list((tmp_path / "work").glob("**/passwd"))


def test_links_inside_the_model_are_kept(tmp_path: Path) -> None:
    archive = _archive_of(tmp_path / "ok.tar.gz", [("weights.bin", "file", "w"), ("latest", "sym", "weights.bin"),
                                                   ("copy", "hard", "weights.bin"), ("code/inference.py", "file", "")])
    unpack_model(archive, tmp_path / "model")
    assert (tmp_path / "model" / "latest").read_text() == "w" and (tmp_path / "model" / "copy").read_text() == "w"
    assert (tmp_path / "model" / "code" / "inference.py").exists()


def test_a_read_only_directory_in_the_model_extracts_for_a_non_root_user(tmp_path: Path) -> None:
    """Archives from Bazel or Nix carry 0555 directories; as a normal user their files must still be written."""
    import os
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="imagekit-test-"))  # tmp_path is root's 0700: nobody cannot enter it
    try:
        shared.chmod(0o777)
        with tarfile.open(shared / "model.tar.gz", "w:gz") as archive:
            folder = tarfile.TarInfo("weights")
            folder.type, folder.mode = tarfile.DIRTYPE, 0o555
            archive.addfile(folder)
            info = tarfile.TarInfo("weights/model.bin")
            info.size = 1
            archive.addfile(info, io.BytesIO(b"w"))
        code = ("from pathlib import Path; from imagekit.smoke.layout import unpack_model; "
                f"unpack_model(Path({str(shared / 'model.tar.gz')!r}), Path({str(shared / 'out')!r}))")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                                preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        assert result.returncode == 0, result.stderr
        assert (shared / "out" / "weights" / "model.bin").read_bytes() == b"w"
    finally:
        shutil.rmtree(shared)
