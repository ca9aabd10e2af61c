"""What image rules see: the merged filesystem and config, the active profiles, and rule options."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from imagekit import contract
from imagekit.image.fs import FILE, Entry, ImageFS
from imagekit.sizes import human_size as human  # the rules word sizes the same way as `imagekit build`

SAGEMAKER_PROFILES = (contract.TRAIN_COMMAND, contract.SERVE_COMMAND)
ALL_PROFILES = (*SAGEMAKER_PROFILES, "generic")


@dataclass(frozen=True)
class ImageContext:
    image: ImageFS
    profiles: frozenset[str]
    options: Mapping[str, Any]
    dockerfile: Any = None  # an imagekit.dockerfile.Dockerfile for the --dockerfile cross-check

    @property
    def modes(self) -> list[str]:
        """The SageMaker modes being checked, in contract order."""
        return [mode for mode in contract.MODES if mode in self.profiles]

    @property
    def workdir(self) -> str:
        return self.image.config.get("WorkingDir") or "/"

    def argv(self, mode: str) -> list[str]:
        """What `docker run IMAGE MODE` executes: SageMaker replaces Cmd and keeps Entrypoint."""
        return [*(self.image.config.get("Entrypoint") or []), mode]


def is_executable_by(entry: Entry, image: ImageFS) -> bool:
    """Like the kernel: root needs any x bit; others the owner, group or other bit that applies to them (the
    group bit when the file's group is the user's primary or a supplementary group).

    An unknown user (IK104 reports it) is judged by the other bit.
    """
    if entry.kind != FILE:
        return False
    ids = image.user_ids()
    uid = ids[0] if ids else None
    if uid == 0:
        return bool(entry.mode & 0o111)
    if uid == entry.uid:
        return bool(entry.mode & 0o100)
    if entry.gid in image.group_ids():
        return bool(entry.mode & 0o010)
    return bool(entry.mode & 0o001)


def files_under(image: ImageFS, prefixes: tuple[str, ...]) -> Iterator[tuple[str, Entry]]:
    for prefix in prefixes:
        yield from image.walk(prefix)


def paths_ending(image: ImageFS, *patterns: re.Pattern[str]) -> list[str]:
    """Every path of the image (no leading "/") whose end one of *patterns* matches (multi-line regexes ending in
    `$`; start each with a literal, which the regex engine searches for fast), in path order. One regex pass over
    all paths joined by newlines: a rule looking for a few names anywhere costs a millisecond, not a Python loop
    over every entry. Callers check the exact name on the few paths found."""
    text = image.path_text()
    if text is None:  # a path with a newline in it (hand-made, hostile): one by one
        return sorted(path for path in image.entries
                      if any(match.end() == len(path) for pattern in patterns for match in pattern.finditer(path)))
    found = {text[text.rfind("\n", 0, match.start()) + 1:match.end()]
             for pattern in patterns for match in pattern.finditer(text)}
    return sorted(path for path in found if path in image.entries)


def started_programs(ctx: ImageContext) -> Iterator[tuple[str, str, Entry]]:
    """(mode, path, entry) of each distinct program SageMaker would start that exists in the image."""
    seen = set()
    for mode in ctx.modes:
        path, entry, _ = ctx.image.which(ctx.argv(mode)[0], ctx.workdir)
        if entry is not None and entry.kind == FILE and path not in seen:
            seen.add(path)
            yield mode, path, entry


def shebang(entry: Entry) -> list[str] | None:
    """The interpreter line's words (`#!/usr/bin/env python3` -> ['/usr/bin/env', 'python3']), or None."""
    if not entry.head.startswith(b"#!"):
        return None
    line = entry.head[2:].split(b"\n", 1)[0]
    return line.decode("utf-8", "replace").split()


def interpreter(image: ImageFS, words: list[str]) -> tuple[str, str, Entry | None, str]:
    """Resolve a `#!` line's program as the kernel, then `env`, would: (name, path, entry or None, why not).

    `#!/usr/bin/env X` is resolved to X through the image's PATH once env itself is found.
    """
    name = words[0]
    path, entry, why = image.which(name)
    if entry is not None and name.rsplit("/", 1)[-1] == "env" and len(words) > 1:
        name = next((w for w in words[1:] if not w.startswith("-")), "").rstrip("\r")
        path, entry, why = image.which(name)
    return name, path, entry, why


def listing(items: list[tuple[str, int]], shown: int = 5) -> str:
    """`a (1.2 MB), b (3 KB) and 4 more`: what a finding names, with bytes."""
    text = ", ".join(f"{path} ({human(size)})" for path, size in items[:shown])
    return text + (f" and {len(items) - shown} more" if len(items) > shown else "")
