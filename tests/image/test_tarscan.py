"""The tar header reader against what `tarfile` writes in each format, and against damage."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from imagekit.image.tarscan import DIRECTORY, HARDLINK, OTHER, REGULAR, SYMLINK, TarDamage, TarScanner

LONG = "deep/" * 40 + "name.py"  # 207 characters: a GNU long name, a pax path, a ustar prefix
MEMBERS = [("etc/", tarfile.DIRTYPE, b"", ""), ("etc/passwd", tarfile.REGTYPE, b"root:x:0:0::/root:/bin/sh\n", ""),
           (LONG, tarfile.REGTYPE, b"x" * 700, ""), ("lnk", tarfile.SYMTYPE, b"", "t/" * 60 + "target"),
           ("hard", tarfile.LNKTYPE, b"", "etc/passwd"), ("fifo", tarfile.FIFOTYPE, b"", ""),
           ("usr/bin/run", tarfile.REGTYPE, b"#!/bin/sh\n" + bytes(5000), "")]


def _archive(fmt: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, kind, body, link in MEMBERS:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size, info.mode = kind, link, len(body), 0o4755
            info.uid, info.gid = 3_000_000, 7  # beyond 7 octal digits: base-256 (GNU) or a pax record
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def _members(data: bytes, tmp_path: Path, random_access: bool) -> list[tuple]:
    if random_access:
        path = tmp_path / "t.tar"
        path.write_bytes(data)
        fd = os.open(path, os.O_RDONLY)
        try:
            scanner = TarScanner(fd=fd, size=len(data))
            return [(*header, scanner.read(12)) for header in scanner]
        finally:
            os.close(fd)
    scanner = TarScanner(io.BytesIO(data))
    return [(*header, scanner.read(12)) for header in scanner]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("random_access", [True, False])
def test_every_format_reads_as_tarfile_reads_it(fmt: int, random_access: bool, tmp_path: Path) -> None:
    data = _archive(fmt)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        expected = [(info.name, info.type, info.mode, info.uid, info.gid, info.size, info.linkname,
                     tar.extractfile(info).read(12) if info.isfile() else b"") for info in tar]
    found = _members(data, tmp_path, random_access)
    kinds = {REGULAR: tarfile.REGTYPE, DIRECTORY: tarfile.DIRTYPE, SYMLINK: tarfile.SYMTYPE,
             HARDLINK: tarfile.LNKTYPE, OTHER: tarfile.FIFOTYPE}
    assert [(name.rstrip("/"), kinds[kind], mode, uid, gid, size, link, body)
            for name, kind, mode, uid, gid, size, link, body in found] == expected


def test_ustar_prefix_splits_a_long_path(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(LONG)
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    assert [m[0] for m in _members(buffer.getvalue(), tmp_path, True)] == [LONG]


def test_size_beyond_octal_uses_base_256(tmp_path: Path) -> None:
    block = bytearray(tarfile.TarInfo("big").tobuf(tarfile.GNU_FORMAT))
    block[124:136] = b"\x80" + (9 << 30).to_bytes(11, "big")  # 9 GiB
    block[148:156] = b"        "
    block[148:156] = b"%06o\0 " % sum(block)
    header = next(iter(TarScanner(io.BytesIO(bytes(block) + bytes(1024)))))
    assert header.size == 9 << 30


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:1] + b"X" + data[2:], "bad checksum"),
    (lambda data: data[:3300], "unexpected end of data"),  # inside the body of the long-named file
    (lambda data: data[:512 * 5 + 100], "truncated header|unexpected end of data"),
    (lambda data: b"", "empty file"),
])
@pytest.mark.parametrize("random_access", [True, False])
def test_damage_is_a_clear_error(damage, message: str, random_access: bool, tmp_path: Path) -> None:
    with pytest.raises(TarDamage, match=message):
        _members(damage(_archive(tarfile.GNU_FORMAT)), tmp_path, random_access)


@pytest.mark.parametrize("random_access", [True, False])
def test_a_tar_of_only_the_end_marker_is_an_empty_layer(random_access: bool, tmp_path: Path) -> None:
    assert _members(bytes(1024), tmp_path, random_access) == []


def test_an_oversized_long_name_is_refused_before_it_is_read(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(tarfile.TarInfo("x" * 5000))
    with pytest.raises(TarDamage, match="extended header"):
        list(TarScanner(io.BytesIO(buffer.getvalue()), name_bytes=4096))


def _with_field(name: str, start: int, end: int, value: bytes, fmt: int = tarfile.GNU_FORMAT) -> bytes:
    block = bytearray(tarfile.TarInfo(name).tobuf(fmt))
    block[start:end] = value
    block[148:156] = b"        "
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block) + bytes(1024)


@pytest.mark.parametrize("name", ["./", "x"])
@pytest.mark.parametrize("random_access", [True, False])
def test_a_negative_size_is_damage_not_a_loop_on_the_same_header(name: str, random_access: bool,
                                                                 tmp_path: Path) -> None:
    with pytest.raises(TarDamage, match="negative size"):
        _members(_with_field(name, 124, 136, b"-0000001000\0"), tmp_path, random_access)


def test_gnu_headers_keep_times_where_ustar_has_its_prefix(tmp_path: Path) -> None:
    """GNU tar (--incremental, --atime-preserve) and Go's writer store atime/ctime at byte 345: not a path part."""
    data = _with_field("model.pkl", 345, 357, b"14771171041\0")
    assert [m[0] for m in _members(data, tmp_path, True)] == ["model.pkl"]
