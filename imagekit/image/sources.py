"""Read an image into an ImageFS from the engine, a `docker save` archive or an OCI layout, in one pass.

All three are the same shape underneath: a set of named blobs (JSON documents and layer tars). We stream
through them once: small JSON documents are kept, every layer is indexed (headers only, plus the first bytes
of the few files rules read) and its bytes are discarded. When the stream ends the manifest says which
indexed layers make up the image, and in which order. Nothing is written to disk.
"""

from __future__ import annotations

import gc
import io
import json
import os
import posixpath
import re
import stat
import zlib
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from imagekit.contract import Limits
from imagekit.documents import check_document
from imagekit.errors import ImagekitError, LimitExceeded
from imagekit.image import tarscan
from imagekit.image.fs import (
    DIR,
    FILE,
    HEAD_BYTES,
    OPAQUE,
    OTHER,
    SMALL_FILE_LIMIT,
    SMALL_FILES,
    SSHD_CONFIG_PREFIX,
    SYMLINK,
    ImageFS,
    Member,
)
from imagekit.image.tarscan import HARDLINK
from imagekit.references import IMAGE_REFERENCE

_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}
_HEAD_NAME = re.compile("id_rsa|id_ed25519|id_ecdsa|[.]pem|[.]key|credentials|[.]env|token|[.]netrc")  # in a base name

_LAYER_NAME = re.compile(r"(^|/)layer\.tar$|^blobs/[a-z0-9]+/[0-9a-f]+$")  # docker save <= 24 | OCI blobs
_SHA256_BLOB = re.compile(r"^blobs/sha256/([0-9a-f]{64})$")  # named by its digest: verified while streamed

_NAME_BYTES = 16 * Limits.PATH_CHARS  # a GNU long name or pax header: a path and a link target, UTF-8, and keys



def open_image(ref: str, *, platform: str | None = None) -> ImageFS:
    """The image named by *ref*: an existing archive file or OCI layout directory, else an engine image.

    `ARCHIVE:TAG` picks one image of an archive or layout that holds several (RepoTags, OCI ref names).
    """
    with _collector_paused():
        return _open(ref, platform)


def source_of(ref: str) -> str:
    """Where `--image REF` is read from, in words for the user (the registry client is imported only for a
    reference that may be read from a registry: `lint --image FILE` stays fast)."""
    path, _ = path_and_tag(ref)
    if path.is_dir() and not _shadowed_image_name(ref, path):
        return f"the OCI layout {path}"
    if path.is_file():
        return f"the image archive {path}"
    from imagekit.image import registry_source

    if registry_source.from_registry(ref):
        return f"the registry {registry_source.parse_reference(ref).registry} (no engine involved)"
    return "the Docker engine"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Index without the cyclic garbage collector: reading creates a few objects per file, all kept (no cycles
    to free), and the collector would re-scan the growing index again and again (a tenth of the read)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _shadowed_image_name(ref: str, directory: Path) -> bool:
    """`--image iris` run beside a project's `iris/` package: a directory that is no OCI layout, named by something
    written as an image name (not `./iris`), is not what the user meant; the engine or registry is asked instead."""
    return not (directory / "oci-layout").is_file() and not ref.startswith((".", "/")) \
        and IMAGE_REFERENCE.fullmatch(ref) is not None


