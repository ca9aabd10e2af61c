"""Structured documents within budget: size, nesting and (for YAML) aliases.

YAML aliases share one node, so a 600-byte "billion laughs" file parses instantly and explodes only when
something walks it (schema validation, `plain()`). We walk every parsed document once ourselves, counting each
shared node once per reference with memoisation, and refuse documents whose expansion exceeds
Limits.DOCUMENT_NODES, that nest deeper than Limits.DOCUMENT_DEPTH, or that contain themselves. Used for specs,
lint configs and the JSON documents of images; ruamel is imported only when YAML is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagekit.contract import Limits
from imagekit.errors import ImagekitError, LimitExceeded


def load_yaml(text: str, path: Path, typ: str) -> Any:
    """Parse *text* with ruamel (*typ* "rt" keeps positions, "safe" gives plain data) and check its budget.

    Syntax errors are left to the caller (ruamel's MarkedYAMLError), which knows how to place them.
    """
    from ruamel.yaml import YAML

    if len(text) > Limits.YAML_BYTES:
        raise LimitExceeded(str(path), "the size of this YAML file", "YAML_BYTES", Limits.YAML_BYTES)
    yaml = YAML(typ=typ, pure=True) if typ == "safe" else YAML(typ=typ)
    depth = 0
    for event in yaml.parse(text):  # the parser is a loop, the composer recursion: check nesting before it
        kind = type(event).__name__
        depth += kind in ("MappingStartEvent", "SequenceStartEvent")
        depth -= kind in ("MappingEndEvent", "SequenceEndEvent")
        if depth > Limits.DOCUMENT_DEPTH:
            raise LimitExceeded(str(path), "the nesting of this YAML file", "DOCUMENT_DEPTH", Limits.DOCUMENT_DEPTH)
    try:
        document = yaml.load(text)
    except RecursionError:
        raise LimitExceeded(str(path), "the nesting of this YAML file", "DOCUMENT_DEPTH",
                            Limits.DOCUMENT_DEPTH) from None
    check_document(document, str(path))
    return document


def check_document(document: Any, where: str) -> None:
    """Refuse a parsed YAML/TOML/JSON document nested deeper than DOCUMENT_DEPTH, expanding to more than DOCUMENT_NODES
    values, or containing itself (an alias inside its own anchor). Iterative: deep input cannot recurse."""
    sizes: dict[int, int] = {}  # id(container) -> expanded value count, once finished
    open_now: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(document, 1, False)]
    total = 0
    while stack:
        node, depth, done = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        key = id(node)
        if done:
            open_now.discard(key)
            children = node.values() if isinstance(node, dict) else node
            sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in children)
            continue
        if key in open_now:
            raise ImagekitError(f"{where}: an alias refers to the value that contains it, so the document never "
                                "ends.", "Remove the self-referencing alias (*name inside &name).")
        if key in sizes:
            total += sizes[key]
        else:
            if depth > Limits.DOCUMENT_DEPTH:
                raise LimitExceeded(where, "the nesting of this document", "DOCUMENT_DEPTH", Limits.DOCUMENT_DEPTH)
            open_now.add(key)
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in (node.values() if isinstance(node, dict) else node))
            total += len(node) + 1
        if total > Limits.DOCUMENT_NODES:
            raise LimitExceeded(where, "the number of values once YAML aliases are expanded", "DOCUMENT_NODES",
                                Limits.DOCUMENT_NODES)
