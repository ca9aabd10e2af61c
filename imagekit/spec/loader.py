"""Read imagekit.yaml keeping positions, and validate it against schemas/imagekit.schema.json.

Every problem is reported as ``file:line:col: $.json.path: what was expected`` with a "did you mean"
for misspelt keys, so an editor or a CI log points straight at the offending line.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from imagekit.errors import ImagekitError
from imagekit.resources import schemas_dir

SCHEMA_FILE = "imagekit.schema.json"
SPEC_FILE = "imagekit.yaml"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads((schemas_dir() / SCHEMA_FILE).read_text())


def find_spec(path: str | Path | None) -> Path:
    """The spec file: *path* itself, *path*/imagekit.yaml, or ./imagekit.yaml."""
    candidate = Path(path) if path else Path.cwd()
    if candidate.is_dir():
        candidate = candidate / SPEC_FILE
    if not candidate.is_file():
        raise ImagekitError(f"No spec at {candidate}.",
                            "Pass the path of an imagekit.yaml, or create a project with `imagekit new NAME`.")
    return candidate


def load_document(path: Path) -> Any:
    """Parse YAML into ruamel's position-carrying containers; syntax errors name line and column."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from imagekit.documents import load_yaml
    from imagekit.safe_io import read_regular

    try:
        text = read_regular(path, "spec", "YAML_BYTES").decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ImagekitError(f"Cannot read {path}: {getattr(error, 'strerror', None) or error}.",
                            "Check the path and that the file is UTF-8 text.") from None
    try:
        document = load_yaml(text, path, "rt")
    except (YAMLError, ValueError) as error:  # ValueError: an integer of thousands of digits
        if not isinstance(error, MarkedYAMLError):
            raise ImagekitError(f"{path}: invalid YAML: {error}.", "Fix the YAML at that value.") from None
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ImagekitError(f"{where}: invalid YAML: {error.problem or error.context}.",
                            "Fix the YAML syntax (indentation, quotes, colons) at that position.") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ImagekitError(f"{path}:1:1: the spec must be a mapping of keys (name:, framework:, ...).",
                            "See docs/spec.md or run `imagekit new NAME` for a complete example.")
    return document


def plain(node: Any) -> Any:
    """ruamel containers → plain dicts/lists/scalars (what jsonschema and the model want)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, (int, float)):
        return int(node) if isinstance(node, int) else float(node)
    return str(node)


def position(document: Any, path: list[Any], key: str | None = None) -> tuple[int, int]:
    """1-based line/column of the value at *path* (or of *key* inside it) in the YAML document."""
    node, line, col = document, 0, 0
    steps = [*path, key] if key is not None else list(path)
    for step in steps:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                if isinstance(node, dict) and step in node:
                    line, col = lc.key(step) if step == key else lc.value(step)
                elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                    line, col = lc.item(step)
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return line + 1, col + 1


def _json_path(path: list[Any]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _describe(error: Any) -> tuple[str, str | None]:
    """What was expected, and the misspelt key when the error is an unknown property."""
    validator, schema_node = error.validator, error.schema
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema_node.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        key = extra[0] if extra else None
        close = difflib.get_close_matches(key or "", allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {', '.join(allowed)}"
        return f"unknown key {key!r}{hint}", key
    if validator == "enum":
        close = difflib.get_close_matches(str(error.instance), [str(v) for v in schema_node["enum"]], n=1, cutoff=0.5)
        expected = "one of " + ", ".join(repr(v) for v in schema_node["enum"])
        return f"expected {expected}, got {error.instance!r}" + (f"; did you mean {close[0]!r}?" if close else ""), None
    if validator == "pattern":
        return (f"{error.instance!r} is not allowed here (must match {schema_node['pattern']}; "
                "newlines, quotes and shell characters are rejected)"), None
    if validator == "propertyNames":
        return f"key {error.instance!r} is not a valid name here", None
    if validator == "oneOf" and error.path == error.relative_path:
        return "give exactly one of " + " or ".join(
            "/".join(branch.get("required", [])) for branch in schema_node["oneOf"]), None
    return error.message, None


def _number_for_text(error: Any, document: Any, path: Path) -> str | None:
    """A YAML number where the schema wants a string (python: 3.10 → 3.1): say how to quote it, as written."""
    instance, node = error.instance, error.schema
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return None
    wants_text = (error.validator == "type" and node.get("type") == "string") or (
        error.validator == "enum" and all(isinstance(value, str) for value in node["enum"]))
    if not wants_text:
        return None
    json_path = list(error.absolute_path)
    line, col = position(document, json_path)
    written = str(instance)
    try:
        match = re.match(r"[^\s,#\]}]+", path.read_text(encoding="utf-8").splitlines()[line - 1][col - 1:])
        if match and float(match.group()) == instance:
            written = match.group()
    except (OSError, UnicodeDecodeError, IndexError, ValueError):
        pass
    key = json_path[-1] if json_path and isinstance(json_path[-1], str) else "-"
    expected = ""
    if error.validator == "enum" and written not in node["enum"]:
        expected = " (expected one of " + ", ".join(repr(v) for v in node["enum"]) + ")"
    return (f"YAML reads {written} as the number {instance!r}, not the text {written!r}; write it quoted: "
            f'{key}: "{written}"{expected}')


def validate(document: Any, path: Path) -> dict[str, Any]:
    """Validate against the schema; all problems in one ImagekitError, else the plain data."""
    from jsonschema import Draft202012Validator

    data = plain(document)
    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if not errors:
        return data
    lines, quoted = [], set()
    for error in errors:
        json_path = list(error.absolute_path)
        if tuple(json_path) in quoted:
            continue  # one message per number-for-text value (enum and type both fail on python: 3.10)
        number = _number_for_text(error, document, path)
        if number:
            quoted.add(tuple(json_path))
        expected, key = (number, None) if number else _describe(error)
        line, col = position(document, json_path, key)
        lines.append(f"{path}:{line}:{col}: {_json_path(json_path + ([key] if key else []))}: {expected}")
    more = f" (and {len(lines) - 8} more)" if len(lines) > 8 else ""
    lines = lines[:8]
    text = "; ".join(lines) + more
    raise ImagekitError("Invalid spec: " + text + ("" if text.endswith(("?", ".")) else "."),
                        "Fix the listed keys; docs/spec.md documents every field, and editors complete it from the "
                        "schema via the yaml-language-server modeline.")
