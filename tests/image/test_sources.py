"""One filesystem view from every source; hostile or broken archives end in a clear error (exit 2)."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from image.archive import BASE_LAYER, docker_save, docker_save_many, layer_tar, oci_layout
from imagekit.contract import Limits
from imagekit.errors import ImagekitError
from imagekit.image import open_image
from imagekit.lint.image_lint import lint_image

SERVE = b"#!/usr/bin/env python3\nprint('serving')\n"
CONFIG = {"Entrypoint": ["/usr/local/bin/serve"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]}
LAYERS = [BASE_LAYER, [("usr/local/bin/serve", SERVE), ("opt/data", b"x" * 100)], [("opt/.wh.data", b"")]]


def summary(ref: str, **kwargs) -> tuple:
    image = open_image(ref, **kwargs)
    return (image.config, image.architecture, sorted(image.entries), image.total_size, image.wasted_size)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_docker_save_and_oci_layouts_give_the_same_view(tmp_path: Path, compression: str) -> None:
    saved = docker_save(tmp_path / "img.tar", CONFIG, LAYERS, compression=compression)
    gzipped = docker_save(tmp_path / "img.tar.gz", CONFIG, LAYERS, compression=compression, gzip_outer=True)
    layout = oci_layout(tmp_path / "oci", {"linux/amd64": (CONFIG, LAYERS)}, compression)
    oci_tar = tmp_path / "oci.tar"
    with tarfile.open(oci_tar, "w") as tar:
        tar.add(layout, arcname=".")
    expected = summary(str(saved))
    assert "opt/data" not in expected[2] and expected[4] == 100  # the whiteout deleted it; its bytes are wasted
    for other in (gzipped, layout, oci_tar):
        assert summary(str(other)) == expected


def test_multi_platform_index_picks_the_requested_platform(tmp_path: Path) -> None:
    arm = [BASE_LAYER, [("usr/local/bin/serve", SERVE), ("arm-only", b"a")]]
    layout = oci_layout(tmp_path / "oci", {"linux/amd64": (CONFIG, LAYERS), "linux/arm64": (CONFIG, arm)})
    assert "arm-only" in open_image(str(layout), platform="linux/arm64").entries
    image = open_image(str(layout), platform="linux/amd64")
    assert "arm-only" not in image.entries and "linux/amd64" in image.platform_note
    assert "IK526" in [f.rule for f in lint_image(str(layout), platform="linux/amd64")]
    with pytest.raises(ImagekitError, match="no image for platform linux/riscv64.*linux/amd64, linux/arm64"):
        open_image(str(layout), platform="linux/riscv64")


def _with_attestations(layout: Path) -> Path:
    """Add BuildKit's provenance manifest (platform unknown/unknown) for each image, as `buildx --provenance` does."""
    index = json.loads((layout / "index.json").read_text())
    for image in list(index["manifests"]):
        index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "digest": image["digest"], "size": image["size"],
                                   "platform": {"os": "unknown", "architecture": "unknown"},
                                   "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                                   "vnd.docker.reference.digest": image["digest"]}})
    (layout / "index.json").write_text(json.dumps(index))
    return layout


def test_attestation_manifests_are_not_platforms(tmp_path: Path) -> None:
    one = _with_attestations(oci_layout(tmp_path / "one", {"linux/amd64": (CONFIG, LAYERS)}))
    assert open_image(str(one)).platform_note == ""
    assert "IK526" not in [f.rule for f in lint_image(str(one))]
    arm = [BASE_LAYER, [("usr/local/bin/serve", SERVE), ("arm-only", b"a")]]
    two = _with_attestations(oci_layout(tmp_path / "two", {"linux/amd64": (CONFIG, LAYERS),
                                                            "linux/arm64": (CONFIG, arm)}))
    assert open_image(str(two), platform="linux/arm64").platform_note == "picked platform linux/arm64 of 2"
    index = json.loads((one / "index.json").read_text())
    index["manifests"] = index["manifests"][1:]
    (one / "index.json").write_text(json.dumps(index))
    with pytest.raises(ImagekitError, match="lists only attestations"):
        open_image(str(one))


