"""Spec loading: schema validation errors name file:line:col, the JSON path, what was expected."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from generate.helpers import EXAMPLES, FULL_SPEC, GENERATOR_EXAMPLES, write_project
from imagekit.errors import ImagekitError
from imagekit.resources import schemas_dir
from imagekit.spec import load_spec


def _error(tmp_path, text: str) -> str:
    (tmp_path / "train.py").write_text("")
    (tmp_path / "imagekit.yaml").write_text(text)
    with pytest.raises(ImagekitError) as raised:
        load_spec(tmp_path / "imagekit.yaml")
    assert raised.value.exit_code == 2
    return str(raised.value)


def test_schema_documents_every_property():
    schema = json.loads((schemas_dir() / "imagekit.schema.json").read_text())

    def walk(node, path):
        if node.get("type") == "object" or "properties" in node:
            assert node.get("additionalProperties") is not True, path
            if "properties" in node:
                assert node.get("additionalProperties") is False, path
        for key, child in node.get("properties", {}).items():
            assert child.get("description") and child.get("examples"), f"{path}.{key}"
            walk(child, f"{path}.{key}")

    walk(schema, "$")


@pytest.mark.parametrize("example", GENERATOR_EXAMPLES)
def test_examples_are_valid(example):
    spec = load_spec(EXAMPLES / example)
    assert spec.name == example and spec.train and spec.handler


def test_full_spec_loads_with_defaults(tmp_path):
    spec = load_spec(write_project(tmp_path, FULL_SPEC))
    assert spec.user == "model" and spec.serve_workers == 2 and spec.size_budget == 2 * 10**9
    assert dict(spec.env) == {"LOG_LEVEL": "info", "GREETING": "hello world"}
    minimal = load_spec(write_project(tmp_path / "min", {"name": "m", "framework": {"name": "sklearn"}}))
    assert (minimal.python, minimal.accelerator, minimal.user, minimal.bind_to_port) == ("3.11", "cpu", "root", True)


def test_misspelt_key_gets_position_and_suggestion(tmp_path):
    message = _error(tmp_path, "name: m\nframework:\n  name: sklearn\ntrian:\n  script: train.py\n")
    assert "imagekit.yaml:4:1: $.trian: unknown key 'trian'; did you mean 'train'?" in message


def test_nested_enum_error_suggests_value(tmp_path):
    message = _error(tmp_path, "name: m\nframework:\n  name: sklarn\n")
    assert "imagekit.yaml:3:9: $.framework.name" in message and "did you mean 'sklearn'" in message


def test_list_item_position(tmp_path):
    message = _error(tmp_path, "name: m\nframework: {name: custom}\nsystem_packages:\n  - curl\n  - 'curl; id'\n")
    assert "imagekit.yaml:5:5: $.system_packages[1]" in message


def test_yaml_syntax_error_has_position(tmp_path):
    message = _error(tmp_path, "name: m\nframework: [\n")
    assert "imagekit.yaml:3:1: invalid YAML" in message


def test_missing_referenced_file(tmp_path):
    message = _error(tmp_path, "name: m\nframework: {name: custom}\nrequirements: {file: missing.txt}\n")
    assert "missing.txt" in message and "does not exist" in message


def test_train_needs_exactly_one_entry(tmp_path):
    message = _error(tmp_path, "name: m\nframework: {name: custom}\ntrain: {script: train.py, module: a.b}\n")
    assert "$.train: give exactly one of script or module" in message


def test_cli_reports_error_without_traceback(tmp_path):
    (tmp_path / "imagekit.yaml").write_text("name: m\nframwork: {name: custom}\n")
    run = subprocess.run([sys.executable, "-m", "imagekit", "explain", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "did you mean 'framework'" in run.stderr and "Traceback" not in run.stderr
