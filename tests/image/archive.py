"""Build image archives in pure Python: `docker save` layout or OCI layout, plain/gzip/zstd layers.

A layer is a list of files: (path, content) for a regular file (mode 0755 when the content starts with `#!` or
ELF magic, else 0644), or (path, Link("target")) for a symlink, (path, Dir()) for a directory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from pathlib import Path

from imagekit.image.example import EXAMPLE_BASE_LAYERS, Dir, File, Link, elf  # noqa: F401  (re-exported)

# The file kinds and the minimal base are the shipped image examples' (imagekit.image.example): one vocabulary for
# rule examples and for these tests.
BASE_LAYER = list(EXAMPLE_BASE_LAYERS[0].items())  # a tiny "distribution": a shell, env, python3, /etc/passwd


def layer_tar(files: list) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, item in files:
            info = tarfile.TarInfo(path)
            if isinstance(item, Link):
                info.type, info.linkname = tarfile.SYMTYPE, item.target
                tar.addfile(info)
            elif isinstance(item, Dir):
                info.type, info.mode = tarfile.DIRTYPE, item.mode
                tar.addfile(info)
            else:
                item = item if isinstance(item, File) else File(item)
                info.size, info.mode, info.uid, info.gid = len(item.data), item.file_mode, item.uid, item.gid
                tar.addfile(info, io.BytesIO(item.data))
    return buffer.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


def config_json(config: dict, architecture: str = "amd64", os: str = "linux") -> bytes:
    return json.dumps({"architecture": architecture, "os": os, "config": config, "rootfs": {"type": "layers"}}).encode()


def docker_save(path: Path, config: dict, layers: list[list], *, architecture: str = "amd64",
                compression: str = "none", gzip_outer: bool = False) -> Path:
    """Write a `docker save`-style archive: <n>/layer.tar, <sha>.json, manifest.json (last, as docker does)."""
    return docker_save_many(path, {"test:latest": (config, layers)}, architecture=architecture,
                            compression=compression, gzip_outer=gzip_outer)


def docker_save_many(path: Path, images: dict[str, tuple[dict, list[list]]], *, architecture: str = "amd64",
                     compression: str = "none", gzip_outer: bool = False) -> Path:
    """`docker save A B`: one manifest.json entry per image (tag -> (config, layers)), layers named apart."""
    entries, manifest = [], []
    for number, (tag, (config, layers)) in enumerate(images.items()):
        prefix = f"{number}-" if number else ""
        blobs = [(f"{prefix}{index}/layer.tar", compress(layer_tar(files), compression))
                 for index, files in enumerate(layers)]
        config_bytes = config_json(config, architecture)
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        manifest.append({"Config": config_name, "RepoTags": [tag], "Layers": [n for n, _ in blobs]})
        entries += [*blobs, (config_name, config_bytes)]
    entries.append(("manifest.json", json.dumps(manifest).encode()))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(raw.getvalue()) if gzip_outer else raw.getvalue())
    return path


def oci_layout(directory: Path, images: dict[str, tuple[dict, list[list]]], compression: str = "gzip", *,
               by_name: bool = False) -> Path:
    """Write an OCI image layout directory with one manifest per platform ("linux/amd64": (config, layers)).

    *by_name*: the keys are ref names instead (linux/amd64 images, named as `skopeo copy ... oci:DIR:NAME` does).
    """
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> dict:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    manifests = []
    for key, (config, layers) in images.items():
        platform = "linux/amd64" if by_name else key
        os, architecture = platform.split("/")[:2]
        layer_descriptors = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                              **put(compress(layer_tar(files), compression))} for files in layers]
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               **put(config_json(config, architecture, os))},
                    "layers": layer_descriptors}
        where = ({"annotations": {"org.opencontainers.image.ref.name": key}} if by_name
                 else {"platform": {"os": os, "architecture": architecture}})
        manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                          **put(json.dumps(manifest).encode()), **where})
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": manifests}))
    return directory


def oci_from_docker_save(archive: Path, directory: Path) -> Path:
    """Re-pack a `docker save` archive (e.g. of an engine image) as an OCI layout with gzip layers."""
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar}
        manifest = json.loads(tar.extractfile("manifest.json").read())[0]

        def body(name: str) -> bytes:
            member = members[name]
            while member.issym():  # docker save links a repeated layer to its first copy
                member = members[posixpath.normpath(posixpath.join(posixpath.dirname(member.name),
                                                                   member.linkname))]
            return tar.extractfile(member).read()

        config = body(manifest["Config"])
        layers = [gzip.compress(body(name), mtime=0) for name in manifest["Layers"]]
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes, media_type: str) -> dict:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    image_manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": put(config, "application/vnd.oci.image.config.v1+json"),
                      "layers": [put(layer, "application/vnd.oci.image.layer.v1.tar+gzip") for layer in layers]}
    descriptor = put(json.dumps(image_manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    return directory
