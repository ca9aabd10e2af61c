"""The merged filesystem of an image, as metadata: what every rule sees, whatever the image came from.

Layers are applied in order onto one index (whiteouts delete, opaque directories hide what is below). File
bodies are never kept, except the first bytes of regular files (enough for shebangs, ELF headers and key
markers) and whole bodies of a few small well-known files such as /etc/passwd and sshd's configuration.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Iterator, NamedTuple

from imagekit.contract import SSHD_CONFIG, Limits

HEAD_BYTES = 256  # a shebang line, an ELF header or a PEM marker fits
SMALL_FILES = frozenset({"etc/passwd", "etc/group", "etc/os-release"})
SMALL_FILE_LIMIT = 1 << 20
# sshd_config and sshd_config.d/*.conf share this prefix; their bodies are kept up to Limits.SSHD_CONFIG_BYTES.
SSHD_CONFIG_PREFIX = str(SSHD_CONFIG).lstrip("/")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

FILE, DIR, SYMLINK, OTHER = "file", "dir", "symlink", "other"


def _is_id(text: str) -> bool:
    """A uid/gid as the kernel takes it: ASCII digits that fit 32 bits (`str.isdigit` also accepts `²`)."""
    return text.isascii() and text.isdigit() and len(text) <= 10


class Entry(NamedTuple):
    """One path of the merged filesystem. *size* counts bytes of regular files only.

    A tuple, built per file of the image: `new_entry` makes one in C, where a dataclass runs Python code.
    """

    kind: str
    mode: int
    uid: int
    gid: int
    size: int
    layer: int
    target: str = ""  # symlink target as written
    head: bytes = b""  # first HEAD_BYTES of a regular file


new_entry = partial(tuple.__new__, Entry)  # Entry from one tuple of all eight fields, without Python code
# One file of a layer as a source reads it: (path, kind, mode, uid, gid, size, target, head, hard link target or
# None, small body or None). Flat, so reading and applying a layer build one tuple and one Entry per file.
Member = tuple[str, str, int, int, int, int, str, bytes, "str | None", "bytes | None"]


@dataclass
class Layer:
    digest: str
    size: int = 0  # bytes of regular files added by this layer
    files: int = 0
    wasted: int = 0  # bytes this layer added that a later layer overwrote or deleted


ROOT_ENTRY = Entry(DIR, 0o755, 0, 0, 0, 0)  # "/" exists in every image, though no layer lists it


@dataclass
class ImageFS:
    """An image: its config (the `config` object of the image config JSON) and its merged files."""

    name: str  # what the user asked for (a ref, an archive path), for messages
    config: dict[str, Any]
    architecture: str = ""
    os: str = ""
    platform_note: str = ""  # which platform of a multi-platform index was picked, if any
    entries: dict[str, Entry] = field(default_factory=dict)  # normalised path without leading "/" -> Entry
    layers: list[Layer] = field(default_factory=list)
    small_files: dict[str, bytes] = field(default_factory=dict)
    children: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # dir -> paths in it
    _sorted: list[str] | None = field(default=None, repr=False, compare=False)  # walk()'s order, until a layer
    _path_text: str | None = field(default=None, repr=False, compare=False)  # path_text(), until a layer


    # --- building --------------------------------------------------------------------------------------
    def apply_layer(self, digest: str, members: list[Member]) -> None:
        """Apply one layer's members in archive order.

        Work is proportional to the entries touched (a children index, each opaque directory handled once per
        layer), so a hostile layer full of whiteouts cannot make indexing quadratic.
        """
        index = len(self.layers)
        self._sorted = self._path_text = None
        layer = Layer(digest)
        self.layers.append(layer)
        entries, children = self.entries, self.children
        opaque_done: set[str] = set()
        added = files = 0
        for path, kind, mode, uid, gid, size, target, head, hardlink, body in members:  # per file: calls inlined
            parent, _, base = path.rpartition("/")  # posixpath.split for a normalised path, faster
            if base.startswith(WHITEOUT):
                if base != OPAQUE:
                    self._remove_tree(posixpath.join(parent, base[len(WHITEOUT):]))
                elif parent not in opaque_done:
                    opaque_done.add(parent)
                    self._hide_below(parent, index)
                continue
            if hardlink is not None:
                source = entries.get(hardlink)
                if source is not None:  # a second name of the same file: its kind, mode, owner and head
                    kind, mode, uid, gid, size, _, target, head = source
                    size = 0
            entry = new_entry((kind, mode, uid, gid, size, index, target, head))
            if kind != DIR and path in entries:
                self._remove_tree(path)
            if parent and parent not in entries:
                self._add_parents(parent, index)
            entries[path] = entry
            children[parent].add(path)
            if body is not None:
                self.small_files[path] = body
            added += size
            files += kind == FILE
        layer.size, layer.files = added, files

    def _put(self, path: str, entry: Entry) -> None:
        self.entries[path] = entry
        self.children[path.rpartition("/")[0]].add(path)

    def _add_parents(self, directory: str, layer: int) -> None:
        """Tar writers may omit parent directories; extraction creates them, so the index does too."""
        while directory and directory not in self.entries:
            self._put(directory, Entry(DIR, 0o755, 0, 0, 0, layer))
            directory = posixpath.dirname(directory)

    def _remove_tree(self, path: str) -> None:
        """Remove *path* and, for a directory, everything under it; their bytes count as wasted."""
        if path not in self.entries:
            return
        self.children.get(posixpath.dirname(path), set()).discard(path)
        pending = [path]
        while pending:
            current = pending.pop()
            old = self.entries.pop(current, None)
            if old is not None and old.size:
                self.layers[old.layer].wasted += old.size
            self.small_files.pop(current, None)
            pending.extend(self.children.pop(current, ()))

    def _hide_below(self, directory: str, layer: int) -> None:
        """An opaque directory: what lower layers put under it disappears; this layer's entries stay."""
        order, pending = [], list(self.children.get(directory, ()))
        while pending:
            current = pending.pop()
            order.append(current)
            pending.extend(self.children.get(current, ()))
        for path in reversed(order):  # children before their directory
            if self.entries[path].layer < layer and not self.children.get(path):
                self._remove_tree(path)

    # --- questions rules ask ---------------------------------------------------------------------------
    def path_text(self) -> str | None:
        """Every path, one per line, for rules that search all names with one regex pass (built once); None when a
        path holds a newline itself (hand-made or hostile), which the text would split."""
        if self._path_text is None:
            text = "\n".join(self.entries)
            self._path_text = text if text.count("\n") < len(self.entries) else ""
        return self._path_text or None

    @property
    def total_size(self) -> int:
        """Bytes of the merged files: what the layers added less what later layers overwrote or deleted."""
        return sum(layer.size - layer.wasted for layer in self.layers)

    @property
    def wasted_size(self) -> int:
        return sum(layer.wasted for layer in self.layers)

    def env(self) -> dict[str, str]:
        pairs = (item.partition("=") for item in self.config.get("Env") or [])
        return {key: value for key, _, value in pairs}

    def search_path(self) -> list[str]:
        return [p for p in self.env().get("PATH", DEFAULT_PATH).split(":") if p]

    def user(self) -> str:
        return (self.config.get("User") or "").strip()

    def user_ids(self) -> tuple[int, int | None] | None:
        """(uid, gid) the container runs as: numeric, or looked up in the image's /etc/passwd and /etc/group.

        None when a user name is not in /etc/passwd (`docker run` then refuses to start); gid None when only a
        uid is given and /etc/passwd does not know it.
        """
        user, _, group = self.user().partition(":")
        if not user:
            return 0, 0
        entry = self._account("etc/passwd", user, id_field=2)
        if entry is None and not _is_id(user):
            return None
        uid = int(user) if _is_id(user) else int(entry[2])
        gid = int(entry[3]) if entry is not None and _is_id(entry[3]) else None
        if group:
            named = self._account("etc/group", group, id_field=2)
            gid = int(group) if _is_id(group) else int(named[2]) if named is not None else None
        return uid, gid

    def group_ids(self) -> frozenset[int]:
        """Every group the container runs in, as `docker run` sets them: the primary gid and, when USER names no
        group, each /etc/group entry whose member list names the user (found by name or uid in /etc/passwd)."""
        ids = self.user_ids()
        if ids is None:
            return frozenset()
        gids = {ids[1]} if ids[1] is not None else set()
        user, _, group = self.user().partition(":")
        entry = self._account("etc/passwd", user, id_field=2) if user and not group else None
        if entry is not None:
            for line in self.small_files.get("etc/group", b"").decode("utf-8", "replace").splitlines():
                fields = line.split(":")
                if len(fields) > 3 and _is_id(fields[2]) and entry[0] in fields[3].split(","):
                    gids.add(int(fields[2]))
        return frozenset(gids)

    def _account(self, path: str, name: str, id_field: int) -> list[str] | None:
        """The /etc/passwd or /etc/group line for *name* (a name or a numeric id), split on colons."""
        for line in self.small_files.get(path, b"").decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if len(fields) > 3 and (fields[0] == name or fields[id_field] == name) and _is_id(fields[id_field]):
                return fields
        return None

    def walk(self, prefix: str = "") -> Iterator[tuple[str, Entry]]:
        """Entries under *prefix* (absolute or relative), in path order.

        A prefix walks only its subtree (the children index), so rules that look under a few directories cost
        what those directories hold, not the whole image each.
        """
        key = prefix.strip("/")
        if not key:
            if self._sorted is None:
                self._sorted = sorted(self.entries)  # several rules walk everything: sort once
            paths = self._sorted
        elif key not in self.entries:
            return
        else:
            paths, pending = [key], [key]
            while pending:
                below = self.children.get(pending.pop(), ())
                paths.extend(below)
                pending.extend(below)
            paths.sort()
        for path in paths:
            yield "/" + path, self.entries[path]

    def resolve(self, path: str, cwd: str = "/") -> tuple[str, Entry | None, str]:
        """Follow symlinks in every component the way the kernel does.

        Returns (final absolute path, its entry or None, a problem: "" or why it failed: missing, loop).
        Linear in the path: components wait on a stack (last first) and *done* holds each resolved prefix.
        """
        full = posixpath.join(cwd, path)
        if len(full) > Limits.PATH_CHARS:  # execve would fail with ENAMETOOLONG
            return full[:80] + "...", None, f"path longer than {Limits.PATH_CHARS} characters"
        pending = [c for c in reversed(full.split("/")) if c and c != "."]
        done: list[str] = []  # done[i]: the resolved path of the first i+1 components
        hops = 0
        while pending:
            component = pending.pop()
            if component == "..":
                if done:
                    done.pop()
                continue
            current = f"{done[-1]}/{component}" if done else component
            entry = self.entries.get(current)
            if entry is None:
                return "/" + "/".join([current, *reversed(pending)]), None, "missing"
            if entry.kind == SYMLINK:
                hops += 1
                if hops > Limits.SYMLINK_HOPS:
                    return "/" + current, None, "symlink loop"
                target = entry.target
                if target.startswith("/"):
                    done = []
                pending.extend(c for c in reversed(target.split("/")) if c and c != ".")
                continue
            if pending and entry.kind != DIR:
                return "/" + current, None, "not a directory"
            done.append(current)
        final = done[-1] if done else ""
        return "/" + final, self.entries.get(final) if final else ROOT_ENTRY, ""

    def which(self, program: str, cwd: str = "/") -> tuple[str, Entry | None, str]:
        """Resolve argv[0] as execve via a shell's PATH search would: names with a slash are paths."""
        if "/" in program:
            return self.resolve(program, cwd)
        dangling = None
        for directory in self.search_path():
            candidate = posixpath.join(directory, program)
            found = self.resolve(candidate, cwd)
            if found[1] is not None and found[1].kind == FILE:
                return found
            if dangling is None and candidate.strip("/") in self.entries:
                entry = found[1]
                why = (f"{candidate} is a symlink that does not resolve ({found[2]})" if entry is None
                       else f"{candidate} is a directory, not a program" if entry.kind == DIR
                       else f"{candidate} is not a regular file")
                dangling = (found[0], None, why)
        return dangling or (program, None, "not on PATH (" + ":".join(self.search_path()) + ")")
