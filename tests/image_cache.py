"""Test images kept as `docker save` archives under ~/.cache: a fresh engine (CI's) loads them in a fraction of the
time building takes. Each archive is named by a key over everything its build reads; a new key replaces the old."""

from __future__ import annotations

import os
from pathlib import Path

from imagekit import engine

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))


def base_recipe(base: str) -> object:
    """The base by what it was built from: packages and apt config (a rebuilt base from the same recipe has a new
    date, not new content; one with another apt config changes what an apt-get install leaves in the image)."""
    from imagekit.base import LABEL_PREFIX, RECIPE_LABEL

    labels = engine.require_image(base).get("Config", {}).get("Labels") or {}
    recipe = (labels.get(RECIPE_LABEL), labels.get(LABEL_PREFIX + "package-list-sha256"))
    return recipe if recipe != (None, None) else engine.require_image(base)["Id"]


def load(archive: Path) -> None:
    """Load *archive* into the engine when it exists."""
    if archive.is_file():
        with archive.open("rb") as data:
            engine.connect().api.load_image(data)


def save(tag: str, archive: Path, stale: str) -> None:
    """Save *tag* as *archive*, first removing the archives matching the glob *stale* (older keys) beside it."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    for old in archive.parent.glob(stale):
        old.unlink()
    partial = archive.with_suffix(".partial")
    with partial.open("wb") as out:
        for chunk in engine.export_image(tag):
            out.write(chunk)
    partial.rename(archive)
