"""README and docs/: no placeholder left where a result belongs, and every relative link names a real file."""

from __future__ import annotations

import re

import pytest

from lint.corpus import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def prose(page) -> str:
    """The page without code blocks and inline code, where brackets and capitals mean something else."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", page.read_text(), flags=re.S))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_placeholder_lines(page):
    placeholders = [line for line in prose(page).splitlines() if re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", line)]
    assert not placeholders, f"{page.name}: fill in {placeholders}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    targets = [t for t in LINK.findall(prose(page)) if "://" not in t and not t.startswith("mailto:")]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert not missing, f"{page.name} links to files that do not exist: {missing}"