def test_an_archive_of_several_images_is_refused_unless_one_is_named(tmp_path: Path) -> None:
    other = [BASE_LAYER, [("usr/local/bin/serve", SERVE), ("b-only", b"b")]]
    two = docker_save_many(tmp_path / "two.tar", {"app:a": (CONFIG, LAYERS), "app:b": (CONFIG, other)})
    layout = oci_layout(tmp_path / "oci", {"a": (CONFIG, LAYERS), "b": (CONFIG, other)}, by_name=True)
    for archive, a, b in ((two, "app:a", "app:b"), (layout, "a", "b")):
        with pytest.raises(ImagekitError, match=re.escape(f"{archive} holds 2 images ({a}; {b})")):
            open_image(str(archive))
        with pytest.raises(ImagekitError, match=re.escape(f"Pick one with `--image {archive}:TAG`")):
            open_image(str(archive))
        assert "b-only" in open_image(f"{archive}:{b}").entries
        assert "b-only" not in open_image(f"{archive}:{a}").entries
        with pytest.raises(ImagekitError, match=re.escape(f"{archive} has no image tagged c; it holds: {a}; {b}.")):
            open_image(f"{archive}:c")
    assert "b-only" in open_image(f"{two}:app:b", platform="linux/amd64").entries
    one = docker_save(tmp_path / "one.tar", CONFIG, LAYERS)  # tagged test:latest
    assert summary(f"{one}:test") == summary(f"{one}:test:latest") == summary(str(one))
    run = subprocess.run([sys.executable, "-m", "imagekit", "lint", "--image", str(two)], capture_output=True,
                         text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "app:a; app:b" in " ".join(run.stderr.split())


def test_a_single_platform_image_is_checked_against_the_asked_platform(tmp_path: Path) -> None:
    saved = str(docker_save(tmp_path / "img.tar", CONFIG, LAYERS, architecture="arm64"))
    assert open_image(saved, platform="linux/arm64").architecture == "arm64"
    assert open_image(saved, platform="linux").architecture == "arm64"
    with pytest.raises(ImagekitError, match="img.tar is a linux/arm64 image, not linux/amd64"):
        open_image(saved, platform="linux/amd64")


def _tar(path: Path, members: list[tuple[str, bytes]], **info_fields) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for key, value in info_fields.get(name, {}).items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data))
    return path


def _with_layer(tmp_path: Path, layer: bytes, name: str = "0/layer.tar") -> Path:
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": CONFIG}).encode()
    manifest = json.dumps([{"Config": "c.json", "Layers": [name]}]).encode()
    return _tar(tmp_path / "img.tar", [(name, layer), ("c.json", config), ("manifest.json", manifest)])


def _hostile_layer(name: str, linkname: str = "", kind: bytes = tarfile.REGTYPE) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, linkname
        tar.addfile(info, io.BytesIO(b""))
    return buffer.getvalue()


@pytest.mark.parametrize("layer, message", [
    (_hostile_layer("../escape"), "points outside the archive root"),
    (_hostile_layer("/etc/passwd"), "points outside the archive root"),
    (_hostile_layer("usr/bin/x", "usr/bin/missing", tarfile.LNKTYPE), "hard link usr/bin/x to usr/bin/missing"),
    (gzip.compress(layer_tar(BASE_LAYER))[:200], "damaged or truncated"),
])
def test_hostile_or_broken_layers_are_clear_errors(tmp_path: Path, layer: bytes, message: str) -> None:
    with pytest.raises(ImagekitError, match=message):
        open_image(str(_with_layer(tmp_path, layer)))


def test_decompression_bomb_is_refused_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setattr(Limits, "BOMB_FLOOR", 1 << 20)
    bomb = io.BytesIO()
    with tarfile.open(fileobj=bomb, mode="w") as tar:
        info = tarfile.TarInfo("zeros")
        info.size = 64 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    with pytest.raises(ImagekitError, match="decompression bomb"):
        open_image(str(_with_layer(tmp_path, gzip.compress(bomb.getvalue(), 9))))


def test_gzipped_archive_that_is_a_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setattr(Limits, "BOMB_FLOOR", 1 << 20)
    archive = tmp_path / "img.tar.gz"
    with gzip.open(archive, "wb", compresslevel=9) as out, tarfile.open(fileobj=out, mode="w|") as tar:
        info = tarfile.TarInfo("padding.bin")
        info.size = 64 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    with pytest.raises(ImagekitError, match=f"{archive} expands beyond .* MiB.*decompression bomb"):
        open_image(str(archive))


