"""Batch transform's record framing: how SageMaker splits an input file (SplitType) and groups records into
requests (BatchStrategy, MaxPayloadInMB).

Pure functions over bytes, no engine: `smoke transform` and its unit tests use them alike.

- ``Line``: a record is one line with its ``\\n`` (the last line may lack it).
- ``RecordIO``: MXNet RecordIO (magic 0xced7230a, a length word whose top 3 bits flag multi-part records, the
  data padded to 4 bytes).
- ``TFRecord``: a little-endian 64-bit length, its masked CRC32C, the data, the data's masked CRC32C; both CRCs
  are verified.
- ``None``: the whole file is one record.

With CompressionType Gzip each file is decompressed first (every gzip member, CRCs checked), then split.

A binary record travels without its framing in a SingleRecord request and with it in a MultiRecord one ("padding
is removed if BatchStrategy is SingleRecord, not if MultiRecord": the CreateTransformJob SplitType docs), so a
container can split a MultiRecord body again.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from math import isqrt
from typing import Iterable, Iterator

SPLIT_TYPES = ("None", "Line", "RecordIO", "TFRecord")
BATCH_STRATEGIES = ("SingleRecord", "MultiRecord")
RECORDIO_MAGIC = 0xCED7230A
RECORDIO_LENGTH_BITS = 29  # the length word: flag (3 bits) << 29 | length
RECORDIO_WHOLE, RECORDIO_START, RECORDIO_MIDDLE, RECORDIO_END = 0, 1, 2, 3
TFRECORD_MASK_DELTA = 0xA282EAD8


@dataclass(frozen=True)
class Record:
    """One record of a file: *index* counts from 1; *payload* is what a SingleRecord request carries and *framed*
    what a MultiRecord request carries (the same bytes for Line and None)."""

    index: int
    payload: bytes
    framed: bytes


@dataclass(frozen=True)
class Batch:
    """One request: records *first*..*last* (1-based, inclusive) and the body that carries them."""

    first: int
    last: int
    body: bytes

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def span(self) -> str:
        return f"record {self.first}" if self.first == self.last else f"records {self.first}-{self.last}"


class SplitError(Exception):
    """The file is not in the framing its SplitType says: *index* is the record that broke (1-based)."""

    def __init__(self, index: int, offset: int, message: str) -> None:
        super().__init__(f"record {index} (byte {offset}): {message}")
        self.index, self.offset = index, offset


class CompressionError(Exception):
    """A file that is not the gzip data CompressionType Gzip says it is."""


class TooLarge(CompressionError):
    """Gzip data that expands past the limit it was given (a gzip bomb, or an input too big to split in memory)."""


def gunzip(data: bytes, limit: int) -> bytes:
    """The data of a gzip file, at most *limit* bytes of it: CompressionError when it is not gzip, is cut short or
    fails its CRC; TooLarge when it expands further (reading stops there, so a bomb costs *limit* bytes)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            plain = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise CompressionError(str(error) or type(error).__name__) from None
    if len(plain) > limit:
        raise TooLarge(f"it expands past {limit} bytes")
    return plain


def split(data: bytes, split_type: str) -> Iterator[Record]:
    """The records of one file's bytes, in order (SplitError where the framing breaks)."""
    if split_type == "None":
        yield Record(1, data, data)
    elif split_type == "Line":
        yield from _lines(data)
    elif split_type == "RecordIO":
        yield from _recordio(data)
    elif split_type == "TFRecord":
        yield from _tfrecord(data)
    else:
        raise ValueError(f"unknown split type {split_type!r}")


def _lines(data: bytes) -> Iterator[Record]:
    start, index = 0, 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        index += 1
        yield Record(index, data[start:end], data[start:end])
        start = end


def _recordio(data: bytes) -> Iterator[Record]:
    offset, index, parts, began = 0, 0, [], 0
    while offset < len(data):
        if len(data) - offset < 8:
            raise SplitError(index + 1, offset, f"{len(data) - offset} trailing byte(s), too few for a RecordIO header")
        magic, word = struct.unpack_from("<II", data, offset)
        if magic != RECORDIO_MAGIC:
            raise SplitError(index + 1, offset, f"magic number {magic:#010x}, not RecordIO's {RECORDIO_MAGIC:#010x}")
        flag, length = word >> RECORDIO_LENGTH_BITS, word & ((1 << RECORDIO_LENGTH_BITS) - 1)
        end = offset + 8 + length
        padded = end + (-length % 4)
        if end > len(data):
            raise SplitError(index + 1, offset, f"the header says {length} bytes but the file ends after "
                                                f"{len(data) - offset - 8}")
        if not parts:
            began = offset
        if (flag in (RECORDIO_WHOLE, RECORDIO_START)) == bool(parts) or flag > RECORDIO_END:
            raise SplitError(index + 1, offset, f"part flag {flag} out of sequence")
        parts.append(data[offset + 8:end])
        offset = min(padded, len(data))
        if flag in (RECORDIO_WHOLE, RECORDIO_END):
            index += 1
            # A multi-part record was cut where its data held the magic number: the parts join with it again.
            yield Record(index, struct.pack("<I", RECORDIO_MAGIC).join(parts), data[began:offset])
            parts = []
    if parts:
        raise SplitError(index + 1, began, "a multi-part record has no end part")