def _open(ref: str, platform: str | None) -> ImageFS:
    path, tag = path_and_tag(ref)
    if path.is_dir() and not _shadowed_image_name(ref, path):
        if not (path / "oci-layout").is_file():
            raise ImagekitError(f"{ref} is a directory but not an OCI image layout (no oci-layout file).",
                                "Pass an OCI layout directory, a `docker save` archive, or an image name.")
        return assemble(ref, read_blobs(ref, _layout_blobs(ref, path), seekable=True), platform, tag)
    if path.is_file():
        with path.open("rb") as stream:
            if stream.peek(2).startswith(_GZIP):
                read = _read_archive(ref, _decompressed(stream, path.stat().st_size, ref))
                return assemble(ref, read, platform, tag)
            return assemble(ref, _read_archive(ref, stream, fd=stream.fileno()), platform, tag)
    if ref.endswith((".tar", ".tar.gz", ".tgz")) or "/" in ref and ref.startswith((".", "/")):
        raise ImagekitError(f"Image archive {ref} does not exist.", "Check the path, or create it with "
                            "`docker save IMAGE -o FILE`.")
    from imagekit.image import registry_source

    if registry_source.from_registry(ref):  # HOST/REPO:TAG the engine does not hold: read it from HOST
        return registry_source.open_registry_image(ref, platform=platform)
    from imagekit import engine

    stored = _engine_layer_dirs(engine.require_image(ref))
    if stored is not None:
        return assemble(ref, _read_layer_dirs(ref, *stored), platform)
    return assemble(ref, _read_archive(ref, _ChunkReader(engine.export_image(ref))), platform)


def _layout_blobs(ref: str, layout: Path) -> Iterator[tuple[str, int, IO[bytes]]]:
    """index.json and blobs/ALG/HEX of an OCI layout: regular files really inside it, never through a link.

    A symlinked `blobs/sha256` or blob would make a copied layout read files from anywhere on the machine.
    """
    root = os.path.realpath(layout)
    wanted = [layout / "index.json"]
    blobs_dir = layout / "blobs"
    if blobs_dir.is_dir() and not blobs_dir.is_symlink():
        for algorithm in sorted(blobs_dir.iterdir()):
            if algorithm.is_symlink():
                raise ImagekitError(f"{ref}: {algorithm.relative_to(layout)} is a symbolic link; an OCI layout is "
                                    "read only inside its own directory.", "Copy the layout with real directories "
                                    "(e.g. `cp -rL` from a layout you trust).")
            if algorithm.is_dir():
                wanted.extend(sorted(algorithm.iterdir()))
    for count, blob in enumerate(wanted):
        if count > Limits.ARCHIVE_ENTRIES:
            raise LimitExceeded(ref, "the number of blobs", "ARCHIVE_ENTRIES", Limits.ARCHIVE_ENTRIES)
        name = str(blob.relative_to(layout))
        if blob.is_symlink() or not blob.is_file() or not os.path.realpath(blob).startswith(root + os.sep):
            if blob.is_symlink() or blob.exists():
                raise ImagekitError(f"{ref}: {name} is not a regular file inside the layout (a link or a special "
                                    "file); an OCI layout is read only inside its own directory.",
                                    "Copy the layout again with real files.")
            continue
        try:
            fd = os.open(blob, os.O_RDONLY)
            yield name, os.fstat(fd).st_size, tarscan.Window(fd, 0, os.fstat(fd).st_size, owned=True)
        except OSError as error:
            raise ImagekitError(f"{ref}: cannot read {name}: {error.strerror or error}.",
                                "Check the layout's permissions.") from None


def path_and_tag(ref: str) -> tuple[Path, str | None]:
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
    import gzip

    return _Limited(gzip.GzipFile(fileobj=raw, mode="rb"), _bomb_cap(size), ref)


def _bomb_cap(size: int) -> int:
    return max(Limits.BOMB_FLOOR, Limits.BOMB_RATIO * size)


