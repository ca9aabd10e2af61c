"""Built images as one filesystem view, whatever their source (engine, docker-save archive, OCI layout)."""

from imagekit.image.fs import Entry, ImageFS
from imagekit.image.sources import open_image

__all__ = ["Entry", "ImageFS", "open_image"]
