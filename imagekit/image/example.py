"""Tiny declarative images: the good/bad examples of image rules, shown in docs/rules.md and run as tests.

An example is the image config it sets and the files its layers add, on top of EXAMPLE_BASE, a minimal serving
image (a shell, env and python3, /etc/passwd with root, `train` and `serve` scripts on PATH, the serving port and
label). A file is given by its text or bytes (mode 0755 when they start with `#!` or an ELF header, else 0644), by
an int (that many bytes), or as File/Link/Dir; `.wh.NAME` in a later layer deletes NAME, as in real layers.

    ImageExample(files={"root/.aws/credentials": "[default]\\n"})
    ImageExample(config={"Entrypoint": ["/bin/sh", "-c", "serve"]})
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from imagekit import contract


@dataclass(frozen=True)
class File:
    content: bytes | str | int  # an int: that many bytes
    mode: int | None = None  # None: 0755 for scripts and ELF files, else 0644
    uid: int = 0
    gid: int = 0

    @property
    def data(self) -> bytes:
        return bytes(self.content) if isinstance(self.content, int) else (
            self.content.encode() if isinstance(self.content, str) else self.content)

    @property
    def file_mode(self) -> int:
        if self.mode is not None:
            return self.mode
        return 0o755 if self.data[:2] == b"#!" or self.data[:4] == b"\x7fELF" else 0o644


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Dir:
    mode: int = 0o755


Item = Union[File, Link, Dir, bytes, str, int]


AMD64, ARM64 = 62, 183  # ELF e_machine values
_MACHINES = {AMD64: "amd64", ARM64: "arm64"}


def elf(machine: int = AMD64) -> bytes:
    """The first bytes of a 64-bit little-endian ELF executable for *machine* (62 amd64, 183 arm64)."""
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HH", 2, machine) + b"\x00" * 44


SERVE_SCRIPT = "#!/usr/bin/env python3\nprint('serving')\n"
EXAMPLE_PATH = "PATH=/usr/local/bin:/usr/bin:/bin"
EXAMPLE_BASE_CONFIG: Mapping[str, Any] = {
    "Entrypoint": ["/usr/local/bin/serve"], "Env": [EXAMPLE_PATH],
    "Labels": {contract.LABEL_BIND_TO_PORT: contract.CAPABILITY_TRUE},
    "ExposedPorts": {f"{contract.SERVING_PORT}/tcp": {}}}
EXAMPLE_BASE_LAYERS: tuple[Mapping[str, Item], ...] = (
    {"bin": Dir(), "usr/bin": Dir(), "usr/local/bin": Dir(), "etc": Dir(), "bin/sh": File(elf()),
     "usr/bin/env": File(elf()), "usr/bin/python3.11": File(elf()), "usr/bin/python3": Link("python3.11"),
     "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"},
    {"usr/local/bin/serve": SERVE_SCRIPT, "usr/local/bin/train": SERVE_SCRIPT},
)


@dataclass(frozen=True)
class ImageExample:
    """The config keys an example sets (replacing EXAMPLE_BASE's; None removes one) and the layers it adds."""

    config: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, Item] = field(default_factory=dict)  # one layer on top of the base
    later: Mapping[str, Item] = field(default_factory=dict)  # one more layer above that (deletions, overwrites)
    architecture: str = "amd64"
    options: Mapping[str, Any] = field(default_factory=dict)  # rule options the example runs with

    @property
    def image_config(self) -> dict[str, Any]:
        merged = {**EXAMPLE_BASE_CONFIG, **self.config}
        return {key: value for key, value in merged.items() if value is not None}

    @property
    def layers(self) -> list[list[tuple[str, File | Link | Dir]]]:
        """Every layer, base first, as (path, File | Link | Dir) in archive order."""
        return [[(path, item if isinstance(item, (File, Link, Dir)) else File(item)) for path, item in layer.items()]
                for layer in (*EXAMPLE_BASE_LAYERS, self.files, self.later) if layer]

    def text(self) -> str:
        """What the docs show: the config set and each added file, one per line."""
        lines = [f"# on the example base image ({self.architecture})" if self.architecture != "amd64"
                 else "# on the example base image"]
        lines += [f"config {key}: {json.dumps(value)}" for key, value in self.config.items()]
        lines += [f"option {key} = {value!r}" for key, value in self.options.items()]
        for title, layer in (("layer", self.files), ("later layer", self.later)):
            lines += [f"{title}: {_describe(path, item)}" for path, item in layer.items()]
        return "\n".join(lines) + "\n"


def under(directory: Any, name: str) -> str:
    """A path inside a contract directory, as example layers name it (relative, like tar members)."""
    return f"{str(directory).strip('/')}/{name}"


def _describe(path: str, item: Item) -> str:
    if isinstance(item, Link):
        return f"/{path} -> {item.target}"
    if isinstance(item, Dir):
        return f"/{path}/ (directory)"
    entry = item if isinstance(item, File) else File(item)
    if path.rpartition("/")[2].startswith(".wh."):
        return f"/{path} (deletes /{path.replace('.wh.', '', 1)})"
    data = entry.data
    if data[:4] == b"\x7fELF":
        machine = int.from_bytes(data[18:20], "little")
        shown = f"an ELF program for {_MACHINES.get(machine, f'machine {machine}')}"
    elif isinstance(entry.content, int) or not data.isascii():
        shown = f"{len(data):,} bytes"
    else:
        shown = json.dumps(data.decode())
    return f"/{path} {oct(entry.file_mode)[2:].zfill(4)} {shown}"