def _read_archive(ref: str, stream: IO[bytes], fd: int = -1) -> tuple[dict[str, Any], dict[str, list]]:
    """The blobs of a tar: streamed, or (*fd*: a plain tar file) with random access so bodies are skipped."""
    aliases: dict[str, str] = {}
    seekable = fd >= 0
    scanner = (tarscan.TarScanner(fd=fd, size=os.fstat(fd).st_size, name_bytes=_NAME_BYTES) if seekable
               else tarscan.TarScanner(stream, name_bytes=_NAME_BYTES))

    def blobs() -> Iterator[tuple[str, int, IO[bytes]]]:
        for count, member in enumerate(scanner):
            if count > Limits.ARCHIVE_ENTRIES:
                raise LimitExceeded(ref, "the number of archive members", "ARCHIVE_ENTRIES", Limits.ARCHIVE_ENTRIES)
            name = _member_name(ref, member.name)
            if member.kind == tarscan.REGULAR:
                body = tarscan.Window(fd, scanner.position, member.size) if seekable else tarscan.Body(scanner)
                yield name, member.size, body
            elif member.kind == tarscan.SYMLINK:  # docker save stores a layer repeated in an image once, links the rest
                aliases[name] = _member_name(ref, posixpath.join(posixpath.dirname(name), member.linkname))

    try:
        documents, layers = read_blobs(ref, blobs(), seekable)
        layers.update({alias: layers[target] for alias, target in aliases.items() if target in layers})
        return documents, layers
    except (EOFError, zlib.error, OSError, ValueError) as error:
        raise ImagekitError(f"{ref} is not a readable image archive: {error}.",
                            "Recreate it with `docker save IMAGE -o FILE` (optionally gzipped) or pass an OCI "
                            "layout.") from None


def read_blobs(ref: str, blobs: Iterable[tuple[str, int, IO[bytes]]],
                seekable: bool = False) -> tuple[dict[str, Any], dict[str, list]]:
    """Small JSON documents by name, and every layer's members by name (*seekable*: blobs support seek)."""
    documents: dict[str, Any] = {}
    layers: dict[str, list[Member]] = {}
    budget = _Budget(ref)
    for name, size, body in blobs:
        with body:
            digest = _SHA256_BLOB.match(name)
            peek = body.read(4)
            if peek[:1] in (b"{", b"[") and size <= Limits.JSON_BYTES:
                if len(documents) >= Limits.JSON_DOCUMENTS:
                    raise LimitExceeded(ref, "the number of JSON documents", "JSON_DOCUMENTS", Limits.JSON_DOCUMENTS)
                data = peek + body.read()
                budget.json_bytes(len(data))
                if digest:
                    _verify(ref, name, digest.group(1), _sha256(data))
                documents[name] = _json(ref, name, data)
            elif _LAYER_NAME.search(name) and size:
                if seekable:
                    body.seek(0)
                    if not peek.startswith((_GZIP, _ZSTD)):
                        digest = None  # a plain tar is read by seeking from header to header, not hashed
                raw: IO[bytes] = body if seekable else _Prefixed(peek, body)
                hashing = _Hashing(raw) if digest else None
                layers[name] = _index_layer(ref, name, size, hashing or raw, peek, budget)
                if hashing is not None and digest is not None:
                    hashing.drain()
                    _verify(ref, name, digest.group(1), hashing.hash)
    return documents, layers


def _json(ref: str, name: str, data: bytes) -> Any:
    try:
        document = json.loads(data)
    except RecursionError:
        raise LimitExceeded(f"{ref}: {name}", "the nesting of this JSON document", "DOCUMENT_DEPTH",
                            Limits.DOCUMENT_DEPTH) from None
    except ValueError:
        raise ImagekitError(f"{ref}: {name} is neither JSON nor a layer.",
                            "The archive is damaged; save the image again.") from None
    check_document(document, f"{ref}: {name}")
    return document


def _sha256(data: bytes = b"") -> Any:
    """hashlib.sha256, imported when a digest is checked (OCI blobs, the engine's config), not for docker save."""
    import hashlib

    return hashlib.sha256(data)


def _verify(ref: str, name: str, expected: str, hash_: Any) -> None:
    if hash_.hexdigest() != expected:
        raise ImagekitError(f"{ref}: blob {name} does not match its digest (its bytes hash to sha256:"
                            f"{hash_.hexdigest()}); it was altered or damaged.",
                            "Do not use this archive; save or pull the image again from a source you trust.")


