"""Where the shared corpus of real Dockerfiles lives: ../shared/corpus next to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("IMAGEKIT_CORPUS") or REPO_ROOT.parent / "shared" / "corpus") / "dockerfiles"


def corpus_files() -> list[Path]:
    """All corpus files. The corpus is not ours to redistribute, so it is not vendored: a checkout without
    ../shared/corpus (or IMAGEKIT_CORPUS) skips these tests, with the reason in the summary."""
    if not CORPUS.is_dir():
        pytest.skip(f"Dockerfile corpus not found at {CORPUS}; set IMAGEKIT_CORPUS to the corpus directory",
                    allow_module_level=True)
    return sorted(CORPUS.iterdir())


def fuzz_seeds() -> list[Path]:
    """Files the fuzz test mutates: a seventh of the corpus, or the rule fixtures when there is no corpus,
    so the fuzz test runs in every checkout."""
    if CORPUS.is_dir():
        return sorted(CORPUS.iterdir())[::7]
    return sorted((REPO_ROOT / "tests" / "rules").glob("IK*/*.Dockerfile"))
