"""The spec reference, docs/spec.md, generated from schemas/imagekit.schema.json (the schema is the truth).

    python -m imagekit.spec.docs > docs/spec.md              # regenerate
    python -m imagekit.spec.docs --check docs/spec.md        # exit 1 when out of date

One section per top-level key with a table of it and its nested properties, the schema's examples as
YAML snippets, and at the top the sklearn example spec annotated with each key's description.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from imagekit.errors import ImagekitError

EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "examples" / "sklearn-cpu" / "imagekit.yaml"
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_$][A-Za-z0-9_$-]*):")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def resolve_ref(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """*node* with a local ``$ref`` merged in; the node's own keywords (description, examples) win."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    merged = {**resolve_ref(target, root), **node}
    merged.pop("$ref")
    return merged


def is_map(node: dict[str, Any]) -> bool:
    """An object whose keys the user chooses (env, labels): keys constrained by propertyNames."""
    return isinstance(node.get("additionalProperties"), dict) and "properties" not in node


def walk(node: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, resolved schema) for every property under *node* at any depth, in schema order."""
    def visit(prefix: str, node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, child in node.get("properties", {}).items():
            path = f"{prefix}{key}"
            resolved = resolve_ref(child, root)
            yield path, resolved
            yield from visit(f"{path}.", resolved)

    yield from visit("", node)


def objects(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON path, node) for every schema node that describes an object, including $defs and items."""
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for key, child in node.items():
            if key in ("examples", "default", "enum", "const"):
                continue
            yield from objects(child, f"{path}.{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from objects(child, f"{path}[{index}]")


def _type(node: dict[str, Any], root: dict[str, Any]) -> str:
    if "const" in node:
        return json.dumps(node["const"])
    if "anyOf" in node or "oneOf" in node:
        branches = [_type(resolve_ref(b, root), root) for b in node.get("anyOf", node.get("oneOf", []))]
        if "type" not in node:
            return " or ".join(dict.fromkeys(branches))
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_type(resolve_ref(node.get('items', {}), root), root)}"
    if kind == "object" and is_map(node):
        return f"map of name → {_type(resolve_ref(node['additionalProperties'], root), root)}"
    return str(kind)


def _constraints(node: dict[str, Any], root: dict[str, Any]) -> list[str]:
    """Allowed values, patterns and limits, as short Markdown fragments."""
    found = []
    if "enum" in node:
        found.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    if "pattern" in node:
        found.append(f"pattern `{node['pattern']}`")
    if "minimum" in node or "maximum" in node:
        found.append(f"{node.get('minimum', '')}–{node.get('maximum', '')}")
    if "maxLength" in node:
        found.append(f"at most {node['maxLength']} characters")
    if node.get("uniqueItems"):
        found.append("no duplicates")
    for branch in node.get("anyOf", []):
        resolved = resolve_ref(branch, root)
        found += [f"{_type(resolved, root)}: {c}" for c in _constraints(resolved, root)]
    if node.get("type") == "array":
        found += [f"each item: {c}" for c in _constraints(resolve_ref(node.get("items", {}), root), root)]
    if "propertyNames" in node:
        found.append(f"names match `{node['propertyNames']['pattern']}`")
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _inline(value: Any) -> str:
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def yaml_text(value: Any) -> str:
    """Block-style YAML, deterministic (key order kept)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # keep the schema's key order, as in the examples
    buffer = io.StringIO()
    yaml.dump(value, buffer)
    return buffer.getvalue()


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def _required(path: str, root: dict[str, Any]) -> bool:
    parent: dict[str, Any] = root
    *parents, key = path.split(".")
    for part in parents:
        parent = resolve_ref(parent["properties"][part], root)
    return key in parent.get("required", ())


def _row(path: str, node: dict[str, Any], root: dict[str, Any], described_above: bool = False) -> str:
    """One table row; a section's own key is described in the prose above it, so only its facts go here."""
    description = "" if described_above else node.get("description", "")
    if _required(path, root):
        description = ("**Required.** " + description).strip()
    if "examples" in node and not described_above:
        description += " Example: " + ", ".join(_inline(e) for e in node["examples"])
    default = _inline(node["default"]) if "default" in node else ""
    return (f"| `{path}` | {_cell(_type(node, root))} | {default} | {_cell('; '.join(_constraints(node, root)))} | "
            f"{_cell(description)} |")


