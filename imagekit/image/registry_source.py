"""Images read straight from a registry, through the same reader the archive and OCI-layout sources use.

A registry is one more set of named blobs: the manifest (picked from an index by platform) names a config and
layers, each fetched by digest and streamed once through `sources.read_blobs` (digest verified, layers indexed
and discarded, bombs capped), then assembled like a `docker save` archive. Nothing is written to disk.

Which references go to a registry is decided here (`from_registry`, which `sources.source_of` and `open_image`
ask): a reference that names a registry host goes to that registry unless the local engine holds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, Iterator

from imagekit.contract import Limits
from imagekit.errors import ImagekitError, LimitExceeded
from imagekit.image import sources
from imagekit.image.fs import ImageFS
from imagekit.image.registry import INDEX_TYPES, CredentialsProvider, RegistryClient
from imagekit.references import DIGEST, Reference, has_registry_host, parse_reference


def from_registry(ref: str) -> bool:
    """A reference that names its registry host and that the local engine does not hold (or no engine answers)."""
    if not has_registry_host(ref) or sources.path_and_tag(ref)[0].exists():
        return False
    from imagekit import engine

    return not engine.available() or engine.inspect_image(ref) is None


def open_registry_image(ref: str, *, platform: str | None = None, credentials: CredentialsProvider | None = None,
                        ca_file: str | Path | None = None) -> ImageFS:
    """The image *ref* names, read from its registry; *platform* picks one image of an index (default: the
    host's platform, as the engine would pull)."""
    reference = parse_reference(ref)
    client = RegistryClient(reference.registry, credentials=credentials, ca_file=ca_file,
                            where=f"the registry {reference.registry}")
    _, document, digest = client.manifest(reference)
    note = ""
    if _is_index(document):
        descriptor, note = sources.pick_manifest(ref, _NestedIndexes(ref, client, reference), document, platform)
        _, document, digest = client.manifest(reference, _checked_digest(ref, descriptor))
        if _is_index(document):
            raise ImagekitError(f"{ref}: the index entry {digest} for the chosen platform is itself an index.",
                                "The image's index is malformed; push it again with docker or buildx.")
    _shape_manifest(ref, digest, document)
    config = document.get("config") or {}
    layers = document.get("layers") or []
    if len(layers) > Limits.IMAGE_LAYERS:
        raise LimitExceeded(ref, "the number of layers its manifest lists", "IMAGE_LAYERS", Limits.IMAGE_LAYERS)
    config_name = sources.blob_name(_checked_digest(ref, config))
    layer_names = [sources.blob_name(_checked_digest(ref, layer)) for layer in layers]
    unique = {_checked_digest(ref, d): d for d in (config, *layers)}
    documents, read_layers = sources.read_blobs(ref, _fetch(client, reference, unique.values()))
    documents["manifest.json"] = [{"Config": config_name, "Layers": layer_names}]
    image = sources.assemble(ref, (documents, read_layers), None if note else platform)
    image.platform_note = note
    return image


def _is_index(document: dict[str, Any]) -> bool:
    return document.get("mediaType") in INDEX_TYPES or "manifests" in document and "layers" not in document


def _shape_manifest(ref: str, digest: str, document: dict[str, Any]) -> None:
    sources.check_shape(ref, f"manifest {digest}", document, sources.MANIFEST_SHAPE)
    if not isinstance(document.get("config"), dict):
        raise ImagekitError(f"{ref}: manifest {digest} names no image config.",
                            "The registry holds something that is not a container image (an artifact?).")


def _checked_digest(ref: str, descriptor: dict[str, Any]) -> str:
    """A descriptor's digest, only as sha256:HEX (it becomes part of a URL and a blob name); its size checked
    (required: a blob is read up to that size and no further)."""
    digest = str(descriptor.get("digest") or "")
    size = descriptor.get("size")
    if not DIGEST.fullmatch(digest):
        raise ImagekitError(f"{ref}: the manifest names the blob {digest[:80]!r}, which is not a sha256 digest.",
                            "imagekit reads sha256-addressed images only; push the image again with docker or "
                            "buildx.")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImagekitError(f"{ref}: the manifest gives blob {digest} the size {size!r}.",
                            "The manifest is malformed; push the image again.")
    return digest


def _fetch(client: RegistryClient, reference: Reference,
           descriptors: Any) -> Iterator[tuple[str, int, IO[bytes]]]:
    """(blob name, size, stream) per descriptor, each opened only when the reader gets to it."""
    for descriptor in descriptors:
        yield sources.blob_name(descriptor["digest"]), descriptor["size"], client.blob(reference, descriptor["digest"],
                                                                               descriptor["size"])


class _NestedIndexes:
    """What `pick_manifest` looks nested indexes up in: fetched from the registry by digest on demand."""

    def __init__(self, ref: str, client: RegistryClient, reference: Reference) -> None:
        self.ref, self.client, self.reference = ref, client, reference

    def get(self, name: str) -> dict[str, Any] | None:
        if not name.startswith("blobs/sha256/"):
            return None  # "index.json": a registry has no layout-level index
        digest = "sha256:" + name.removeprefix("blobs/sha256/")
        if not DIGEST.fullmatch(digest):  # it becomes part of a URL
            raise ImagekitError(f"{self.ref}: the index names the manifest {digest[:80]!r}, which is not a sha256 "
                                "digest.", "The index is malformed; push the image again with docker or buildx.")
        _, document, _ = self.client.manifest(self.reference, digest)
        sources.check_shape(self.ref, f"index {digest}", document, sources.INDEX_SHAPE)
        return document
