"""Rendering: golden Dockerfiles for every example and preset, lint-clean output, layer order, modes.

Regenerate the golden files after an intended template change with IMAGEKIT_REGEN_GOLDEN=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generate.helpers import CODE, EXAMPLES, FULL_SPEC, GENERATOR_EXAMPLES, dockerfile_for, write_project
from imagekit import contract
from imagekit.dockerfile import parser
from imagekit.errors import ImagekitError
from imagekit.lint.core import Severity
from imagekit.lint.dockerfile_lint import lint_text
from imagekit.render import render
from imagekit.render.environment import dockerfile_quote, exec_form, shell_quote

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("IMAGEKIT_REGEN_GOLDEN") == "1"
PRESETS = {
    "preset-sklearn-cpu": {"framework": {"name": "sklearn"}},
    "preset-xgboost-cpu": {"framework": {"name": "xgboost"}},
    "preset-xgboost-cuda": {"framework": {"name": "xgboost"}, "accelerator": "cuda"},
    "preset-pytorch-cpu": {"framework": {"name": "pytorch"}},
    "preset-pytorch-cuda": {"framework": {"name": "pytorch"}, "accelerator": "cuda"},
    "preset-pytorch-cuda-system": {"framework": {"name": "pytorch"}, "accelerator": "cuda", "cuda": {"mode": "system"}},
    "preset-tensorflow-cpu": {"framework": {"name": "tensorflow"}},
    "preset-tensorflow-cuda": {"framework": {"name": "tensorflow"}, "accelerator": "cuda"},
    "preset-custom-cpu": {"framework": {"name": "custom"}},
    "preset-custom-cuda": {"framework": {"name": "custom"}, "accelerator": "cuda"},
}
PRESET_ENTRIES = {"train": {"script": "train.py"}, "serve": {"handler": "inference"}}


def _cases(tmp_path_factory) -> dict[str, tuple[Path, bool]]:
    cases = {f"example-{name}": (EXAMPLES / name / "imagekit.yaml", False) for name in GENERATOR_EXAMPLES}
    root = tmp_path_factory.mktemp("presets")
    for name, fields in PRESETS.items():
        cases[name] = (write_project(root / name, {"name": "preset", **fields, **PRESET_ENTRIES}), False)
    full = write_project(root / "full", FULL_SPEC)
    cases["full-classic"] = (full, False)
    cases["full-buildkit"] = (full, True)
    return cases


CASE_NAMES = [f"example-{n}" for n in GENERATOR_EXAMPLES] + list(PRESETS) + ["full-classic", "full-buildkit"]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return _cases(tmp_path_factory)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_golden(case, cases):
    spec_path, buildkit = cases[case]
    text = dockerfile_for(spec_path, buildkit=buildkit)
    golden = GOLDEN / f"{case}.Dockerfile"
    if REGENERATE:
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {case}: run with IMAGEKIT_REGEN_GOLDEN=1"
    assert text == golden.read_text(), f"{case} differs from {golden}; regenerate if the change is intended"
    assert text == dockerfile_for(spec_path, buildkit=buildkit)  # deterministic


@pytest.mark.parametrize("case", CASE_NAMES)
def test_lints_clean(case, cases):
    spec_path, buildkit = cases[case]
    findings = lint_text(dockerfile_for(spec_path, buildkit=buildkit), path="Dockerfile")
    serious = [f for f in findings if f.severity >= Severity.WARNING]
    assert not serious, "\n".join(map(str, serious))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_image_shape(case, cases):
    """Two stages; the final one: venv → runtime → code in that order, exec-form entrypoint, no build tools."""
    spec_path, buildkit = cases[case]
    text = dockerfile_for(spec_path, buildkit=buildkit)
    dockerfile = parser.parse(text)
    builder, final = dockerfile.stages
    assert builder.name == "builder" and final.name == "runtime"
    copies = [i for i in final.instructions if i.keyword == "COPY"]
    assert copies[0].flags.get("from") == ["builder"] and copies[0].text == f"{contract.VENV_DIR} {contract.VENV_DIR}"
    assert copies[-1].text.endswith(f"{contract.CODE_DIR}/"), "user code must be the last COPY"
    assert len(copies) == 3, "venv, imagekit runtime, code: nothing else reaches the final image"
    assert final.entrypoint is not None and final.entrypoint.is_exec_form
    assert final.env["PYTHONUNBUFFERED"] == "1"
    assert contract.LABEL_SPEC_DIGEST in final.labels
    assert ("RUN --mount" in text) == buildkit and "<<" not in text and "# syntax=" not in text
    final_runs = " ".join(i.text for i in final.instructions if i.keyword == "RUN")
    assert "pip install" not in final_runs and "build-essential" not in final_runs and "gcc" not in final_runs


def test_labels_and_user_from_spec(tmp_path):
    text = dockerfile_for(write_project(tmp_path, FULL_SPEC))
    final = parser.parse(text).stages[-1]
    assert final.labels[contract.LABEL_BIND_TO_PORT] == contract.CAPABILITY_TRUE
    assert contract.LABEL_MULTI_MODELS not in final.labels
    assert final.labels["org.opencontainers.image.authors"] == "ml@example.com"
    assert final.user == "model"


@pytest.mark.parametrize("python, warned", [("3.12", True), ("3.10", False)])
def test_cuda_system_mode_warns_when_the_spec_python_is_replaced(tmp_path, python, warned):
    spec_path = write_project(tmp_path / "project", {"name": "x", "python": python, "framework": {"name": "xgboost"},
                                                     "accelerator": "cuda", **PRESET_ENTRIES},
                              code={"train.py": "", "inference.py": ""})
    result = render(spec_path, tmp_path / "ctx")
    assert result.resolution.python == "3.10"
    notes = [w for w in result.warnings if w.startswith("python:")]
    assert bool(notes) == warned
    if warned:
        assert "python: 3.12 is not used" in notes[0] and "cuda.mode: wheels" in notes[0]


def test_render_writes_context_and_warns_for_non_root(tmp_path):
    spec_path = write_project(tmp_path / "project", {**FULL_SPEC, "code": {"exclude": ["notebooks/"]}},
                              code={**{"train.py": "", "inference.py": "", "requirements.txt": "x==1\n"},
                                    "notebooks/n.ipynb": "{}", "pkg/util.py": ""})
    result = render(spec_path, tmp_path / "ctx")
    files = set(result.files)
    assert {"Dockerfile", ".dockerignore", "deps/requirements.txt", "deps/user/requirements.txt",
            "code/train.py", "code/inference.py"} <= files
    assert not any(f.startswith("code/notebooks") for f in files) and "code/imagekit.yaml" not in files
    assert any(f.endswith("/train") for f in files) and any(f.endswith("/serve") for f in files)
    assert result.warnings and "root" in result.warnings[0]
    requirements = (tmp_path / "ctx" / "deps" / "requirements.txt").read_text()
    assert "joblib==1.4.2" in requirements and "-r user/requirements.txt" in requirements
    render(spec_path, tmp_path / "ctx")  # re-rendering replaces its own context
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    with pytest.raises(ImagekitError, match="not rendered by imagekit"):
        render(spec_path, tmp_path / "mine")


def test_nested_requirement_files_are_copied_into_the_context(tmp_path):
    """-r/-c/--requirement/--constraint in the requirements file (recursively, relative to the file that names
    them) are copied to deps/user/ at their project paths, so pip finds them in the builder and on the host."""
    code = {**CODE, "reqs/requirements.txt": "joblib==1.4.2\n-r base-req.txt  # shared\n--constraint=../c.txt\n",
            "reqs/base-req.txt": "-c ../c.txt\n--requirement \\\n  more/extra.txt\n-r https://example.com/r.txt\n",
            "reqs/more/extra.txt": "-r ../base-req.txt\nnumpy\n", "c.txt": "joblib<2\n"}
    spec_path = write_project(tmp_path / "p", {"name": "m", "framework": {"name": "custom"},
                                               "requirements": {"file": "reqs/requirements.txt"}}, code=code)
    result = render(spec_path, tmp_path / "ctx")
    deps = {f for f in result.files if f.startswith("deps/")}
    assert deps == {"deps/requirements.txt", "deps/user/reqs/requirements.txt", "deps/user/reqs/base-req.txt",
                    "deps/user/reqs/more/extra.txt", "deps/user/c.txt"}
    assert "-r user/reqs/requirements.txt" in (tmp_path / "ctx" / "deps" / "requirements.txt").read_text()
    assert (tmp_path / "ctx" / "deps" / "user" / "c.txt").read_text() == "joblib<2\n"


def test_a_spec_that_is_a_symlink_reads_its_project_from_the_link_s_directory(tmp_path):
    """A shared imagekit.yaml linked into several project directories: each project is where the link is."""
    shared = write_project(tmp_path / "shared", {"name": "m", "framework": {"name": "custom"},
                                                 "requirements": {"file": "requirements.txt"}},
                           code={**CODE, "requirements.txt": "joblib==1.4.2\n"})
    project = write_project(tmp_path / "p", {"name": "m", "framework": {"name": "custom"}},
                            code={**CODE, "requirements.txt": "joblib==1.4.1\n"})
    project.unlink()
    project.symlink_to(shared)
    render(project, tmp_path / "ctx")
    assert (tmp_path / "ctx" / "deps" / "user" / "requirements.txt").read_text() == "joblib==1.4.1\n"


@pytest.mark.parametrize("line,problem", [("-r missing.txt", "no such file"), ("-c ../outside.txt", "outside"),
                                          ("--requirement=/etc/passwd", "outside")])
def test_nested_requirement_file_missing_or_outside_is_located(tmp_path, line, problem):
    (tmp_path / "outside.txt").write_text("x\n")
    spec_path = write_project(tmp_path / "p", {"name": "m", "framework": {"name": "custom"},
                                               "requirements": {"file": "requirements.txt"}},
                              code={**CODE, "requirements.txt": f"joblib==1.4.2\n\n{line}\n"})
    with pytest.raises(ImagekitError) as raised:
        render(spec_path, tmp_path / "ctx")
    assert f"{tmp_path / 'p' / 'requirements.txt'}:3:" in str(raised.value) and problem in str(raised.value)
    assert raised.value.exit_code == 2 and not (tmp_path / "ctx").exists()


def test_wheelhouse_installs_offline(tmp_path):
    text = dockerfile_for(write_project(tmp_path, FULL_SPEC), wheelhouse=True)
    assert "--no-index --find-links /tmp/imagekit-deps/wheelhouse" in text and "--extra-index-url" not in text


def test_quoting_filters():
    assert shell_quote("a b; $(id)") == "'a b; $(id)'"
    assert dockerfile_quote('say "hi" $HOME \\') == '"say \\"hi\\" \\$HOME \\\\"'
    assert exec_form(["a", 'b"c']) == '["a", "b\\"c"]'
    for bad in ("a\nRUN id", "a\rb", "a\x00"):
        for quote in (shell_quote, dockerfile_quote, lambda v: exec_form([v])):
            with pytest.raises(ImagekitError):
                quote(bad)