class _Budget:
    """What one archive has used of Limits.ARCHIVE_ENTRIES, JSON_TOTAL_BYTES and HEAD_BYTES_TOTAL."""

    def __init__(self, ref: str) -> None:
        self.ref, self.entries, self.json, self.heads = ref, 0, 0, 0

    def head(self, size: int) -> None:
        self.heads += size
        if self.heads > Limits.HEAD_BYTES_TOTAL:
            raise LimitExceeded(self.ref, "the bytes kept of its files (executables' first bytes, sshd's config)",
                                "HEAD_BYTES_TOTAL", Limits.HEAD_BYTES_TOTAL)

    def json_bytes(self, size: int) -> None:
        self.json += size
        if self.json > Limits.JSON_TOTAL_BYTES:
            raise LimitExceeded(self.ref, "the JSON documents together", "JSON_TOTAL_BYTES", Limits.JSON_TOTAL_BYTES)

    def entry(self, count: int = 1) -> None:
        self.entries += count
        if self.entries > Limits.ARCHIVE_ENTRIES:
            raise LimitExceeded(self.ref, "the number of files in its layers", "ARCHIVE_ENTRIES",
                                Limits.ARCHIVE_ENTRIES)


# --- one layer -------------------------------------------------------------------------------------------
def _index_layer(ref: str, name: str, size: int, raw: IO[bytes], magic: bytes, budget: _Budget) -> list[Member]:
    """The members of one layer. A plain layer in a file is read with random access (headers only);
    compressed layers are streamed through a decompression-bomb cap."""
    if magic.startswith(_GZIP):
        import gzip

        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb")
    elif magic.startswith(_ZSTD):
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(raw)
    else:
        stream = raw
    if isinstance(stream, tarscan.Window):  # a plain layer in a file: headers only, bodies skipped by offset
        layer = tarscan.TarScanner(fd=stream.fd, start=stream.start, size=size, name_bytes=_NAME_BYTES)
    else:
        limited = _Limited(stream, _bomb_cap(size), f"{ref}: layer {name}")
        layer = tarscan.TarScanner(limited, name_bytes=_NAME_BYTES)  # type: ignore[arg-type]
    members: list[Member] = []
    where = f"{ref} layer {name}"
    room = Limits.ARCHIVE_ENTRIES - budget.entries  # counted into the budget at the end, or once it is over
    try:
        for name, kind, mode, uid, gid, size, linkname in layer:  # per file of the image: kept lean
            path = _member_name(where, name)
            if not path:
                continue
            if len(members) >= room:
                budget.entry(len(members) + 1)  # over the limit: raises
            if kind == HARDLINK:
                members.append((path, FILE, mode, uid, gid, size, linkname, b"", _member_name("hardlink", linkname),
                                None))
            elif size and _keeps_bytes(path, mode):
                head, body = _kept_bytes(path, size, layer.read, budget)
                members.append((path, kind, mode, uid, gid, size, linkname, head, None, body))
            else:
                members.append((path, kind, mode, uid, gid, size, linkname, b"", None, None))
    except ImagekitError:
        raise
    except (EOFError, zlib.error, OSError, ValueError, *_zstd_errors()) as error:
        raise ImagekitError(f"{ref}: layer {name} is damaged or truncated ({error}).",
                            "Save or pull the image again; the archive did not survive the copy.") from None
    budget.entry(len(members))
    return members


def _zstd_errors() -> tuple[type[Exception], ...]:
    """zstandard's decode error, when a zstd layer made us import it (never on the lint path otherwise)."""
    import sys

    module = sys.modules.get("zstandard")
    return (module.ZstdError,) if module is not None else ()


def _keeps_bytes(path: str, mode: int) -> bool:
    """Whether a regular file's first bytes (or whole body) are kept: executables, key-like names, SMALL_FILES,
    sshd's config."""
    return bool(mode & 0o111 or path in SMALL_FILES or _HEAD_NAME.search(path, path.rfind("/") + 1)
                or path.startswith(SSHD_CONFIG_PREFIX))


