"""Read an image into an ImageFS from the engine, a `docker save` archive or an OCI layout, in one pass.

All three are the same shape underneath: a set of named blobs (JSON documents and layer tars). We stream
through them once: small JSON documents are kept, every layer is indexed (headers only, plus the first bytes
of the few files rules read) and its bytes are discarded. When the stream ends the manifest says which
indexed layers make up the image, and in which order. Nothing is written to disk.
"""

from __future__ import annotations

import gzip
import io
import json
import platform as host_platform
import posixpath
import re
import tarfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from imagekit.errors import ImagekitError
from imagekit.image.fs import DIR, FILE, HEAD_BYTES, OTHER, SMALL_FILE_LIMIT, SMALL_FILES, SYMLINK, Entry, ImageFS

JSON_LIMIT = 8 << 20  # manifests and configs are kilobytes; anything bigger is a layer
BOMB_FLOOR = 256 << 20  # a layer may always expand to this much...
BOMB_RATIO = 200  # ...or to this many times its compressed size, whichever is larger
_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}
_HEAD_NAMES = ("id_rsa", "id_ed25519", "id_ecdsa", ".pem", ".key", "credentials", ".env", "token", ".netrc")

_LAYER_NAME = re.compile(r"(^|/)layer\.tar$|^blobs/[a-z0-9]+/[0-9a-f]+$")  # docker save <= 24 | OCI blobs

Member = tuple[str, Entry, str | None, bytes | None]


def open_image(ref: str, *, platform: str | None = None) -> ImageFS:
    """The image named by *ref*: an existing archive file or OCI layout directory, else an engine image.

    `ARCHIVE:TAG` picks one image of an archive or layout that holds several (RepoTags, OCI ref names).
    """
    path, tag = _path_and_tag(ref)
    if path.is_dir():
        if not (path / "oci-layout").is_file():
            raise ImagekitError(f"{ref} is a directory but not an OCI image layout (no oci-layout file).",
                                "Pass an OCI layout directory, a `docker save` archive, or an image name.")
        wanted = [path / "index.json", *sorted(path.glob("blobs/*/*"))]  # fixed depth: no walking into links
        blobs = ((str(p.relative_to(path)), p.stat().st_size, p.open("rb")) for p in wanted
                 if p.is_file() and not p.is_symlink())
        return _assemble(ref, _read_blobs(ref, blobs, seekable=True), platform, tag)
    if path.is_file():
        with path.open("rb") as stream:
            if stream.peek(2).startswith(_GZIP):
                read = _read_archive(ref, _decompressed(stream, path.stat().st_size, ref))
                return _assemble(ref, read, platform, tag)
            return _assemble(ref, _read_archive(ref, stream, seekable=True), platform, tag)
    if ref.endswith((".tar", ".tar.gz", ".tgz")) or "/" in ref and ref.startswith((".", "/")):
        raise ImagekitError(f"Image archive {ref} does not exist.", "Check the path, or create it with "
                            "`docker save IMAGE -o FILE`.")
    from imagekit import engine

    return _assemble(ref, _read_archive(ref, _ChunkReader(engine.export_image(ref))), platform)


def _path_and_tag(ref: str) -> tuple[Path, str | None]:
    """*ref* as a path, or as `ARCHIVE:TAG` when the part before a colon is an archive file or an OCI layout.

    A path that exists as written always wins, and an engine ref (`name:tag`, `host:5000/name`) is split only when
    its head is such an archive on disk.
    """
    if not Path(ref).exists():
        for at in (i for i, char in enumerate(ref) if char == ":"):
            head = Path(ref[:at])
            if (head.is_file() and head.name.endswith((".tar", ".tar.gz", ".tgz"))
                    or head.is_dir() and (head / "oci-layout").is_file()):
                return head, ref[at + 1:]
    return Path(ref), None


# --- the outer container: a tar (maybe gzipped) or a directory -------------------------------------------
def _decompressed(raw: IO[bytes], size: int, ref: str) -> IO[bytes]:
    """A `.tar.gz` archive as a tar stream, capped like a layer so a gzip bomb cannot run for hours."""
    return _Limited(gzip.GzipFile(fileobj=raw, mode="rb"), max(BOMB_FLOOR, BOMB_RATIO * size), ref)


