"""`imagekit engine`, `imagekit base` and `imagekit doctor`: getting a machine ready."""

from __future__ import annotations
