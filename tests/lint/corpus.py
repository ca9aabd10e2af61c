"""Where the shared corpus of real Dockerfiles lives: ../shared/corpus next to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dockerfiles"


def corpus_files() -> list[Path]:
    """All corpus files; a missing corpus fails under CI=true and skips elsewhere."""
    if not CORPUS.is_dir():
        message = f"Dockerfile corpus not found at {CORPUS}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return sorted(CORPUS.iterdir())