def test_archive_that_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImagekitError, match="not an image"):
        open_image(str(_tar(tmp_path / "x.tar", [("README", b"hello")])))


def test_missing_layer_blob(tmp_path: Path) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": CONFIG}).encode()
    manifest = json.dumps([{"Config": "c.json", "Layers": ["0/layer.tar"]}]).encode()
    archive = _tar(tmp_path / "img.tar", [("c.json", config), ("manifest.json", manifest)])
    with pytest.raises(ImagekitError, match="layer 0/layer.tar named by the manifest is missing"):
        open_image(str(archive))


def test_truncated_outer_archive(tmp_path: Path) -> None:
    archive = docker_save(tmp_path / "img.tar.gz", CONFIG, LAYERS, gzip_outer=True)
    archive.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(ImagekitError):
        open_image(str(archive))


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    good = docker_save(tmp_path / "good.tar", CONFIG, LAYERS)
    bad = docker_save(tmp_path / "bad.tar", {**CONFIG, "Entrypoint": ["/opt/missing"]}, LAYERS)
    run = [sys.executable, "-m", "imagekit", "lint", "--profile", "serve", "--format", "json", "--image"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run([*run, str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1
    finding = json.loads(failed.stdout)["findings"][0]
    assert finding["rule"] == "IK104" and finding["line"] is None and finding["path"] == "/opt/missing"
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"not a tar at all" * 100)
    error = subprocess.run([*run, str(broken)], capture_output=True, text=True)
    assert error.returncode == 2 and "Traceback" not in error.stderr and str(broken) in error.stderr
    missing = subprocess.run([*run, str(tmp_path / "nope.tar")], capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert sorted(os.listdir(tmp_path)) == ["bad.tar", "broken.tar", "good.tar"]  # nothing written


def test_dockerfile_cross_check(tmp_path: Path) -> None:
    archive = docker_save(tmp_path / "img.tar", CONFIG, LAYERS)
    same = tmp_path / "Dockerfile"
    same.write_text('FROM base\nCOPY serve /usr/local/bin/serve\nENTRYPOINT ["/usr/local/bin/serve"]\n')
    assert "IK550" not in [f.rule for f in lint_image(str(archive), dockerfile=str(same))]
    other = tmp_path / "Other.Dockerfile"
    other.write_text('FROM base\nCOPY app /opt/app/\nENTRYPOINT ["/opt/app/run"]\nUSER 1000\n')
    messages = [f.message for f in lint_image(str(archive), dockerfile=str(other)) if f.rule == "IK550"]
    assert len(messages) == 3
    assert any("ENTRYPOINT" in m for m in messages) and any("USER" in m for m in messages)
    assert any("/opt/app/" in m for m in messages)
    assert any('ENTRYPOINT ["/opt/app/run"] but the image has ["/usr/local/bin/serve"]' in m for m in messages)
    assert any("USER 1000 but the image runs as root (no USER)" in m for m in messages)


def test_dockerfile_cross_check_words_a_missing_entrypoint_or_cmd_without_python_reprs(tmp_path: Path) -> None:
    archive = docker_save(tmp_path / "img.tar", {"Env": CONFIG["Env"]}, LAYERS)
    other = tmp_path / "other.Dockerfile"
    other.write_text('FROM base\nENTRYPOINT ["python", "-m", "app"]\nCMD ["--port", "8080"]\n')
    messages = sorted(f.message for f in lint_image(str(archive), dockerfile=str(other)) if f.rule == "IK550")
    assert messages == [
        f'{other}:2: ENTRYPOINT ["python", "-m", "app"] but the image has no ENTRYPOINT; the image was built from '
        "another version of the file.",
        f'{other}:3: CMD ["--port", "8080"] but the image has no CMD; the image was built from another version of '
        "the file."]


@pytest.mark.slow
def test_engine_and_saved_archive_give_the_same_findings(throwaway_image, tmp_path: Path) -> None:
    tag = throwaway_image(
        "FROM {base}\nCOPY serve /usr/local/bin/serve\nCOPY train /usr/local/bin/train\n"
        'ENTRYPOINT ["/usr/local/bin/serve"]\n',
        files={"serve": "#!/usr/bin/python\nprint(1)\n", "train": "#!/usr/bin/env python3\r\nprint(1)\r\n"},
    )
    from imagekit import engine

    archive = tmp_path / "saved.tar"
    with archive.open("wb") as out:
        for chunk in engine.export_image(tag):
            out.write(chunk)
    from_engine = [(f.rule, f.message) for f in lint_image(tag)]
    from_archive = [(f.rule, f.message) for f in lint_image(str(archive))]
    assert from_engine == from_archive
    assert ("IK502" in [rule for rule, _ in from_engine]), from_engine


def test_opaque_directory_hides_lower_layers_and_hardlinks_keep_their_target(tmp_path: Path) -> None:
    layers = [BASE_LAYER, [("opt/app/old.py", b"old"), ("opt/app/keep.py", b"k")],
              [("opt/app/.wh..wh..opq", b""), ("opt/app/new.py", b"new")],
              [("usr/local/bin/serve", SERVE)]]
    archive = docker_save(tmp_path / "img.tar", CONFIG, layers)
    image = open_image(str(archive))
    assert [p for p, _ in image.walk("/opt/app")] == ["/opt/app", "/opt/app/new.py"]
    assert image.layers[1].wasted == 4  # old.py and keep.py were hidden by the opaque directory
    hardlinked = docker_save(tmp_path / "hard.tar", {"Entrypoint": ["/usr/local/bin/serve"]},
                             [BASE_LAYER, [("usr/local/bin/serve", SERVE)]])
    _add_hardlink(hardlinked, "usr/local/bin/serve-again", "usr/local/bin/serve")
    entry = open_image(str(hardlinked)).entries["usr/local/bin/serve-again"]
    assert entry.kind == "file" and entry.head.startswith(b"#!") and entry.mode & 0o111


def _add_hardlink(archive: Path, name: str, target: str) -> None:
    """Append a layer holding one hard link to *archive* (a docker_save output) and list it in the manifest."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.LNKTYPE, target
        layer.addfile(info)
    manifest = json.loads(members.pop("manifest.json"))
    manifest[0]["Layers"].append("hard/layer.tar")
    members["hard/layer.tar"] = buffer.getvalue()
    members["manifest.json"] = json.dumps(manifest).encode()
    _tar(archive, list(members.items()))


def test_docker_save_links_a_repeated_layer_to_its_first_copy(tmp_path: Path) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": CONFIG}).encode()
    manifest = json.dumps([{"Config": "c.json", "Layers": ["0/layer.tar", "1/layer.tar", "2/layer.tar"]}]).encode()
    serve, base = layer_tar([("usr/local/bin/serve", SERVE)]), layer_tar(BASE_LAYER)
    archive = _tar(tmp_path / "img.tar", [("0/layer.tar", base), ("1/layer.tar", serve), ("2/layer.tar", b""),
                                          ("c.json", config), ("manifest.json", manifest)],
                   **{"2/layer.tar": {"type": tarfile.SYMTYPE, "linkname": "../1/layer.tar", "size": 0}})
    image = open_image(str(archive))
    assert len(image.layers) == 3 and image.entries["usr/local/bin/serve"].layer == 2
    assert image.layers[1].wasted == len(SERVE)  # the second copy replaced the first


def test_many_whiteouts_and_opaque_markers_are_applied_per_entry_touched(tmp_path: Path) -> None:
    """A layer of thousands of (repeated) opaque markers and directory whiteouts is indexed in linear work."""
    directories = [f"d{n}" for n in range(5000)]
    lower = [item for d in directories for item in ((f"{d}/a", b"a"), (f"{d}/b", b"b"))]
    upper = [(f"{d}/.wh..wh..opq", b"") for d in directories[::2]] * 2 + \
            [(f".wh.{d}", b"") for d in directories[1::2]] + [("d0/new", b"n")]
    image = open_image(str(docker_save(tmp_path / "img.tar", CONFIG, [BASE_LAYER, lower, upper])))
    data = sorted(p for p in image.entries if p.startswith("d"))
    assert data == sorted([*directories[::2], "d0/new"])
    assert image.layers[1].wasted == 10000


def test_a_directory_named_like_the_image_does_not_hide_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--image iris` beside the project's `iris/` package means the image; `./iris` still means the directory."""
    from imagekit.image.sources import source_of

    monkeypatch.chdir(tmp_path)
    (tmp_path / "iris").mkdir()
    monkeypatch.setattr("imagekit.image.registry_source.from_registry", lambda ref: False)
    assert source_of("iris") == "the Docker engine"
    assert source_of("./iris") == "the OCI layout iris"
    with pytest.raises(ImagekitError, match="is a directory but not an OCI image layout"):
        open_image("./iris")


def test_an_unparseable_dockerfile_to_cross_check_is_bad_input(tmp_path: Path) -> None:
    saved = str(docker_save(tmp_path / "img.tar", CONFIG, LAYERS))
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM\n")
    with pytest.raises(ImagekitError, match=re.escape(f"--dockerfile {broken}:1:")):
        lint_image(saved, dockerfile=str(broken))


@pytest.mark.parametrize("layer, message", [
    (b"", "layer 0/layer.tar is empty"),  # present, not missing
    (layer_tar([("opt/program/weights.bin", b"w" * 5000)])[:2000], "layer 0/layer.tar is damaged or truncated"),
])
def test_a_damaged_layer_is_named_as_the_layer(tmp_path: Path, layer: bytes, message: str) -> None:
    with pytest.raises(ImagekitError, match=message):
        open_image(str(_with_layer(tmp_path, layer)))


@pytest.mark.parametrize("manifest, message", [
    (b'{"Config": "c.json"}', "manifest.json is not a valid image document: the top level should be a list"),
    (b"[]", "manifest.json lists no image"),
    (b'"not an object"', "manifest.json is not a valid image document"),
])
def test_a_manifest_of_the_wrong_shape_is_named(tmp_path: Path, manifest: bytes, message: str) -> None:
    with pytest.raises(ImagekitError, match=message):
        open_image(str(_tar(tmp_path / "img.tar", [("manifest.json", manifest)])))


def test_an_oci_index_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    layout = oci_layout(tmp_path / "oci", {"linux/amd64": (CONFIG, LAYERS)})
    (layout / "index.json").write_text('"not an object"')
    with pytest.raises(ImagekitError, match="index.json is not a valid image document: the top level should be an "
                                            "object, not str"):
        open_image(str(layout))


def test_devices_fifos_and_empty_references_are_named_for_what_they_are(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    for special in ("/dev/zero", str(tmp_path / "fifo")):  # reading either would never end
        with pytest.raises(ImagekitError, match=f"{special} is not a regular file"):
            open_image(special)
    from imagekit.lint import LintOptions, Target, run

    with pytest.raises(ImagekitError, match="--image needs a value"):
        run([Target.image("")])
    with pytest.raises(ImagekitError, match="--dockerfile needs a value"):
        run([Target.image("x.tar")], LintOptions(dockerfile=""))


def test_a_directory_named_like_the_image_is_no_special_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def asked(ref: str) -> dict:
        raise ImagekitError(f"the engine was asked for {ref}")

    monkeypatch.chdir(tmp_path)
    (tmp_path / "iris").mkdir()
    monkeypatch.setattr("imagekit.image.registry_source.from_registry", lambda ref: False)
    monkeypatch.setattr("imagekit.engine.require_image", asked)
    with pytest.raises(ImagekitError, match="the engine was asked for iris"):
        open_image("iris")


def test_the_total_size_is_the_bytes_of_the_merged_files(tmp_path: Path) -> None:
    """total_size comes from the layers' running totals; it must equal the sum over the merged files through
    overwrites (in one layer and across layers), deletions, opaque directories and a file replaced by a dir."""
    layers = [BASE_LAYER,
              [("opt/a", b"a" * 10), ("opt/a", b"a" * 30), ("opt/d/x", b"x" * 7), ("opt/f", b"f" * 5),
               ("srv/k", b"k" * 11)],
              [("opt/a", b"b" * 3), ("opt/d/.wh..wh..opq", b""), ("opt/d/y", b"y" * 2), ("opt/.wh.f", b""),
               ("srv/k/inner", b"i" * 4)]]
    image = open_image(str(docker_save(tmp_path / "img.tar", CONFIG, layers)))
    assert image.total_size == sum(entry.size for entry in image.entries.values())
    assert image.entries["opt/a"].size == 3 and "opt/d/x" not in image.entries and "opt/f" not in image.entries
