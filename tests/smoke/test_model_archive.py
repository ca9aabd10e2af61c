"""--model as hosting reads ModelDataUrl: a directory or a model.tar.gz; anything else is a clear exit 2."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from imagekit.errors import ImagekitError
from imagekit.smoke.layout import merge_models, pack_model, unpack_model, unpackable_links


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
    assert not (out / "link").is_symlink() and (out / "link").read_text() == "{}"  # followed on its host, as packed
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


def _linked_model(tmp_path: Path) -> Path:
    """A model as training scripts leave one: a "best" link by its container path, a link to a directory, and
    links that resolve nowhere in the model (dangling, leaving it, a cycle)."""
    model = tmp_path / "trained"
    (model / "checkpoints").mkdir(parents=True)
    (model / "model.json").write_text("{}")
    (model / "checkpoints" / "step-9.bin").write_text("w")
    (model / "best.json").symlink_to("/opt/ml/model/model.json")
    (model / "latest").symlink_to("checkpoints")
    (model / "host-file").symlink_to("/etc/hostname")
    (model / "dangling").symlink_to("missing.bin")
    (model / "loop").symlink_to(".")
    return model


def test_a_trained_model_is_packed_with_links_followed_and_the_unpackable_ones_named(tmp_path: Path) -> None:
    """As SDK local mode packs /opt/ml/model (copy and tar follow links), read as the container sees the model."""
    merged = merge_models({"algo-1": _linked_model(tmp_path)})
    assert unpackable_links(merged) == {
        "dangling": "missing.bin (points to /opt/ml/model/missing.bin, which does not exist)",
        "host-file": "/etc/hostname (points to /etc/hostname, outside /opt/ml/model)",
        "loop": ". (loops back to a directory that holds it)"}
    archive = pack_model(merged, tmp_path / "out" / "model.tar.gz")
    with tarfile.open(archive) as packed:
        assert {member.name: member.type for member in packed} == {
            "best.json": tarfile.REGTYPE, "checkpoints": tarfile.DIRTYPE, "checkpoints/step-9.bin": tarfile.REGTYPE,
            "latest": tarfile.DIRTYPE, "latest/step-9.bin": tarfile.REGTYPE, "model.json": tarfile.REGTYPE}
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["model.tar.gz"]  # no partial file left
    unpack_model(archive, tmp_path / "served")  # what smoke all serves: its own archive is never refused
    assert (tmp_path / "served" / "best.json").read_text() == "{}"


def test_an_absolute_link_into_the_model_dir_is_kept_and_one_out_of_it_refused(tmp_path: Path) -> None:
    """Hosting extracts model.tar.gz into /opt/ml/model, where /opt/ml/model/... points inside the model."""
    archive = _archive_of(tmp_path / "abs.tar.gz", [("model.json", "file", "{}"), ("sub/x", "file", "x"),
                                                    ("best.json", "sym", "/opt/ml/model/model.json"),
                                                    ("sub/up", "sym", "/opt/ml/model/sub/../model.json")])
    unpack_model(archive, tmp_path / "model")
    assert (tmp_path / "model" / "best.json").read_text() == "{}"
    assert str((tmp_path / "model" / "sub" / "up").readlink()) == "../model.json"
    outside = _archive_of(tmp_path / "out.tar.gz", [("x", "sym", "/opt/ml/modelx/y")])
    with pytest.raises(ImagekitError, match=r"'x' links to '/opt/ml/modelx/y', outside /opt/ml/model\."):
        unpack_model(outside, tmp_path / "other")


@pytest.mark.parametrize("make, expected", [
    (lambda d: (d / "dangling").symlink_to("/nonexistent"), r"dangling -> /nonexistent resolves nowhere in the "
                                                            r"model: it points to /nonexistent, outside /opt/ml/model"),
    (lambda d: ((d / "a").symlink_to("b"), (d / "b").symlink_to("a")), r"-> [ab] resolves nowhere in the model: it "
                                                                        r"is a symlink loop"),
    (lambda d: os.mkfifo(d / "pipe"), r"pipe is a named pipe, socket or device"),
    (lambda d: (d / "up").symlink_to("../outside.txt"), r"up -> ../outside.txt resolves nowhere in the model: it "
                                                        r"leaves /opt/ml/model"),
], ids=["dangling", "symlink-loop", "fifo", "leaves-the-dir"])
def test_a_model_dir_entry_that_cannot_be_served_is_one_paragraph_naming_it(tmp_path: Path, make,
                                                                             expected: str) -> None:
    (tmp_path / "outside.txt").write_text("host file")
    model = tmp_path / "md"
    model.mkdir()
    (model / "model.json").write_text("{}")
    make(model)
    with pytest.raises(ImagekitError, match=expected) as refused:
        unpack_model(model, tmp_path / "work" / "model")
    assert str(model) in refused.value.message and "Errno" not in refused.value.message
    assert not (tmp_path / "work" / "model" / "up").exists()


def test_a_model_dir_keeps_its_links_as_links(tmp_path: Path) -> None:
    """Copied as extracting its model.tar.gz would leave it: a cycle is one link, not 40 nested copies."""
    model = tmp_path / "md"
    model.mkdir()
    (model / "model.json").write_text("{}")
    (model / "loop").symlink_to(".")
    (model / "best.json").symlink_to("/opt/ml/model/model.json")
    unpack_model(model, tmp_path / "copy")
    copy = tmp_path / "copy"
    assert sorted(p.name for p in copy.iterdir()) == ["best.json", "loop", "model.json"]
    assert str((copy / "loop").readlink()) == "." and str((copy / "best.json").readlink()) == "model.json"
