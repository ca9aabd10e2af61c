"""docs/spec.md is generated from the schema, and the schema documents and closes every property.

The issue asks for "descriptions and examples on every property" (so editors can complete the spec) and
"additionalProperties: false everywhere"; these tests list the JSON paths that fall short.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from imagekit.spec.docs import EXAMPLE_SPEC, annotated_example, generate, is_map, main, objects, walk
from imagekit.spec.loader import schema

REPO = Path(__file__).resolve().parents[2]
SPEC_DOC = REPO / "docs" / "spec.md"
MINIMAL = {"name": "example", "framework": {"name": "custom"}}


def _subschema(node: dict) -> dict:
    """*node* as a standalone schema whose local $refs still resolve."""
    return {**node, "$defs": schema()["$defs"]}


def test_spec_doc_is_up_to_date() -> None:
    run = subprocess.run([sys.executable, "-m", "imagekit.spec.docs", "--check", str(SPEC_DOC)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, "docs/spec.md is out of date: run `python -m imagekit.spec.docs > docs/spec.md`"
    assert SPEC_DOC.read_text(encoding="utf-8") == generate()


def test_check_fails_on_a_stale_or_missing_file(tmp_path, capsys) -> None:
    stale = tmp_path / "spec.md"
    stale.write_text(generate().replace("## train", "## training"))
    assert main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["--check", str(tmp_path / "missing.md")]) == 1


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema())


def test_every_property_has_a_description_and_examples() -> None:
    undocumented = [path for path, node in walk(schema(), schema()) if not node.get("description")]
    without_examples = [path for path, node in walk(schema(), schema()) if not node.get("examples")]
    assert not undocumented, f"properties without a description: {undocumented}"
    assert not without_examples, f"properties without examples: {without_examples}"


def test_every_object_is_closed() -> None:
    """additionalProperties: false, except maps whose keys the user names (env, labels), which constrain
    their keys with propertyNames and their values with a schema instead."""
    open_objects = [path for path, node in objects(schema())
                    if node.get("additionalProperties") is not False
                    and not (is_map(node) and "pattern" in node.get("propertyNames", {}))]
    assert not open_objects, f"objects accepting unknown keys: {open_objects}"


def test_every_schema_example_is_valid() -> None:
    invalid = []
    for path, node in walk(schema(), schema()):
        validator = Draft202012Validator(_subschema(node))
        invalid += [f"{path}: {example!r}" for example in node.get("examples", ()) if not validator.is_valid(example)]
    top = Draft202012Validator(schema())
    for key, node in schema()["properties"].items():
        invalid += [f"{key} in a whole spec: {example!r}" for example in node.get("examples", ())
                    if not top.is_valid({**MINIMAL, key: example})]
    assert not invalid, f"schema examples the schema rejects: {invalid}"


def test_every_property_has_a_row_and_every_top_level_key_a_section() -> None:
    text = generate()
    missing_rows = [path for path, _ in walk(schema(), schema()) if f"| `{path}` |" not in text]
    missing_sections = [key for key in schema()["properties"] if f"\n## {key}\n" not in text]
    assert not missing_rows and not missing_sections


def test_yaml_snippets_parse_and_the_complete_example_is_a_valid_spec() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", generate(), flags=re.S)
    documents = [YAML(typ="safe").load(block) for block in blocks]
    assert all(isinstance(document, dict) for document in documents)
    complete = documents[0]
    assert complete == YAML(typ="safe").load(EXAMPLE_SPEC.read_text())
    assert Draft202012Validator(schema()).is_valid(complete)


def test_annotations_only_add_comment_lines() -> None:
    original = EXAMPLE_SPEC.read_text()
    annotated = annotated_example(original, schema())
    added = [line for line in annotated.splitlines() if line not in original.splitlines()]
    assert added and all(line.lstrip().startswith("# ") for line in added)
    assert [line for line in annotated.splitlines() if line in original.splitlines()] == original.splitlines()
    assert "  # Preset name; `custom` installs only your requirements." in annotated.splitlines()


@pytest.mark.parametrize("key", ["framework", "train", "env"])
def test_schema_examples_appear_as_yaml_snippets(key) -> None:
    text = generate()
    section = text.split(f"\n## {key}\n", 1)[1].split("\n## ", 1)[0]
    snippets = [YAML(typ="safe").load(b) for b in re.findall(r"```yaml\n(.*?)```", section, flags=re.S)]
    assert snippets == [{key: example} for example in schema()["properties"][key]["examples"]]