def _read_archive(ref: str, stream: IO[bytes], seekable: bool = False) -> tuple[dict[str, Any], dict[str, list]]:
    """The blobs of a tar: streamed, or (a plain tar file) with random access so file bodies are skipped by seeking."""
    aliases: dict[str, str] = {}

    def blobs(archive: tarfile.TarFile) -> Iterator[tuple[str, int, IO[bytes]]]:
        for member in archive:
            name = _member_name(ref, member.name)
            if member.isfile():
                yield name, member.size, archive.extractfile(member)
            elif member.issym():  # docker save stores a layer repeated in one image once and links the rest
                aliases[name] = _member_name(ref, posixpath.join(posixpath.dirname(name), member.linkname))

    try:
        with tarfile.open(fileobj=stream, mode="r:" if seekable else "r|") as archive:
            documents, layers = _read_blobs(ref, blobs(archive), seekable)
            layers.update({alias: layers[target] for alias, target in aliases.items() if target in layers})
            return documents, layers
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise ImagekitError(f"{ref} is not a readable image archive: {error}.",
                            "Recreate it with `docker save IMAGE -o FILE` (optionally gzipped) or pass an OCI "
                            "layout.") from None


def _read_blobs(ref: str, blobs: Iterable[tuple[str, int, IO[bytes]]],
                seekable: bool = False) -> tuple[dict[str, Any], dict[str, list]]:
    """Small JSON documents by name, and every layer's members by name (*seekable*: blobs support seek)."""
    documents: dict[str, Any] = {}
    layers: dict[str, list[Member]] = {}
    for name, size, body in blobs:
        with body:
            peek = body.read(4)
            if peek[:1] in (b"{", b"[") and size <= JSON_LIMIT:
                try:
                    documents[name] = json.loads(peek + body.read())
                except ValueError:
                    raise ImagekitError(f"{ref}: {name} is neither JSON nor a layer.",
                                        "The archive is damaged; save the image again.") from None
            elif _LAYER_NAME.search(name) and size:
                if seekable:
                    body.seek(0)
                layers[name] = _index_layer(ref, name, size, body if seekable else _Prefixed(peek, body), peek,
                                            seekable)
    return documents, layers


# --- one layer -------------------------------------------------------------------------------------------
def _index_layer(ref: str, name: str, size: int, raw: IO[bytes], magic: bytes, seekable: bool) -> list[Member]:
    """The members of one layer. A plain layer in a seekable blob is read with random access (headers only);
    compressed layers are streamed through a decompression-bomb cap."""
    mode = "r|"
    if magic.startswith(_GZIP):
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb")
    elif magic.startswith(_ZSTD):
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(raw)
    else:
        stream, mode = raw, "r:" if seekable else "r|"
    source = stream if mode == "r:" else _Limited(stream, max(BOMB_FLOOR, BOMB_RATIO * size), f"{ref}: layer {name}")
    members: list[Member] = []
    try:
        with tarfile.open(fileobj=source, mode=mode) as layer:
            for info in layer:
                path = _member_name(f"{ref} layer {name}", info.name)
                if not path:
                    continue
                members.append(_member(layer, info, path))
    except ImagekitError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as error:
        raise ImagekitError(f"{ref}: layer {name} is damaged or truncated ({error}).",
                            "Save or pull the image again; the archive did not survive the copy.") from None
    return members


def _member(layer: tarfile.TarFile, info: tarfile.TarInfo, path: str) -> Member:
    kind = FILE if info.isfile() else DIR if info.isdir() else SYMLINK if info.issym() else OTHER
    entry = Entry(kind, info.mode, info.uid, info.gid, info.size if info.isfile() else 0, -1, info.linkname)
    hardlink = None
    if info.islnk():
        hardlink = _member_name("hardlink", info.linkname)
        entry.kind = FILE
    body = None
    if info.isfile() and info.size:
        wants_body = path in SMALL_FILES and info.size <= SMALL_FILE_LIMIT
        if wants_body or info.mode & 0o111 or any(marker in path.rsplit("/", 1)[-1] for marker in _HEAD_NAMES):
            data = layer.extractfile(info).read(info.size if wants_body else HEAD_BYTES)
            entry.head = data[:HEAD_BYTES]
            body = data if wants_body else None
    return path, entry, hardlink, body


