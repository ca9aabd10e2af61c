"""`imagekit new`: every framework scaffolds a valid, lint-clean project; bad input leaves nothing behind."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generate.helpers import dockerfile_for
from imagekit.errors import ImagekitError
from imagekit.render import render
from imagekit.resources import schemas_dir
from imagekit.scaffold import FRAMEWORKS, SCHEMA_COPY, new, sample_csv
from imagekit.spec import load_spec
from imagekit.spec.frameworks import data as framework_data


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_scaffold_is_complete_and_valid(framework, tmp_path):
    accelerator = "cpu"
    project = new("demo", framework, accelerator=accelerator, directory=tmp_path)
    names = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert {"imagekit.yaml", "train.py", "inference.py", "requirements.txt", ".dockerignore",
            ".pre-commit-config.yaml", "README.md", "data/training/train.csv",
            ".github/workflows/imagekit.yml"} <= names
    spec_text = (project / "imagekit.yaml").read_text()
    assert spec_text.startswith(f"# yaml-language-server: $schema={SCHEMA_COPY}\n")
    assert (project / SCHEMA_COPY).read_text() == (schemas_dir() / "imagekit.schema.json").read_text()
    spec = load_spec(project)
    assert spec.framework == framework and spec.train.target == "train.py" and spec.handler == "inference"
    for module in ("train.py", "inference.py"):
        tree = ast.parse((project / module).read_text())
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        if module == "inference.py":
            assert {"model_fn", "input_fn", "predict_fn", "output_fn"} <= functions
    assert "imagekit-lint" in (project / ".pre-commit-config.yaml").read_text()
    assert "data/" in (project / ".dockerignore").read_text()
    dockerfile_for(project / "imagekit.yaml")


def test_cuda_scaffold(tmp_path):
    spec = load_spec(new("gpu", "pytorch", accelerator="cuda", directory=tmp_path))
    assert spec.accelerator == "cuda" and spec.size_budget > 10**10


def test_base_is_quoted_into_the_spec(tmp_path):
    spec = load_spec(new("b", "sklearn", base="imagekit/base:bookworm", directory=tmp_path))
    assert spec.base == "imagekit/base:bookworm"
    with pytest.raises(ImagekitError):
        new("c", "sklearn", base="x\nuser: evil", directory=tmp_path)
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("name,framework,accelerator", [("Bad Name", "sklearn", "cpu"), ("ok", "keras", "cpu"),
                                                        ("ok", "sklearn", "cuda")])
def test_bad_input(name, framework, accelerator, tmp_path):
    with pytest.raises(ImagekitError):
        new(name, framework, accelerator=accelerator, directory=tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("flags, message", [
    ({"base": "not a ref!!"}, "--base 'not a ref!!' is not an image reference a spec accepts"),
    ({"base": "x\nuser: evil"}, "--base 'x\\nuser: evil' is not an image reference"),
    ({"accelerator": "tpu"}, "Unknown --accelerator 'tpu'. Choose cpu or cuda."),
])
def test_a_bad_flag_is_named_as_the_flag_not_as_a_spec_line(flags, message, tmp_path):
    with pytest.raises(ImagekitError) as error:
        new("x", "pytorch", directory=tmp_path, **flags)
    assert str(error.value).startswith(message) and "imagekit.yaml" not in str(error.value)
    assert not any(tmp_path.iterdir())


def test_sample_data_is_deterministic_iris_like():
    text = sample_csv()
    assert text == sample_csv()
    rows = [line.split(",") for line in text.splitlines()]
    assert len(rows) == 150 and {r[0] for r in rows} == {"0", "1", "2"} and all(len(r) == 5 for r in rows)


COMBINATIONS = [(f, a) for f in FRAMEWORKS for a in framework_data()["presets"][f]["accelerators"]]


@pytest.mark.parametrize("framework,accelerator", COMBINATIONS)
@pytest.mark.parametrize("base", [None, "imagekit/base:bookworm"])
def test_every_scaffold_renders_without_warnings(framework, accelerator, base, tmp_path):
    """The scaffold writes the python its mode really uses (3.10 in CUDA system mode), so render never warns."""
    project = new("demo", framework, accelerator=accelerator, base=base, directory=tmp_path)
    result = render(project, tmp_path / "ctx")
    assert result.warnings == ()
    assert load_spec(project).python == result.resolution.python


def test_new_explains_a_dir_that_cannot_hold_the_project(tmp_path, monkeypatch):
    (tmp_path / "train.py").write_text("")
    for directory, expected in ((tmp_path / "train.py", "is not a directory"),
                                (tmp_path / "train.py" / "sub", "Not a directory")):
        with pytest.raises(ImagekitError, match=expected) as raised:
            new("x6", "sklearn", directory=directory)
        assert raised.value.exit_code == 2
    (tmp_path / "x7").write_text("")
    with pytest.raises(ImagekitError, match="not a directory"):
        new("x7", "sklearn", directory=tmp_path)

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_text", refuse)  # an unwritable parent (the tests may run as root)
    with pytest.raises(ImagekitError, match="Permission denied") as raised:
        new("x8", "sklearn", directory=tmp_path / "ro")
    assert raised.value.exit_code == 2 and not (tmp_path / "ro" / "x8").exists()


def _loaded_train(project: Path):
    spec = importlib.util.spec_from_file_location(f"scaffold_train_{project.name}", project / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the framework imports are inside main()
    return module


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_only_the_first_host_saves_the_model(framework, tmp_path, monkeypatch):
    """SageMaker merges every host's model dir: hosts that trained their own (randomly initialised) model must not
    each save it, or `smoke train --instances 2` warns train.model-clash on imagekit's own scaffold."""
    project = new("demo", framework, directory=tmp_path)
    module = _loaded_train(project)
    for hosts, current, saves in ((None, None, True), ('["algo-1", "algo-2"]', "algo-1", True),
                                  ('["algo-1", "algo-2"]', "algo-2", False)):
        for name, value in (("SM_HOSTS", hosts), ("SM_CURRENT_HOST", current)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        assert module.first_host() is saves
    main = next(node for node in ast.parse((project / "train.py").read_text()).body
                if isinstance(node, ast.FunctionDef) and node.name == "main")
    guarded = {id(inner) for node in ast.walk(main) if isinstance(node, ast.If)
               and ast.unparse(node.test) == "first_host()" for inner in ast.walk(node)}
    writes = [node for node in ast.walk(main) if isinstance(node, ast.Call) and "model_dir" in ast.unparse(node)
              and ast.unparse(node.func).rsplit(".", 1)[-1] in ("save", "dump", "save_model", "write_text")]
    assert writes and all(id(call) in guarded for call in writes), ast.unparse(main)


def test_the_plain_python_scaffold_trains_everywhere_and_saves_on_algo_1_only(tmp_path):
    project = new("demo", "custom", directory=tmp_path)
    for host, saved in (("algo-1", ["model.json"]), ("algo-2", [])):
        model = tmp_path / host
        env = {**os.environ, "SM_HOSTS": '["algo-1", "algo-2"]', "SM_CURRENT_HOST": host, "SM_MODEL_DIR": str(model),
               "SM_CHANNEL_TRAINING": str(project / "data" / "training")}
        result = subprocess.run([sys.executable, "train.py"], cwd=project, env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0 and "trained on" in result.stdout, result.stderr
        assert sorted(p.name for p in model.iterdir()) == saved
