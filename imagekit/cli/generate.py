"""`imagekit generate` commands (registered on imagekit.cli.app)."""

from __future__ import annotations