def _member_name(where: str, name: str) -> str:
    """Layer paths are relative; `../x` and `/etc/x` are how archives escape a directory, so refuse them."""
    normal = posixpath.normpath(name) if name else "."
    if name.startswith("/") or normal == ".." or normal.startswith("../"):
        raise ImagekitError(f"{where}: entry {name!r} points outside the archive root.",
                            "This archive was not written by docker or an OCI tool; do not load it.")
    return "" if normal == "." else normal


# --- manifests -> ordered layers -------------------------------------------------------------------------
def _assemble(ref: str, read: tuple[dict[str, Any], dict[str, list]], wanted: str | None,
              tag: str | None = None) -> ImageFS:
    documents, layers = read
    manifest = documents.get("manifest.json")
    note = ""
    if isinstance(manifest, list) and manifest:
        chosen = _one_image(ref, tag, manifest, lambda entry: list(entry.get("RepoTags") or []), key=id)[0]
        config_name, layer_names = chosen.get("Config", ""), list(chosen.get("Layers") or [])
    elif "index.json" in documents:
        descriptor, note = _pick_manifest(ref, documents, documents["index.json"], wanted, tag)
        image_manifest = _blob(ref, documents, descriptor["digest"])
        config_name = _blob_name(image_manifest.get("config", {}).get("digest", ""))
        layer_names = [_blob_name(layer["digest"]) for layer in image_manifest.get("layers", [])]
    else:
        raise ImagekitError(f"{ref} is a tar archive but not an image: it has neither manifest.json (docker save) "
                            "nor index.json (OCI).", "Pass the output of `docker save` or an OCI image layout.")
    config = documents.get(config_name)
    if not isinstance(config, dict):
        raise ImagekitError(f"{ref}: the image config {config_name!r} is missing from the archive.",
                            "The archive is incomplete; save the image again.")
    if wanted and not note:  # a single-platform image: say so rather than lint another platform than asked
        actual = "/".join(filter(None, (config.get("os"), config.get("architecture"), config.get("variant"))))
        if wanted != actual and not actual.startswith(wanted + "/"):
            raise ImagekitError(f"{ref} is a {actual or 'platform-less'} image, not {wanted}.",
                                "Drop --platform, or pass the image built for that platform.")
    image = ImageFS(ref, config.get("config") or {}, config.get("architecture", ""), config.get("os", ""), note)
    applied: set[int] = set()
    for name in layer_names:
        if name not in layers:
            raise ImagekitError(f"{ref}: layer {name} named by the manifest is missing from the archive.",
                                "The archive is incomplete; save the image again.")
        members = layers[name]
        if id(members) in applied:  # the same blob twice in one image: fresh entries for the second
            members = [(path, replace(entry), link, body) for path, entry, link, body in members]
        applied.add(id(members))
        _check_hardlinks(ref, name, image, members)
        for _, entry, _, _ in members:
            entry.layer = len(image.layers)
        image.apply_layer(name, members)
    return image


def _check_hardlinks(ref: str, layer: str, image: ImageFS, members: list[Member]) -> None:
    seen = {path for path, *_ in members}
    for path, _, target, _ in members:
        if target is not None and target not in seen and target not in image.entries:
            raise ImagekitError(f"{ref}: layer {layer} has a hard link {path} to {target}, which does not exist.",
                                "The archive is damaged or hand-made; save the image again.")


def _one_image(ref: str, tag: str | None, entries: list[dict], names: Callable[[dict], list[str]],
               key: Callable[[dict], Any]) -> list[dict]:
    """The entries of one image: those *tag* names (`ARCHIVE:TAG`), or all when *key* finds a single image.

    An archive of several images is exit 2 listing their names, never a silent check of the first one.
    """
    archive = ref.removesuffix(f":{tag}") if tag is not None else ref

    def listing(chosen: list[dict]) -> str:
        images = {key(entry): names(entry) for entry in chosen}
        return "; ".join(", ".join(found) or "untagged" for found in images.values())

    hint = f"Pick one with `--image {archive}:TAG`, TAG being one of those names, or `docker save` only the image."
    if tag is not None:
        chosen = [entry for entry in entries if tag in names(entry) or f"{tag}:latest" in names(entry)]
        if not chosen:
            raise ImagekitError(f"{archive} has no image tagged {tag}; it holds: {listing(entries)}.", hint)
        entries = chosen
    count = len({key(entry) for entry in entries})
    if count > 1:
        raise ImagekitError(f"{archive} holds {count} images ({listing(entries)}); imagekit checks one image at a "
                            "time and will not guess which.", hint)
    return entries


