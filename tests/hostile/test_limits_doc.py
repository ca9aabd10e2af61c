"""docs/limits.md lists every budget of contract.Limits, with its value."""

from __future__ import annotations

from pathlib import Path

from imagekit.contract import Limits

DOC = Path(__file__).resolve().parents[2] / "docs" / "limits.md"


def test_every_limit_is_documented():
    text = DOC.read_text()
    names = [name for name in vars(Limits) if name.isupper()]
    assert names
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, f"docs/limits.md does not list {missing}"
