"""IK104 on Dockerfiles: a `pip install -r FILE` is judged by what FILE lists when the build context holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagekit.dockerfile import parse
from imagekit.lint.dockerfile_lint import lint_dockerfile, lint_text

HEAD = "FROM python:3.11-slim-bookworm\n"
# the broken BYOC shape of review-lint2 F4: the app and its requirements copied, no `train`/`serve` anywhere
BYOC = (HEAD + "COPY requirements.txt /opt/app/requirements.txt\n"
        "RUN pip install --no-cache-dir -r /opt/app/requirements.txt\n"
        "COPY app.py /opt/app/\n"
        'CMD ["python3", "/opt/app/app.py"]\n')


def ik104(context: Path, dockerfile: str, profile: str, **files: str) -> list[str]:
    """IK104's messages for *dockerfile* written into the build directory *context* beside *files*."""
    for name, text in files.items():
        (context / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (context / name.replace("__", "/")).write_text(text)
    path = context / "Dockerfile"
    path.write_text(dockerfile)
    result = lint_dockerfile(parse(dockerfile, str(path)), profile=profile)
    return [f.message for f in result.findings if f.rule == "IK104"]


@pytest.mark.parametrize("profile", ["train", "serve"])
def test_a_requirements_file_without_a_toolkit_provides_nothing(tmp_path: Path, profile: str) -> None:
    messages = ik104(tmp_path, BYOC, profile, **{"requirements.txt": "flask==3.0.3\n# a comment\n", "app.py": ""})
    assert len(messages) == 1
    assert f"provides `{profile}`" in messages[0] and "/opt/app/requirements.txt" in messages[0]


@pytest.mark.parametrize(("profile", "requirements"), [
    ("train", "sagemaker-training==5.1.4\n"),
    ("train", "numpy\nSageMaker_Training[extra] >= 5 ; python_version > '3.8'  # the toolkit\n"),
    ("train", "sagemaker-pytorch-training==3.0.0 \\\n    --hash=sha256:00\n"),  # it depends on sagemaker-training
    ("serve", "sagemaker-pytorch-inference==2.0.25\n"),
    ("serve", "-r base.txt\n-c constraints.txt\n--index-url https://pypi.org/simple\n"),  # nested file below
    ("train", "-e .\n"),  # a project: its programs are not shown
    ("train", "./wheels/toolkit-1.0-py3-none-any.whl\n"),
    ("train", "git+https://github.com/aws/sagemaker-training-toolkit@v5.1.4\n"),
])
def test_a_requirements_file_that_installs_the_program(tmp_path: Path, profile: str, requirements: str) -> None:
    files = {"requirements.txt": requirements, "base.txt": "sagemaker-mxnet-inference==1.5.5\n"}
    assert ik104(tmp_path, BYOC, profile, **files) == []


@pytest.mark.parametrize("install", [
    # the file reaches the image by a WORKDIR-relative copy, a copy of the whole context, a bind mount
    "WORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
    "COPY . /app\nRUN python3 -m pip install --requirement=/app/deps/requirements.txt\n",
    "COPY deps/ /app/\nRUN pip install -r/app/requirements.txt\n",
    "COPY *.txt /app/\nRUN pip install -r /app/requirements.txt\n",
    "RUN --mount=type=bind,source=deps/requirements.txt,target=/tmp/r.txt pip install -r /tmp/r.txt\n",
])
def test_the_copy_that_brought_the_file_is_followed(tmp_path: Path, install: str) -> None:
    dockerfile = HEAD + install + 'CMD ["python3", "app.py"]\n'
    files = {"requirements.txt": "flask\n", "deps__requirements.txt": "flask\n"}
    assert len(ik104(tmp_path, dockerfile, "serve", **files)) == 1
    files = {"requirements.txt": "sagemaker-training\n", "deps__requirements.txt": "sagemaker-training\n"}
    assert ik104(tmp_path, dockerfile, "train", **files) == []


@pytest.mark.parametrize("install", [
    "RUN pip install -r /opt/app/requirements.txt\n",  # nothing shown brings it (the base, a RUN)
    "ARG REQS=requirements.txt\nCOPY requirements.txt /r/\nRUN pip install -r /r/$REQS\n",
    "RUN pip install -r https://example.com/requirements.txt\n",
    "COPY --from=python:3.11 /opt/requirements.txt /opt/app/requirements.txt\n"
    "RUN pip install -r /opt/app/requirements.txt\n",
    "COPY missing.txt /opt/app/requirements.txt\nRUN pip install -r /opt/app/requirements.txt\n",
    "COPY requirements.txt /r.txt\nRUN pip install -r /r.txt\n",  # requirements.txt -r's a file outside the context
])
def test_a_requirements_file_that_cannot_be_read_may_provide_anything(tmp_path: Path, install: str) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (tmp_path / "outside.txt").write_text("flask\n")
    dockerfile = HEAD + install + 'CMD ["python3", "app.py"]\n'
    files = {"requirements.txt": "-r ../outside.txt\n"} if "/r.txt" in install else {}
    assert ik104(context, dockerfile, "serve", **files) == []


def test_text_not_read_from_a_file_has_no_build_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a Dockerfile and requirements.txt here are not the linted text's context
    (tmp_path / "Dockerfile").write_text(HEAD)
    (tmp_path / "requirements.txt").write_text("flask\n")
    assert [f for f in lint_text(BYOC, profile="serve") if f.rule == "IK104"] == []


@pytest.mark.parametrize(("profile", "package"), [
    ("train", "sagemaker-training==5.1.4"), ("serve", "sagemaker-pytorch-inference==2.0.25"),
    ("serve", "sagemaker-huggingface-inference-toolkit==2.6.0"), ("train", "sagemaker_containers==2.8.6"),
])
def test_a_package_that_ships_the_program_installed_by_name(profile: str, package: str) -> None:
    text = HEAD + f"RUN pip install --no-cache-dir {package}\n"
    assert [f for f in lint_text(text, profile=profile) if f.rule == "IK104"] == []


@pytest.mark.parametrize("install", [
    "pip install --no-cache-dir sagemaker-inference==1.10.1 multi-model-server==1.1.11",  # libraries, no `serve`
    "pip install",
    "pip install -r",
])
def test_an_install_that_provides_no_serve(install: str) -> None:
    text = HEAD + f"RUN {install}\n"
    assert len([f for f in lint_text(text, profile="serve") if f.rule == "IK104"]) == 1