def _alternatives(node: dict[str, Any]) -> list[str]:
    """Prose for a oneOf of required-key sets (train: script or module)."""
    if "oneOf" not in node or "type" not in node:
        return []
    sets = [" + ".join(f"`{k}`" for k in branch.get("required", ())) for branch in node["oneOf"]]
    return ["Give exactly one of " + " or ".join(sets) + "."]


def annotated_example(text: str, root: dict[str, Any]) -> str:
    """The example spec with each key's description (first sentence) as a comment above it."""
    descriptions = dict((path, node.get("description", "")) for path, node in walk(root, root))
    out, stack = [], []  # stack: (indent, key) of the enclosing mappings
    for line in text.splitlines():
        match = _KEY_LINE.match(line)
        if match and not line.lstrip().startswith("#"):
            indent = len(match["indent"])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, match["key"]))
            description = descriptions.get(".".join(key for _, key in stack))
            if description:
                out.append(f"{match['indent']}# {first_sentence(description)}")
        out.append(line)
    return "\n".join(out) + "\n"


def _anchor(key: str) -> str:
    return re.sub(r"[^a-z0-9_ -]", "", key.lower()).replace(" ", "-")


def markdown(root: dict[str, Any], example: str) -> str:
    """The whole docs/spec.md."""
    top = list(root["properties"].items())
    out = ["# imagekit.yaml reference", "",
           "<!-- Generated by `python -m imagekit.spec.docs > docs/spec.md` from schemas/imagekit.schema.json; "
           "do not edit by hand. -->", "",
           root["description"], "",
           "The spec is validated against `schemas/imagekit.schema.json` (JSON Schema 2020-12) before anything is "
           "rendered. Unknown keys are errors, with a suggestion when a key looks misspelt; every error names "
           "`file:line:col` and the JSON path, and exits 2. `imagekit new` puts a copy of the schema in "
           "`.imagekit/imagekit.schema.json` and names it in a `# yaml-language-server: $schema=...` modeline, so "
           "editors with the YAML language server complete and check the file as you type, offline. "
           "How the spec becomes an image is in [generate.md](generate.md).", "",
           "## Complete example", "",
           "`examples/sklearn-cpu/imagekit.yaml`, each key annotated with its description:", "",
           "```yaml", annotated_example(example, root).rstrip("\n"), "```", "",
           "## Keys", "",
           f"Required: {', '.join(f'`{k}`' for k in root.get('required', ()))}; everything else has a default "
           "or is optional.", "",
           "| Key | Type | Summary |", "|---|---|---|"]
    for key, node in top:
        resolved = resolve_ref(node, root)
        out.append(f"| [`{key}`](#{_anchor(key)}) | {_cell(_type(resolved, root))} | "
                   f"{_cell(first_sentence(resolved.get('description', '')))} |")
    for key, node in top:
        resolved = resolve_ref(node, root)
        out += ["", f"## {key}", "", resolved.get("description", "")]
        for sentence in _alternatives(resolved):
            out += ["", sentence]
        out += ["", "| Path | Type | Default | Allowed | Description |", "|---|---|---|---|---|",
                _row(key, resolved, root, described_above=True)]
        out += [_row(f"{key}.{path}", child, root) for path, child in walk(resolved, root)]
        if is_map(resolved):
            out.append(_map_row(f"{key}.<name>", resolve_ref(resolved["additionalProperties"], root), root))
        if resolved.get("examples"):
            out += ["", "Examples:" if len(resolved["examples"]) > 1 else "Example:"]
            for sample in resolved["examples"]:
                out += ["", "```yaml", yaml_text({key: sample}).rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


def _map_row(path: str, node: dict[str, Any], root: dict[str, Any]) -> str:
    """The value row of a map (env.<name>): its type and constraints, no description of its own."""
    return (f"| `{path}` | {_cell(_type(node, root))} |  | {_cell('; '.join(_constraints(node, root)))} | "
            "One entry: any name the row above allows. |")


def generate() -> str:
    from imagekit.spec.loader import schema

    try:
        example = EXAMPLE_SPEC.read_text(encoding="utf-8")
    except OSError as error:
        raise ImagekitError(f"Cannot read the example spec {EXAMPLE_SPEC}: {error}.",
                            "Generate docs/spec.md from a source checkout of imagekit.") from None
    return markdown(schema(), example)


def main(argv: list[str]) -> int:
    from imagekit.docs_output import print_or_check

    return print_or_check(generate(), argv, "docs/spec.md", "imagekit.spec.docs")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