def _tfrecord(data: bytes) -> Iterator[Record]:
    offset, index = 0, 0
    while offset < len(data):
        index += 1
        if len(data) - offset < 12:
            raise SplitError(index, offset, f"{len(data) - offset} trailing byte(s), too few for a TFRecord header")
        header = data[offset:offset + 8]
        (length,), (length_crc,) = struct.unpack("<Q", header), struct.unpack_from("<I", data, offset + 8)
        if length_crc != masked_crc32c(header):
            raise SplitError(index, offset, "the length's CRC does not match (not TFRecord, or corrupt)")
        end = offset + 12 + length + 4
        if end > len(data):
            raise SplitError(index, offset, f"the header says {length} bytes but the file ends before them")
        payload = data[offset + 12:end - 4]
        if struct.unpack_from("<I", data, end - 4)[0] != masked_crc32c(payload):
            raise SplitError(index, offset, "the data's CRC does not match (corrupt record)")
        yield Record(index, payload, data[offset:end])
        offset = end


def frame_recordio(payload: bytes) -> bytes:
    """One whole RecordIO record (for tests and fixtures)."""
    return struct.pack("<II", RECORDIO_MAGIC, len(payload)) + payload + b"\0" * (-len(payload) % 4)


def frame_tfrecord(payload: bytes) -> bytes:
    """One TFRecord record (for tests and fixtures)."""
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc32c(header)) + payload + struct.pack("<I", masked_crc32c(payload))


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc32c_table()
# The table's entries cut into their four bytes, as bytes.translate tables: one lookup per lane at C speed.
_CRC32C_BYTES = tuple(bytes(entry >> shift & 0xFF for entry in _CRC32C) for shift in (0, 8, 16, 24))
CRC_LANES_FROM = 2048  # bytes: below this, one byte at a time is quicker than setting up the lanes
CRC_MAX_LANES = 2048  # each step reads a cache line per lane: 2048 of them (128 KiB) stay in the CPU's L2


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord uses."""
    return _crc32c_update(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def _crc32c_bytewise(data: bytes, crc: int) -> int:
    table = _CRC32C
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def _crc32c_update(data: bytes, crc: int) -> int:
    """The CRC register after *data*, many bytes at a time in pure Python.

    A Python loop costs ~50 ns a byte, so the data is cut into equal lanes (~2*sqrt(n)) that advance together: each
    step feeds every lane its next byte with four bytes.translate table lookups over all lanes (each lane's
    register kept as four byte planes, in big integers). The CRC is linear, so the lanes (all but the first
    started from 0) fold into one register: register = register advanced over one lane of zeros, XOR the lane's.
    """
    size = len(data)
    if size < CRC_LANES_FROM:
        return _crc32c_bytewise(data, crc)
    lanes = min(isqrt(4 * size), CRC_MAX_LANES)
    length = size // lanes
    covered = lanes * length
    plane0, plane1, plane2, plane3 = crc & 0xFF, crc >> 8 & 0xFF, crc >> 16 & 0xFF, crc >> 24  # lane 0: byte 0
    table0, table1, table2, table3 = _CRC32C_BYTES
    for step in range(length):
        index = (plane0 ^ int.from_bytes(data[step:covered:length], "little")).to_bytes(lanes, "little")
        plane0 = int.from_bytes(index.translate(table0), "little") ^ plane1
        plane1 = int.from_bytes(index.translate(table1), "little") ^ plane2
        plane2 = int.from_bytes(index.translate(table2), "little") ^ plane3
        plane3 = int.from_bytes(index.translate(table3), "little")
    zeros0, zeros1, zeros2, zeros3 = _crc32c_zeros(length)
    register = 0
    for byte0, byte1, byte2, byte3 in zip(*(plane.to_bytes(lanes, "little")
                                            for plane in (plane0, plane1, plane2, plane3)), strict=True):
        register = (zeros0[register & 0xFF] ^ zeros1[register >> 8 & 0xFF] ^ zeros2[register >> 16 & 0xFF]
                    ^ zeros3[register >> 24] ^ (byte0 | byte1 << 8 | byte2 << 16 | byte3 << 24))
    return _crc32c_bytewise(data[covered:], register)


@lru_cache(maxsize=256)
def _crc32c_zeros(length: int) -> tuple[list[int], ...]:
    """What *length* zero bytes do to a CRC register (a linear map), as four tables, one per register byte."""
    images = []
    for bit in range(32):
        register = 1 << bit
        for _ in range(length):
            register = _CRC32C[register & 0xFF] ^ (register >> 8)
        images.append(register)
    tables = []
    for offset in range(0, 32, 8):
        table = [0] * 256
        for value in range(1, 256):
            table[value] = table[value & (value - 1)] ^ images[offset + (value & -value).bit_length() - 1]
        tables.append(table)
    return tuple(tables)


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return ((crc >> 15 | crc << 17) + TFRECORD_MASK_DELTA) & 0xFFFFFFFF


def batches(records: Iterable[Record], strategy: str, limit: int) -> Iterator[Batch | Record]:
    """Requests in order: a Batch per request, or the Record itself when it alone is over *limit* bytes (0: no
    limit), which SageMaker refuses to send. MultiRecord fills each request with whole framed records up to the
    limit; SingleRecord sends each record's payload alone."""
    pending: list[Record] = []
    size = 0

    def flush() -> Batch:
        body = b"".join(record.framed for record in pending)
        return Batch(pending[0].index, pending[-1].index, body)

    for record in records:
        body = record.payload if strategy == "SingleRecord" else record.framed
        if limit and len(body) > limit:
            if pending:
                yield flush()
                pending, size = [], 0
            yield record
        elif strategy == "SingleRecord":
            yield Batch(record.index, record.index, body)
        else:
            if pending and limit and size + len(body) > limit:
                yield flush()
                pending, size = [], 0
            pending.append(record)
            size += len(body)
    if pending:
        yield flush()
