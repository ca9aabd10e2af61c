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


@pytest.mark.parametrize("text,located", [
    ("python: 3.10\n", 'imagekit.yaml:3:9: $.python: YAML reads 3.10 as the number 3.1'),
    ("framework: {name: sklearn, version: 1.6}\n", '$.framework.version: YAML reads 1.6 as the number 1.6'),
    ("accelerator: cuda\nframework: {name: pytorch}\ncuda:\n  version: 12.4  # pinned\n",
     'imagekit.yaml:5:12: $.cuda.version: YAML reads 12.4 as the number 12.4'),
])
def test_a_number_where_a_version_string_belongs_says_quote_it(tmp_path, text, located):
    body = text if "framework" in text else "framework: {name: custom}\n" + text
    message = _error(tmp_path, "name: m\n" + body)
    assert located in message and "write it quoted:" in message
    assert message.count("$.") == 1  # one message, not the enum and the type error both
    written = located.split("YAML reads ")[1].split(" ")[0]
    assert f'"{written}"' in message and "did you mean" not in message


SERVE = "name: m\nframework: {name: custom}\n"


def _entry_error(tmp_path, spec: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return _error(tmp_path, SERVE + spec)


@pytest.mark.parametrize("spec,files,expected", [
    ("serve: {handler: infrence}\n", {"inference.py": ""},
     ["imagekit.yaml:3:18: serve handler 'infrence' is not a module", "did you mean 'inference'?"]),
    ("serve:\n  handler: inference.py\n", {"inference.py": ""}, ["imagekit.yaml:4:12:", "Write handler: inference"]),
    ("serve: {handler: pkg.inference}\n", {"pkg/other.py": ""}, ["pkg/inference.py or pkg/inference/__init__.py"]),
    ("train: {module: trainer}\n", {}, ["imagekit.yaml:3:17: train module 'trainer' is not a module",
                                        "did you mean 'train'?"]),
    ("train: {module: pkg}\n", {"pkg/__init__.py": ""}, ["pkg.py or pkg/__main__.py"]),
    ("train: {script: data}\n", {"data/x.csv": ""}, ["imagekit.yaml:3:17: train script 'data' is a directory, "
                                                     "not a script"]),
    ("train: {script: nope.py}\n", {}, ["imagekit.yaml:3:17: train script 'nope.py' does not exist"]),
    ("train: {script: train.py}\ncode: {exclude: [train.py]}\n", {},
     ["imagekit.yaml:3:17: train script 'train.py' exists but is not copied into the image",
      "'train.py' of code.exclude"]),
    ("train: {script: data/train.py}\n", {"data/train.py": "", ".dockerignore": "data/\n"},
     ["is not copied into the image", "'data' of "]),
    ("serve: {handler: inference}\n", {"inference.py": "", ".dockerignore": "*.py\n"},
     ["serve handler 'inference.py' exists but is not copied into the image"]),
])
def test_train_and_serve_entries_must_be_in_the_image_code(tmp_path, spec, files, expected):
    message = _entry_error(tmp_path, spec, files)
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize("spec,files", [
    ("serve: {handler: pkg.inference}\n", {"pkg/inference.py": ""}),  # namespace package
    ("serve: {handler: pkg}\n", {"pkg/__init__.py": ""}),
    ("train: {module: pkg.sub}\n", {"pkg/__init__.py": "", "pkg/sub/__main__.py": ""}),
    ("train: {module: train}\nserve: {handler: inference}\n", {"inference.py": ""}),
    ("train: {script: bin/run.sh}\ncode: {dir: src}\n", {"src/bin/run.sh": ""}),
])
def test_entries_the_runtime_can_load_are_accepted(tmp_path, spec, files):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "train.py").write_text("")
    (tmp_path / "imagekit.yaml").write_text(SERVE + spec)
    load_spec(tmp_path)
