"""Turn Dockerfile bytes into text the way BuildKit reads them, and say when it cannot read them.

BuildKit (frontend/dockerfile/parser/parser.go) strips a UTF-8 byte-order mark, splits lines at LF only and
drops the CR of a CRLF: a lone CR stays part of its line. UTF-16/32 files are decoded here all the same, so
a report can show their lines, but ``unreadable`` says why `docker build` refuses them.
"""

from __future__ import annotations

import codecs

from imagekit.dockerfile.model import SyntaxProblem

_FIX = "Save it as UTF-8 with LF or CRLF line ends."
# Longest BOM first: the UTF-32LE BOM starts with the UTF-16LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> str:
    """Decode by BOM (UTF-8 without one), never failing: undecodable bytes become U+FFFD."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data[len(bom):].decode(encoding, errors="replace")
            break
    else:
        text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")


def unreadable(data: bytes) -> SyntaxProblem | None:
    """Why BuildKit cannot read *data* as a Dockerfile at all (line 1), or None."""
    for bom, encoding in _BOMS:
        if data.startswith(bom) and encoding != "utf-8":
            return _wide(encoding, f"it starts with the byte-order mark {bom.hex(' ').upper()}")
    start = data[:64] if len(data) >= 4 else b""
    start = start[:len(start) // 2 * 2]  # whole UTF-16 code units
    for encoding, nuls, letters in (("utf-16-le", start[1::2], start[::2]), ("utf-16-be", start[::2], start[1::2])):
        if start and not nuls.strip(b"\0") and b"\0" not in letters:
            return _wide(encoding, "no byte-order mark, but every second byte is NUL")
    body = data.rstrip(b"\r\n")
    if b"\r" in body and b"\n" not in body:
        return SyntaxProblem("The line ends are CR only (classic Mac): docker build splits lines at LF, so it "
                             f"reads the whole file as one line. {_FIX}", 1)
    return None


def _wide(encoding: str, evidence: str) -> SyntaxProblem:
    name = encoding.upper().replace("-LE", "LE").replace("-BE", "BE")
    return SyntaxProblem(f"The file is {name} ({evidence}): docker build reads UTF-8 only and sees garbage "
                         f"(\"unknown instruction\"). {_FIX}", 1)


def overlong_crlf_line(data: bytes, limit: int) -> tuple[int, int] | None:
    """The first line (1-based) and its size when its CR takes it over *limit* bytes: BuildKit's scanner holds
    the CR of a CRLF line too, which decoding drops."""
    if b"\r\n" not in data:
        return None
    for number, line in enumerate(data.split(b"\n"), 1):
        if len(line) > limit:
            return (number, len(line)) if line.endswith(b"\r") else None
    return None