def _kept_bytes(path: str, size: int, read: Callable[[int], bytes], budget: _Budget) -> tuple[bytes, bytes | None]:
    """The head of a file `_keeps_bytes` chose, and the whole body of a small well-known file or of sshd's
    config (else None)."""
    sshd = path.startswith(SSHD_CONFIG_PREFIX) and size <= Limits.SSHD_CONFIG_BYTES
    wants_body = sshd or path in SMALL_FILES and size <= SMALL_FILE_LIMIT
    data = read(size if wants_body else HEAD_BYTES)
    budget.head(len(data) if sshd else min(len(data), HEAD_BYTES))  # any number of sshd_config.d files: all whole
    return data[:HEAD_BYTES], data if wants_body else None


def _member_name(where: str, name: str) -> str:
    """Layer paths are relative; `../x` and `/etc/x` are how archives escape a directory, so refuse them."""
    normal = name.rstrip("/")  # what normpath would return for the usual `dir/file` or `dir/`, much faster
    if len(name) < Limits.PATH_DEPTH and normal and normal[0] not in "./" and "/." not in normal \
            and "//" not in normal:
        return normal  # the usual case, within both limits (fewer characters than PATH_DEPTH, so fewer slashes)
    if len(name) > Limits.PATH_CHARS:
        raise LimitExceeded(where, f"the length of entry {name[:60]!r}...", "PATH_CHARS", Limits.PATH_CHARS)
    if len(name) >= Limits.PATH_DEPTH and name.count("/") >= Limits.PATH_DEPTH:
        raise LimitExceeded(where, f"the depth of entry {name[:60]!r}...", "PATH_DEPTH", Limits.PATH_DEPTH)
    if not normal or normal[0] in "./" or "/." in normal or "//" in normal:
        normal = posixpath.normpath(name) if name else "."
    if name.startswith("/") or normal == ".." or normal.startswith("../"):
        raise ImagekitError(f"{where}: entry {name!r} points outside the archive root.",
                            "This archive was not written by docker or an OCI tool; do not load it.")
    return "" if normal == "." else normal


# --- the engine's own layer directories ------------------------------------------------------------------
def _engine_layer_dirs(inspected: dict[str, Any]) -> tuple[bytes, list[str]] | None:
    """(the image config as the engine stored it, its overlay2 layer directories, lowest first), when this
    process can read them (the engine runs on this machine, we may read its root); None otherwise.

    Walking the directories the engine already unpacked is many times faster than exporting the image through
    the API (which builds a tar of every byte), and it sees exactly the files a container would.
    """
    driver = inspected.get("GraphDriver") or {}
    data = driver.get("Data") or {}
    image_id = str(inspected.get("Id") or "")
    if driver.get("Name") != "overlay2" or not data.get("UpperDir") or not image_id.startswith("sha256:"):
        return None
    layers = [*reversed(data["LowerDir"].split(":") if data.get("LowerDir") else []), data["UpperDir"]]
    root = Path(data["UpperDir"]).parents[2]  # ROOT/overlay2/LAYER/diff
    try:
        config = (root / "image" / "overlay2" / "imagedb" / "content" / "sha256" / image_id[7:]).read_bytes()
        shifted = root.stat().st_uid != 0 or re.fullmatch(r"\d+\.\d+", root.name)  # rootless, userns-remap
    except OSError:
        return None
    if shifted:  # owners on disk are not the owners in the image
        return None
    if _sha256(config).hexdigest() != image_id[7:] or not all(os.access(d, os.R_OK | os.X_OK)
                                                                      for d in layers):
        return None  # not this engine's layout (user namespaces, a remote or rootless engine): export instead
    return config, layers


def _read_layer_dirs(ref: str, config: bytes, directories: list[str]) -> tuple[dict[str, Any], dict[str, list]]:
    """The documents and layers an archive of the image would give, from its unpacked layer directories."""
    budget = _Budget(ref)
    budget.json_bytes(len(config))
    documents = {"config.json": _json(ref, "the image config", config),
                 "manifest.json": [{"Config": "config.json", "Layers": directories}]}
    try:
        return documents, {directory: _walk_layer(ref, directory, budget) for directory in directories}
    except OSError as error:
        raise ImagekitError(f"{ref}: cannot read the engine's layer directory {error.filename}: "
                            f"{error.strerror or error}.", "The image changed while it was read (removed or "
                            "pruned); run the command again.") from None