def _ref_names(descriptor: dict) -> list[str]:
    annotations = descriptor.get("annotations") or {}
    return list(dict.fromkeys(filter(None, (annotations.get("io.containerd.image.name"),
                                            annotations.get("org.opencontainers.image.ref.name")))))


def _pick_manifest(ref: str, documents: dict, index: dict, wanted: str | None,
                   tag: str | None = None) -> tuple[dict, str]:
    """Walk an OCI index (possibly nested) to one image manifest for the wanted or host platform.

    Top-level entries with different ref names are different images (one is picked by *tag*); entries that share
    a name (or have none) are platforms of one image.
    """
    host = f"linux/{_ARCH.get(host_platform.machine(), host_platform.machine())}"
    target = wanted or host
    manifests = index.get("manifests") or []
    if not manifests:
        raise ImagekitError(f"{ref}: the OCI index lists no manifests.", "Save or copy the image again.")
    if index is documents.get("index.json"):
        manifests = _one_image(ref, tag, manifests, _ref_names, key=lambda m: tuple(_ref_names(m)))
    with_platform = [m for m in manifests if m.get("platform")]
    if len(manifests) == 1 and not wanted:
        chosen, note = manifests[0], ""
    else:
        def name(m: dict) -> str:
            p = m.get("platform") or {}
            return "/".join(filter(None, [p.get("os"), p.get("architecture"), p.get("variant")]))

        matches = [m for m in with_platform if name(m) == target or name(m).startswith(target + "/")]
        if not matches:
            available = ", ".join(sorted({name(m) for m in with_platform})) or "none declared"
            raise ImagekitError(f"{ref}: no image for platform {target} (available: {available}).",
                                "Pick one with --platform OS/ARCH.")
        chosen, note = matches[0], f"picked platform {name(matches[0])} of {len(with_platform)}"
    if "index" in chosen.get("mediaType", ""):
        nested = _blob(ref, documents, chosen["digest"])
        return _pick_manifest(ref, documents, nested, wanted)
    return chosen, note


def _blob_name(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _blob(ref: str, documents: dict, digest: str) -> dict:
    document = documents.get(_blob_name(digest))
    if not isinstance(document, dict):
        raise ImagekitError(f"{ref}: blob {digest} named by the index is missing or not JSON.",
                            "The layout is incomplete; copy the image again.")
    return document


# --- stream helpers --------------------------------------------------------------------------------------
class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (the engine's streamed `docker save`).

    Chunks are served through an offset, never re-sliced, so small reads from a large chunk copy only what
    they return.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._chunk, self._offset = iter(chunks), memoryview(b""), 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while self._offset >= len(self._chunk):
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._chunk, self._offset = memoryview(chunk), 0
        size = min(len(target), len(self._chunk) - self._offset)
        target[:size] = self._chunk[self._offset:self._offset + size]
        self._offset += size
        return size


class _Prefixed(io.RawIOBase):
    """Puts back the bytes already read to sniff a streamed blob."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix, self._rest = prefix, rest

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        if self._prefix:
            size = min(len(target), len(self._prefix))
            target[:size], self._prefix = self._prefix[:size], self._prefix[size:]
            return size
        data = self._rest.read(len(target))
        target[:len(data)] = data
        return len(data)


class _Limited(io.RawIOBase):
    """Stops a decompression bomb: refuses to produce more than *limit* bytes of *what*."""

    def __init__(self, stream: IO[bytes], limit: int, what: str) -> None:
        self._stream, self._left, self._what, self._limit = stream, limit, what, limit

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        data = self._stream.read(len(target))
        self._left -= len(data)
        if self._left < 0:
            raise ImagekitError(f"{self._what} expands beyond {self._limit >> 20} MiB, far more than its compressed "
                                "size allows; refusing it as a decompression bomb.",
                                "Do not lint or load this archive; rebuild the image from trusted sources.")
        target[:len(data)] = data
        return len(data)
