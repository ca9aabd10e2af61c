"""`imagekit smoke` commands (registered on imagekit.cli.app)."""

from __future__ import annotations