def _walk_layer(ref: str, directory: str, budget: _Budget) -> list[Member]:
    """One overlay2 layer as the members of the tar the engine would export for it, in the same order.

    Names sorted in each directory, parents before children; a 0/0 character device is a whiteout
    (`.wh.NAME`), the `trusted.overlay.opaque` attribute an opaque directory (`DIR/.wh..wh..opq`), a second
    name of an inode a hard link to the first; sockets are left out, as the engine's tar writer does.
    """
    members: list[Member] = []
    first_name: dict[int, str] = {}
    where = f"{ref} layer {directory}"
    pending: list[tuple[str, str, Iterator[tuple[str, os.stat_result]]]] = [("", directory, _listing(directory))]
    while pending:  # per file of the image: the common case (a regular file with one name) goes first
        prefix, parent, entries = pending[-1]
        item = next(entries, None)
        if item is None:
            pending.pop()
            continue
        name, info = item
        path = _member_name(where, prefix + name)
        mode = info.st_mode
        kind = _KIND_OF_MODE.get(stat.S_IFMT(mode), OTHER)
        if kind == "socket":
            continue
        budget.entry()
        if kind == FILE:
            size = info.st_size
            if info.st_nlink > 1:
                hardlink = first_name.setdefault(info.st_ino, path)
                if hardlink != path:
                    members.append((path, FILE, mode & 0o7777, info.st_uid, info.st_gid, 0, hardlink, b"", hardlink,
                                    None))
                    continue
            head, body = (_kept_bytes(path, size, _file_reader(os.path.join(parent, name)), budget)
                          if size and _keeps_bytes(path, mode) else (b"", None))
            members.append((path, FILE, mode & 0o7777, info.st_uid, info.st_gid, size, "", head, None, body))
        elif kind == OTHER and stat.S_ISCHR(mode) and info.st_rdev == 0:
            members.append((f"{prefix}.wh.{name}", OTHER, 0, 0, 0, 0, "", b"", None, None))
        else:
            where_on_disk = os.path.join(parent, name)
            target = os.readlink(where_on_disk) if kind == SYMLINK else ""
            members.append((path, kind, mode & 0o7777, info.st_uid, info.st_gid, 0, target, b"", None, None))
            if kind == DIR:
                if _opaque(where_on_disk):
                    members.append((f"{path}/{OPAQUE}", OTHER, 0, 0, 0, 0, "", b"", None, None))
                pending.append((path + "/", where_on_disk, _listing(where_on_disk)))
    return members


_KIND_OF_MODE = {stat.S_IFREG: FILE, stat.S_IFDIR: DIR, stat.S_IFLNK: SYMLINK, stat.S_IFSOCK: "socket"}


def _listing(directory: str) -> Iterator[tuple[str, os.stat_result]]:
    """A layer directory's entries sorted by name, each with its lstat: taken through the directory's descriptor
    (one path component per call, not the whole path again) and closed before the caller goes on."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with os.scandir(fd) as entries:
            return iter(sorted((entry.name, entry.stat(follow_symlinks=False)) for entry in entries))
    finally:
        os.close(fd)


def _opaque(directory: str) -> bool:
    try:
        return os.getxattr(directory, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def _file_reader(path: str) -> Callable[[int], bytes]:
    def read(size: int) -> bytes:
        with open(path, "rb") as stream:
            return stream.read(size)
    return read


# --- manifests -> ordered layers -------------------------------------------------------------------------
def assemble(ref: str, read: tuple[dict[str, Any], dict[str, list]], wanted: str | None,
              tag: str | None = None) -> ImageFS:
    documents, layers = read
    manifest = documents.get("manifest.json")
    note = ""
    if isinstance(manifest, list) and manifest:
        check_shape(ref, "manifest.json", manifest, [{"Config": str, "Layers": [str], "RepoTags": [str]}])
        chosen = _one_image(ref, tag, manifest, lambda entry: list(entry.get("RepoTags") or []), key=id)[0]
        config_name, layer_names = chosen.get("Config", ""), list(chosen.get("Layers") or [])
    elif "index.json" in documents:
        descriptor, note = pick_manifest(ref, documents, documents["index.json"], wanted, tag)
        image_manifest = _blob(ref, documents, descriptor.get("digest", ""), MANIFEST_SHAPE)
        config_name = blob_name((image_manifest.get("config") or {}).get("digest", ""))
        layer_names = [blob_name(layer.get("digest", "")) for layer in image_manifest.get("layers") or []]
    else:
        raise ImagekitError(f"{ref} is a tar archive but not an image: it has neither manifest.json (docker save) "
                            "nor index.json (OCI).", "Pass the output of `docker save` or an OCI image layout.")
    config = documents.get(config_name)
    if not isinstance(config, dict):
        raise ImagekitError(f"{ref}: the image config {config_name!r} is missing from the archive.",
                            "The archive is incomplete; save the image again.")
    check_shape(ref, config_name, config, _CONFIG)
    if len(layer_names) > Limits.IMAGE_LAYERS:
        raise LimitExceeded(ref, "the number of layers its manifest lists", "IMAGE_LAYERS", Limits.IMAGE_LAYERS)
    repeated = max((layer_names.count(name) for name in set(layer_names)), default=0)
    if repeated > Limits.LAYER_REPEATS:
        raise LimitExceeded(ref, "how often its manifest lists one layer", "LAYER_REPEATS", Limits.LAYER_REPEATS)
    if wanted and not note:  # a single-platform image: say so rather than lint another platform than asked
        actual = "/".join(filter(None, (config.get("os"), config.get("architecture"), config.get("variant"))))
        if wanted != actual and not actual.startswith(wanted + "/"):
            raise ImagekitError(f"{ref} is a {actual or 'platform-less'} image, not {wanted}.",
                                "Drop --platform, or pass the image built for that platform.")
    image = ImageFS(ref, config.get("config") or {}, config.get("architecture", ""), config.get("os", ""), note)
    uses = Counter(id(layers[name]) for name in layer_names if name in layers)
    for name in layer_names:
        if name not in layers:
            raise ImagekitError(f"{ref}: layer {name} named by the manifest is missing from the archive.",
                                "The archive is incomplete; save the image again.")
        members = layers[name]
        _check_hardlinks(ref, name, image, members)
        image.apply_layer(name, members)
        uses[id(layers[name])] -= 1
        if not uses[id(layers[name])]:
            layers[name].clear()  # the index has what it needs; free the member tuples before the next layer
    return image


def _check_hardlinks(ref: str, layer: str, image: ImageFS, members: list[Member]) -> None:
    links = [(member[0], member[8]) for member in members if member[8] is not None]
    seen = {member[0] for member in members} if links else set()
    for path, target in links:
        if target not in seen and target not in image.entries:
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


def pick_manifest(ref: str, documents: dict, index: Any, wanted: str | None,
                   tag: str | None = None, depth: int = 0) -> tuple[dict, str]:
    """Walk an OCI index (possibly nested) to one image manifest for the wanted or host platform.

    Top-level entries with different ref names are different images (one is picked by *tag*); entries that share
    a name (or have none) are platforms of one image.
    """
    machine = os.uname().machine
    host = f"linux/{_ARCH.get(machine, machine)}"
    target = wanted or host
    if depth > Limits.INDEX_NESTING:  # also ends an index that names itself
        raise LimitExceeded(ref, "the nesting of OCI indexes", "INDEX_NESTING", Limits.INDEX_NESTING)
    check_shape(ref, "index.json" if depth == 0 else "a nested index", index, INDEX_SHAPE)
    manifests = index.get("manifests") or []
    if len(manifests) > Limits.INDEX_MANIFESTS:
        raise LimitExceeded(ref, "the number of manifests in its index", "INDEX_MANIFESTS", Limits.INDEX_MANIFESTS)
    if not manifests:
        raise ImagekitError(f"{ref}: the OCI index lists no manifests.", "Save or copy the image again.")
    images = [m for m in manifests if not _is_attestation(m)]
    if not images:
        raise ImagekitError(f"{ref}: the OCI index lists only attestations (provenance, SBOM), no image.",
                            "Save or copy the image itself, not only its attestations.")
    manifests = images
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
    if "index" in (chosen.get("mediaType") or ""):
        nested = _blob(ref, documents, chosen.get("digest", ""), INDEX_SHAPE)
        return pick_manifest(ref, documents, nested, wanted, depth=depth + 1)
    return chosen, note


def _is_attestation(descriptor: dict) -> bool:
    """BuildKit's provenance/SBOM manifests sit in an image's index beside its platforms (platform unknown/unknown);
    they are not a platform of the image and cannot run."""
    annotations = descriptor.get("annotations") or {}
    platform = descriptor.get("platform") or {}
    return annotations.get("vnd.docker.reference.type") == "attestation-manifest" or \
        (platform.get("os"), platform.get("architecture")) == ("unknown", "unknown")


def blob_name(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _blob(ref: str, documents: dict, digest: str, shape: Any) -> dict:
    document = documents.get(blob_name(digest))
    if not isinstance(document, dict):
        raise ImagekitError(f"{ref}: blob {digest} named by the index is missing or not JSON.",
                            "The layout is incomplete; copy the image again.")
    check_shape(ref, f"blob {digest}", document, shape)
    return document


# --- the shapes of the JSON documents we read: checked before use, so a hand-made archive is exit 2 ------
_DESCRIPTOR = {"digest": str, "mediaType": str, "platform": {"os": str, "architecture": str, "variant": str},
               "annotations": {str: str}}
INDEX_SHAPE = {"manifests": [_DESCRIPTOR]}
MANIFEST_SHAPE = {"config": _DESCRIPTOR, "layers": [_DESCRIPTOR]}
_CONFIG = {"architecture": str, "os": str, "variant": str, "config": {
    "Env": [str], "Entrypoint": [str], "Cmd": [str], "User": str, "WorkingDir": str, "Labels": {str: str},
    "ExposedPorts": {str: dict}, "Volumes": {str: dict}, "StopSignal": str, "Shell": [str],
    "Healthcheck": {"Test": [str]}}}


def check_shape(ref: str, name: str, value: Any, shape: Any, where: str = "") -> None:
    """Check *value* against *shape*: a type, [item shape], {key: shape} for known keys (others are free and
    null is allowed as 'absent'), or {str: shape} for a mapping of arbitrary keys."""
    if value is None and where:
        return
    expected = list if isinstance(shape, list) else dict if isinstance(shape, dict) else shape
    if not isinstance(value, expected) or isinstance(value, bool) and expected is not bool:
        raise ImagekitError(f"{ref}: {name} is not a valid image document: {where or 'the top level'} should be "
                            f"{'a list' if expected is list else 'an object' if expected is dict else 'a string'}, "
                            f"not {type(value).__name__}.", "The archive is damaged or hand-made; save the image "
                            "again with docker or an OCI tool.")
    if isinstance(shape, list):
        for index, item in enumerate(value):
            check_shape(ref, name, item, shape[0], f"{where}[{index}]")
    elif isinstance(shape, dict) and str in shape:
        for key, item in value.items():
            check_shape(ref, name, item, shape[str], f"{where}.{key}")
    elif isinstance(shape, dict):
        for key, item_shape in shape.items():
            if key in value:
                check_shape(ref, name, value[key], item_shape, f"{where}.{key}")


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


class _Hashing(io.RawIOBase):
    """Hashes every byte read through it, so a blob's digest is checked in the same pass that indexes it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw, self.hash = raw, _sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        data = self._raw.read(len(target))
        self.hash.update(data)
        target[:len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Read what the tar reader left (padding after the end-of-archive marker) into the hash."""
        while self.read(1 << 20):
            pass


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
